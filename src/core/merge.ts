/**
 * The join of two pattern states: the causal-CRDT join of their version sets. Keep a
 * version if both states hold it, or if one holds it and the other has not seen its dot.
 * A version the other state has seen but no longer holds was overwritten there, so it goes.
 * Clocks join pointwise, and every clock entry no version stands for keeps its write's head.
 *
 * This is commutative, associative and idempotent, so replicas that receive the same
 * states in any order, with duplicates, end in the same state (and the same bytes).
 * Two different writes under one dot (an equivocation: only its author can sign both)
 * resolve to the one with the larger body digest, on every node. One write may also come with
 * two signatures that both check (its author can sign it again with another nonce: an Ed25519
 * check does not make a signature unique); its copies keep the larger one, on every node.
 */
import { compareBytes } from './bytes.js'
import { KeyMismatchError } from './errors.js'
import { canonicalVersions, unitedCopies } from './content-rule.js'
import { MAX_CLOCK_ENTRIES } from './limits.js'
import { compareDots, type Dot, type Head, headOf, type PatternState, type Version } from './pattern.js'
import { compareClocks, covers, joinClocks, sortedNodeIds, type VectorClock } from './vector-clock.js'
import { bodyDigest, shareDigests } from './write-digest.js'
import { keepWriters, keptWriters } from './writer-rank.js'

/** How an incoming state relates to the local one. */
export type MergeKind = 'new' | 'newer' | 'older' | 'equal' | 'concurrent'

/** A dot as a map key. */
export function dotKey (d: Dot): string {
  return `${d.counter}@${d.node}`
}

/**
 * Of two writes under one dot, the one every node keeps; of two copies of one write, what both
 * hold, under the larger signature (else two nodes holding one write signed twice would each keep
 * their own copy, and never agree).
 */
function pickVersion (x: Version, y: Version): Version {
  if (x === y) return x
  const order = compareBytes(bodyDigest(x), bodyDigest(y))
  if (order !== 0) return order > 0 ? x : y
  const united = unitedCopies(x, y)
  const sig = compareBytes(x.sig, y.sig) >= 0 ? x.sig : y.sig
  if (compareBytes(united.sig, sig) === 0) return united
  const out: Version = { ...united, sig }
  shareDigests(united, out)
  return out
}

/** Of two heads under one dot: the larger body digest, then (one write signed twice) the larger signature. */
function pickHead (x: Head, y: Head): Head {
  const order = compareBytes(x.body, y.body)
  return (order !== 0 ? order : compareBytes(x.sig, y.sig)) >= 0 ? x : y
}

function joinVersions (a: readonly Version[], ac: VectorClock, b: readonly Version[], bc: VectorClock): Version[] {
  const bByDot = new Map(b.map(v => [dotKey(v.dot), v]))
  const aByDot = new Map(a.map(v => [dotKey(v.dot), v]))
  const out: Version[] = []
  for (const v of a) {
    const other = bByDot.get(dotKey(v.dot))
    if (other !== undefined) out.push(pickVersion(v, other))
    else if (!covers(bc, v.dot.node, v.dot.counter)) out.push(v)
  }
  for (const v of b) {
    if (!aByDot.has(dotKey(v.dot)) && !covers(ac, v.dot.node, v.dot.counter)) out.push(v)
  }
  return out.sort((x, y) => compareDots(x.dot, y.dot))
}

/**
 * Heads of the joined clock: for each entry no kept version stands for, the write it names,
 * from either side (a head, or a version that was overwritten in the join).
 */
function joinHeads (a: PatternState, b: PatternState, clock: VectorClock, versions: readonly Version[]): Head[] {
  const standing = new Set(versions.map(v => dotKey(v.dot)))
  const found = new Map<string, Head>()
  const offer = (h: Head): void => {
    if (clock.get(h.dot.node) !== h.dot.counter || standing.has(dotKey(h.dot))) return
    const have = found.get(h.dot.node)
    found.set(h.dot.node, have === undefined ? h : pickHead(have, h))
  }
  for (const s of [a, b]) {
    for (const h of s.heads) offer(h)
    for (const v of s.versions) offer(headOf(v))
  }
  const out: Head[] = []
  for (const node of sortedNodeIds(clock)) {
    const h = found.get(node)
    if (h !== undefined) out.push(h)
  }
  return out
}

/** The writers of both clocks when they are more than a state keeps, else undefined (the common case, without a set). */
function writersOfBoth (a: VectorClock, b: VectorClock): ReadonlySet<string> | undefined {
  let n = a.size
  for (const node of b.keys()) if (!a.has(node)) n++
  if (n <= MAX_CLOCK_ENTRIES) return undefined
  return new Set([...a.keys(), ...b.keys()])
}

/** The least upper bound of two states of the same pattern. */
export function mergePatterns (a: PatternState, b: PatternState): PatternState {
  if (a.key !== b.key) throw new KeyMismatchError(`cannot merge pattern ${JSON.stringify(a.key)} with ${JSON.stringify(b.key)}`)
  if (a === b) return a
  const writers = writersOfBoth(a.clock, b.clock)
  if (writers === undefined) return joinStates(a, b)
  // more writers than a state keeps: both sides give up the same ones first (writer-rank.ts)
  const keep = keptWriters(a.key, writers)
  return joinStates(keepWriters(a, keep), keepWriters(b, keep))
}

function joinStates (a: PatternState, b: PatternState): PatternState {
  const clock = joinClocks(a.clock, b.clock)
  // kept with or without deps and content by the clock they now sit under (content-rule.ts: the same on every node)
  const versions = canonicalVersions(joinVersions(a.versions, a.clock, b.versions, b.clock), clock)
  return { key: a.key, clock, versions, heads: joinHeads(a, b, clock, versions) }
}

/** Relation of `incoming` to `local` by their clocks. */
export function classifyMerge (local: PatternState | undefined, incoming: PatternState): MergeKind {
  if (local === undefined) return 'new'
  switch (compareClocks(incoming.clock, local.clock)) {
    case 'after': return 'newer'
    case 'before': return 'older'
    case 'equal': return 'equal'
    default: return 'concurrent'
  }
}

export interface MergeOutcome {
  state: PatternState
  kind: MergeKind
}

/** Merges an incoming state into the local one (which may be missing). */
export function mergeIncoming (local: PatternState | undefined, incoming: PatternState): MergeOutcome {
  const kind = classifyMerge(local, incoming)
  if (local === undefined) return { state: incoming, kind }
  return { state: mergePatterns(local, incoming), kind }
}
