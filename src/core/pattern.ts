/**
 * Pattern state as a causal CRDT of signed writes.
 *
 * Every local write is one event with a unique dot (node, counter), signed by its author.
 * A write is whole: it carries what its author had seen of the key (`deps`), and the full
 * result (deleted flag, confidence, summary, episode set). The state keeps
 *  - `clock`: the causal context, every write this state has seen;
 *  - `versions`: the writes not yet overwritten by a later write that saw them (a
 *    multi-value register: one entry per concurrent write), each with its signature;
 *  - `heads`: for every clock entry whose write was overwritten, that write's body digest
 *    and signature, so that what the clock claims about each node stays checkable.
 * Episodes, confidence, summary and the deleted flag shown to users derive from the versions:
 * concurrent versions are united (episodes) and averaged (confidence), so the merge never
 * averages averages: three concurrent writes 0.9, 0.5, 0.1 show 0.5 whatever the order.
 * No wall-clock time appears anywhere in the state.
 */
import { compareBytes, compareUtf8 } from './bytes.js'
import { InvalidPatternError, LimitExceededError } from './errors.js'
import { CONTENT_BUDGET, MAX_CLOCK_ENTRIES, MAX_EPISODES } from './limits.js'
import { advanceClock, type NodeId, type VectorClock, EMPTY_CLOCK } from './vector-clock.js'
import { bodyDigest, contentOf, shareDigests, type VersionBody, writeMessage } from './write-digest.js'
import { keepWriters, lastKeptWriter, writerRank } from './writer-rank.js'
import { checkConfidence, checkEpisodeId, checkKey, checkSummary } from './write-checks.js'

export interface Dot {
  readonly node: NodeId
  readonly counter: number
}

/** One write of a key, named by its dot: what a merge reports about single writes. */
export interface KeyedWrite {
  key: string
  dot: Dot
}

/** One signed write that no later write has overwritten yet. */
export interface Version {
  readonly dot: Dot
  /** what the author had seen of this key when it wrote (its own earlier writes included) */
  readonly deps: VectorClock
  /** True for a delete (tombstone); a tombstone carries no confidence, summary or episodes. */
  readonly deleted: boolean
  readonly confidence: number
  readonly summary?: string
  /** the full episode set after this write, sorted by UTF-8 bytes */
  readonly episodes: readonly string[]
  /** the author's signature of writeMessage(key, dot, bodyDigest(this)) */
  readonly sig: Uint8Array
  /**
   * set when the version is kept without its content (summary and episodes: then absent), by the
   * rule in keepsContent; its size and digest stay, so its signature still checks
   */
  readonly stripped?: { readonly bytes: number, readonly digest: Uint8Array, readonly hasSummary: boolean }
  /** set for writes signed with body v3 (write-digest.ts), which names the deps by count and digest; unset for v2 */
  readonly depsByDigest?: true
  /** set when a v3 version is kept without its deps (`deps` is then empty), by the rule in keepsDeps */
  readonly depsOmitted?: { readonly entries: number, readonly digest: Uint8Array }
}

/** An overwritten write, kept as proof of the clock entry that names it. */
export interface Head {
  readonly dot: Dot
  /** bodyDigest of the write */
  readonly body: Uint8Array
  readonly sig: Uint8Array
}

export interface PatternState {
  readonly key: string
  readonly clock: VectorClock
  /** sorted by dot; no version's dot is covered by another's deps */
  readonly versions: readonly Version[]
  /** sorted by node: one per clock entry that no version stands for */
  readonly heads: readonly Head[]
}

/** Signs the 32-byte write message with this node's key (Ed25519 in a node; any bytes in core tests). */
export type SignFn = (message: Uint8Array) => Uint8Array

/** Who writes: the node id a dot names, and its key. */
export interface Author {
  readonly node: NodeId
  readonly sign: SignFn
}

/** What a user sees of a pattern. */
export interface PatternView {
  key: string
  episodes: string[]
  confidence: number
  summary: string | null
  deleted: boolean
  /** number of concurrent versions the displayed values derive from */
  versions: number
  /** of those, the ones kept without their summary and episodes (concurrent writes over the size limit: see keepsContent) */
  versionsWithoutContent: number
}

export interface WriteOp {
  addEpisodes?: readonly string[]
  removeEpisodes?: readonly string[]
  /** required when the pattern does not exist (or is deleted) */
  confidence?: number
  /** a string sets it, null clears it, undefined keeps the current one */
  summary?: string | null
}

export function compareDots (a: Dot, b: Dot): number {
  return compareUtf8(a.node, b.node) || a.counter - b.counter
}

function liveVersions (s: PatternState): Version[] {
  return s.versions.filter(v => !v.deleted)
}

/** Live versions whose content (summary, episodes) the state holds. */
function withContent (s: PatternState): Version[] {
  return s.versions.filter(v => !v.deleted && v.stripped === undefined)
}

/** Deleted when every surviving version is a tombstone: a delete loses to any write it did not see. */
export function isDeleted (s: PatternState): boolean {
  return liveVersions(s).length === 0
}

/** Mean of the live concurrent versions, summed in canonical order so every node gets the same float. */
export function confidenceOf (s: PatternState): number {
  const live = liveVersions(s)
  if (live.length === 0) return 0
  let sum = 0
  for (const v of live) sum += v.confidence
  return sum / live.length
}

/**
 * Summary of concurrent versions: the one of the version with the highest confidence,
 * ties broken by the larger summary in byte order. Any deterministic choice is a join
 * here because it is a function of the (joined) version set.
 */
export function summaryOf (s: PatternState): string | null {
  let best: Version | undefined
  for (const v of withContent(s)) {
    if (v.summary === undefined) continue
    if (best === undefined || v.confidence > best.confidence ||
      (v.confidence === best.confidence && compareUtf8(v.summary, best.summary as string) > 0)) best = v
  }
  return best?.summary ?? null
}

/** Union of the episode sets of the live concurrent versions, in canonical order. */
export function episodesOf (s: PatternState): string[] {
  const live = withContent(s)
  if (live.length === 1) return [...(live[0] as Version).episodes]
  const ids = new Set<string>()
  for (const v of live) for (const id of v.episodes) ids.add(id)
  return [...ids].sort(compareUtf8)
}

export function viewOf (s: PatternState): PatternView {
  return {
    key: s.key,
    episodes: episodesOf(s),
    confidence: confidenceOf(s),
    summary: summaryOf(s),
    deleted: isDeleted(s),
    versions: s.versions.length,
    versionsWithoutContent: s.versions.filter(v => v.stripped !== undefined).length
  }
}

/**
 * A local create/update by `author` as event `counter` (which must be newer than every
 * counter this node used before, for any pattern). The new version overwrites every
 * version the state holds, because the writer has seen them all; it holds the full episode
 * set it leaves (the union it saw, with `op` applied).
 */
export function applyWrite (current: PatternState | undefined, key: string, op: WriteOp, author: Author, counter: number): PatternState {
  checkKey(key)
  if (current !== undefined && current.key !== key) throw new InvalidPatternError('state belongs to another key')
  const episodes = new Set(current === undefined ? [] : episodesOf(current))
  for (const id of op.removeEpisodes ?? []) {
    checkEpisodeId(id)
    episodes.delete(id)
  }
  for (const id of op.addEpisodes ?? []) {
    checkEpisodeId(id)
    episodes.add(id)
  }
  if (episodes.size > MAX_EPISODES) {
    throw new LimitExceededError(`a pattern holds at most ${MAX_EPISODES} episodes; this write would leave ${episodes.size}` +
      (current !== undefined && current.versions.length > 1 ? ' (concurrent writers together brought more): remove some in the same write' : ''))
  }

  const exists = current !== undefined && !isDeleted(current)
  let confidence: number
  if (op.confidence !== undefined) {
    checkConfidence(op.confidence)
    confidence = op.confidence === 0 ? 0 : op.confidence // no -0 in state
  } else if (exists) {
    confidence = confidenceOf(current)
  } else {
    throw new InvalidPatternError(`pattern ${JSON.stringify(key)} does not exist: a confidence is required to create it`)
  }
  let summary: string | undefined
  if (op.summary === undefined) summary = exists ? summaryOf(current) ?? undefined : undefined
  else if (op.summary === null) summary = undefined
  else {
    checkSummary(op.summary)
    summary = op.summary
  }
  const body: VersionBody = {
    deps: current?.clock ?? EMPTY_CLOCK,
    depsByDigest: true,
    deleted: false,
    confidence,
    ...(summary === undefined ? {} : { summary }),
    episodes: [...episodes].sort(compareUtf8)
  }
  const bytes = contentOf(body).bytes
  if (bytes > CONTENT_BUDGET) {
    throw new LimitExceededError(`the summary and episode ids of one write take at most ${CONTENT_BUDGET} bytes; this one would take ${bytes}`)
  }
  return overwrite(current, key, body, author, counter)
}

/**
 * A local delete: overwrites every version it has seen with a tombstone (the clock plus a
 * deleted version), so that a stale copy cannot bring the pattern back. A write concurrent
 * with the delete survives it.
 */
export function applyDelete (current: PatternState, author: Author, counter: number): PatternState {
  return overwrite(current, current.key, { deps: current.clock, depsByDigest: true, deleted: true, confidence: 0, episodes: [] }, author, counter)
}

/** The state after a write that saw all of `current`: one signed version, heads for the rest. */
function overwrite (previous: PatternState | undefined, key: string, body: VersionBody, author: Author, counter: number): PatternState {
  const current = previous === undefined ? undefined : makeRoomFor(previous, author.node)
  const dot: Dot = { node: author.node, counter }
  const clock = advanceClock(current?.clock ?? EMPTY_CLOCK, author.node, counter)
  const version: Version = { dot, ...body, sig: author.sign(writeMessage(key, dot, bodyDigest(body))) }
  shareDigests(body, version)
  const heads: Head[] = []
  if (current !== undefined) {
    for (const h of headsOf(current)) if (h.dot.node !== author.node) heads.push(h)
  }
  return { key, clock, versions: [version], heads }
}

/**
 * The state a new writer's write starts from when the pattern already has all the writers it
 * keeps: without the last-ranked one (whose write this one overwrites, and names in its deps), or
 * a refusal when the new writer ranks after all of them (writer-rank.ts).
 */
function makeRoomFor (s: PatternState, node: NodeId): PatternState {
  if (s.clock.has(node)) return s
  const last = lastKeptWriter(s.key, s.clock)
  if (last === undefined) return s
  if (compareBytes(writerRank(s.key, node), last.rank) > 0) {
    throw new LimitExceededError(`pattern ${JSON.stringify(s.key)} has had more than ${MAX_CLOCK_ENTRIES} writers, and keeps the ` +
      `${MAX_CLOCK_ENTRIES} that rank first for it; this node ranks after them, so it cannot write this pattern (README, "Limits")`)
  }
  return keepWriters(s, new Set([...s.clock.keys()].filter(n => n !== last.node)))
}

/** One head per clock entry: the state's heads, and its versions that stand for a clock entry, as heads. */
export function headsOf (s: PatternState): Head[] {
  const out: Head[] = [...s.heads]
  for (const v of s.versions) {
    if (s.clock.get(v.dot.node) === v.dot.counter) out.push(headOf(v))
  }
  return out.sort((x, y) => compareUtf8(x.dot.node, y.dot.node))
}

export function headOf (v: Version): Head {
  return { dot: v.dot, body: bodyDigest(v), sig: v.sig }
}

/** Largest counter `node` has used in this state (0 if none). */
export function highestCounterOf (s: PatternState, node: NodeId): number {
  return s.clock.get(node) ?? 0
}
