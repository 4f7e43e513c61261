/**
 * The pure part of merging a set of received states: which are copies of what we store,
 * the join per key (or this node's write over a join it would not keep: repair-write.ts), and
 * what to store. One state that cannot be merged is skipped with its error and never stops the
 * others. Replica.mergeRemote reads, writes and emits around it.
 */
import { patternDigest } from '../core/encoding.js'
import { mergeIncoming, type MergeKind } from '../core/merge.js'
import { type DoubleSignature, type Equivocation, findWriterFaults } from '../core/equivocation.js'
import { CounterOutOfRangeError, UnprovenOverwriteError } from '../core/errors.js'
import { unprovenHeads } from '../core/overwrite-proof.js'
import { MAX_COUNTER, OWN_COUNTER_HEADROOM } from '../core/limits.js'
import { type Author, highestCounterOf, type KeyedWrite, type PatternState } from '../core/pattern.js'
import { repairWrite } from '../core/repair-write.js'
import type { NodeId } from '../core/vector-clock.js'
import { writersDropped } from '../core/writer-rank.js'
import { prepareEncoded, prepareMerged, type PreparedState } from './prepare.js'

/** A received state that was not merged: the merge failed or made a state no node could decode. */
export interface SkippedState {
  key: string
  error: Error
}

/** What the store's index gives: whether it holds a key hash, and with which digest (compared in place). */
interface DigestIndex {
  has(kh: Uint8Array): boolean
  holds(kh: Uint8Array, digest: Uint8Array): boolean
}

/**
 * Per received state: is it exactly what we store? A forwarded push or a repeat is known by
 * its digest: no read, no merge, no encode (the join is idempotent).
 */
export function sameAsStored (index: DigestIndex, khs: readonly Uint8Array[], encoded: readonly Uint8Array[] | undefined): boolean[] {
  return khs.map((kh, n) => {
    const bytes = encoded?.[n]
    return bytes !== undefined && index.has(kh) && index.holds(kh, patternDigest(bytes))
  })
}

export interface MergeSetInput {
  states: readonly PatternState[]
  /** encoded[n]: the bytes states[n] was decoded from, if it came over the wire */
  encoded: readonly Uint8Array[] | undefined
  /** khs[n] = keyHash(states[n].key) */
  khs: readonly Uint8Array[]
  /** sameAsStored's answer */
  same: readonly boolean[]
  index: DigestIndex
  /** the stored states of the keys that are stored and not `same` */
  stored: ReadonlyMap<string, PatternState | undefined>
  nodeId: NodeId
  counter: number
  /**
   * This node as a writer, if it may write over a join it would not keep (repair-write.ts); without
   * it, such a merge is skipped. Left out while the node's counter is unconfirmed (counter-gate.ts).
   */
  repairAs?: Author | undefined
}

export interface MergeSetResult {
  /** what to store: the states that change what is stored */
  changed: PreparedState[]
  kinds: Record<MergeKind, number>
  skipped: SkippedState[]
  /** writes received with another content than the one we hold (resolved by the join; reported) */
  equivocations: Equivocation[]
  /** writes received under another signature than the one we hold (resolved by the join; reported) */
  doubleSigned: DoubleSignature[]
  /** our counter, raised past any dot of ours a merged state names, and past our repairs */
  counter: number
  /** the highest of our counter and the dots of ours the states named (the counter before repairs) */
  named: number
  /** keys whose join this node wrote over (repair-write.ts), with the write's dot */
  repaired: Repair[]
  /** keys whose merge left writers out by the writer rule (writer-rank.ts), and whom */
  dropped: DroppedWriters[]
}

/** A key whose join this node wrote over, and that write's dot. */
export type Repair = KeyedWrite

export interface DroppedWriters {
  key: string
  writers: NodeId[]
}

export function mergeSet (input: MergeSetInput): MergeSetResult {
  const { states, encoded, khs, same, index, stored, nodeId } = input
  const kinds: Record<MergeKind, number> = { new: 0, newer: 0, older: 0, equal: 0, concurrent: 0 }
  // per key: the merged state, its key hash and, for a state new to us, the bytes it came in
  // (stored exactly as received: no re-encode; bulk pulls are all new)
  // (and what was merged into it: the sides a repair takes its content from)
  const merged = new Map<string, Merged>()
  const skipped = new Map<string, Error>()
  const skip = (key: string, err: unknown): void => { skipped.set(key, err instanceof Error ? err : new Error(String(err))) }
  const equivocations: Equivocation[] = []
  const doubleSigned: DoubleSignature[] = []
  const dropped: DroppedWriters[] = []
  let counter = input.counter
  states.forEach((incoming, n) => {
    if (same[n] === true) {
      kinds.equal++
      return
    }
    if (skipped.has(incoming.key)) return
    const own = highestCounterOf(incoming, nodeId)
    if (own > MAX_COUNTER - OWN_COUNTER_HEADROOM) {
      skip(incoming.key, new CounterOutOfRangeError(`it names event ${own} of this node: taking it would leave this node ` +
        `fewer than ${OWN_COUNTER_HEADROOM} writes (a forged or corrupt clock)`))
      return
    }
    const unproven = unprovenHeads(incoming)[0]
    if (unproven !== undefined) {
      skip(incoming.key, new UnprovenOverwriteError(`it says write ${unproven.dot.counter}@${unproven.dot.node} was overwritten, ` +
        'but holds no write that saw it (a state that drops a write nobody wrote over)'))
      return
    }
    const local = merged.get(incoming.key)?.state ?? stored.get(incoming.key)
    try {
      if (local !== undefined) {
        const faults = findWriterFaults(local, incoming)
        equivocations.push(...faults.equivocations)
        doubleSigned.push(...faults.doubleSigned)
      }
      const { state, kind } = mergeIncoming(local, incoming)
      kinds[kind]++
      const writers = local === undefined ? [] : writersDropped([local.clock, incoming.clock], state.clock)
      if (writers.length > 0) dropped.push({ key: incoming.key, writers })
      // a state new to us is its own only side: no list for it (a bulk pull is all new)
      const sides = local === undefined ? undefined : [...(merged.get(incoming.key)?.sides ?? [local]), incoming]
      merged.set(incoming.key, { state, kh: khs[n] as Uint8Array, bytes: kind === 'new' ? encoded?.[n] : undefined, sides })
      counter = Math.max(counter, own)
    } catch (err) {
      skip(incoming.key, err)
    }
  })
  const named = counter
  const changed: PreparedState[] = []
  const repaired: Repair[] = []
  for (const [key, m] of merged) {
    if (skipped.has(key)) continue
    try {
      // a state new to us comes as bytes the decoder took; one a merge made must decode too
      let prepared: PreparedState
      if (m.bytes !== undefined) prepared = prepareEncoded(m.state, m.bytes, m.kh)
      else {
        const join = prepareJoin(m, input.repairAs, counter + 1)
        prepared = join.prepared
        if (join.repaired) repaired.push({ key, dot: { node: (input.repairAs as Author).node, counter: ++counter } })
      }
      if (!index.holds(m.kh, prepared.digest)) changed.push(prepared)
    } catch (err) {
      skip(key, err)
    }
  }
  return { changed, kinds, counter, named, equivocations, doubleSigned, dropped, repaired, skipped: [...skipped].map(([key, error]) => ({ key, error })) }
}

interface Merged {
  state: PatternState
  kh: Uint8Array
  bytes: Uint8Array | undefined
  /** undefined: the state alone */
  sides: PatternState[] | undefined
}

/**
 * A merged state as stored; or, where the join is not one to keep (it would not decode, or it
 * keeps heads no version saw, which peers refuse) and `author` may write, its write over the
 * join as event `counter` (repair-write.ts). If that write cannot be made (a full clock ranks
 * this node out), the join is kept if it decodes, and its own error is thrown if not.
 */
function prepareJoin (m: Merged, author: Author | undefined, counter: number): { prepared: PreparedState, repaired: boolean } {
  let join: PreparedState | undefined
  let failure: unknown
  try {
    join = prepareMerged(m.state, m.kh)
  } catch (err) {
    failure = err
  }
  if (join !== undefined && (author === undefined || unprovenHeads(m.state).length === 0)) return { prepared: join, repaired: false }
  if (author !== undefined) {
    try {
      return { prepared: prepareMerged(repairWrite(m.state, m.sides ?? [m.state], author, counter), m.kh), repaired: true }
    } catch {
      // the join's own error (below) says more than the repair's
    }
  }
  if (join === undefined) throw failure
  return { prepared: join, repaired: false }
}
