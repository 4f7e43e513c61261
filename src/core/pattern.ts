/**
 * Pattern state as a causal CRDT.
 *
 * Every local write is one event with a unique dot (node, counter). The state keeps
 *  - `clock`: the causal context, every event this state has seen;
 *  - `episodes`: episode id -> the dots of the writes that added it (observed-remove set);
 *  - `versions`: the writes not yet overwritten by a later write that saw them
 *    (a multi-value register: one entry per concurrent version, at most one per node).
 * Confidence, summary and the deleted flag shown to users are derived from `versions`,
 * so the merge never averages averages: three concurrent writes 0.9, 0.5, 0.1 keep three
 * versions and show 0.5 whatever the order they met in.
 * No wall-clock time appears anywhere in the state.
 */
import { compareUtf8, isWellFormedText, utf8Length } from './bytes.js'
import { InvalidPatternError, LimitExceededError } from './errors.js'
import { MAX_EPISODE_ID_BYTES, MAX_EPISODES, MAX_KEY_BYTES, MAX_SUMMARY_BYTES } from './limits.js'
import { advanceClock, type NodeId, type VectorClock, EMPTY_CLOCK } from './vector-clock.js'

export interface Dot {
  readonly node: NodeId
  readonly counter: number
}

/** One write that no later write has overwritten yet. */
export interface Version {
  readonly dot: Dot
  /** True for a delete (tombstone); a tombstone carries no confidence or summary. */
  readonly deleted: boolean
  readonly confidence: number
  readonly summary?: string
}

export interface PatternState {
  readonly key: string
  readonly clock: VectorClock
  /** episode id -> dots of the writes that added it; sorted by node id, one dot per node. */
  readonly episodes: ReadonlyMap<string, readonly Dot[]>
  /** sorted by node id, at most one per node */
  readonly versions: readonly Version[]
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

/** Refuses text that would not survive encoding unchanged (see isWellFormedText). */
function checkText (s: string, what: string): void {
  if (!isWellFormedText(s)) throw new InvalidPatternError(`${what} is not well-formed Unicode (it holds a lone surrogate)`)
}

export function checkKey (key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidPatternError('pattern key must be a non-empty string')
  checkText(key, 'pattern key')
  if (utf8Length(key) > MAX_KEY_BYTES) throw new LimitExceededError(`pattern key is longer than ${MAX_KEY_BYTES} bytes`)
}

export function checkConfidence (c: number): void {
  if (typeof c !== 'number' || !Number.isFinite(c) || c < 0 || c > 1) {
    throw new InvalidPatternError(`confidence must be a number in [0, 1], got ${String(c)}`)
  }
}

function checkEpisodeId (id: string): void {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidPatternError('episode id must be a non-empty string')
  checkText(id, `episode id ${JSON.stringify(id)}`)
  if (utf8Length(id) > MAX_EPISODE_ID_BYTES) throw new LimitExceededError(`episode id is longer than ${MAX_EPISODE_ID_BYTES} bytes`)
}

function checkSummary (s: string): void {
  if (typeof s !== 'string') throw new InvalidPatternError('summary must be a string')
  checkText(s, 'summary')
  if (utf8Length(s) > MAX_SUMMARY_BYTES) throw new LimitExceededError(`summary is longer than ${MAX_SUMMARY_BYTES} bytes`)
}

function liveVersions (s: PatternState): Version[] {
  return s.versions.filter(v => !v.deleted)
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
  for (const v of liveVersions(s)) {
    if (v.summary === undefined) continue
    if (best === undefined || v.confidence > best.confidence ||
      (v.confidence === best.confidence && compareUtf8(v.summary, best.summary as string) > 0)) best = v
  }
  return best?.summary ?? null
}

export function episodesOf (s: PatternState): string[] {
  return [...s.episodes.keys()].sort(compareUtf8)
}

export function viewOf (s: PatternState): PatternView {
  return {
    key: s.key,
    episodes: episodesOf(s),
    confidence: confidenceOf(s),
    summary: summaryOf(s),
    deleted: isDeleted(s),
    versions: s.versions.length
  }
}

/**
 * A local create/update by `node` as event `counter` (which must be newer than every
 * counter this node used before, for any pattern). The new version overwrites every
 * version the state holds, because the writer has seen them all.
 */
export function applyWrite (current: PatternState | undefined, key: string, op: WriteOp, node: NodeId, counter: number): PatternState {
  checkKey(key)
  if (current !== undefined && current.key !== key) throw new InvalidPatternError('state belongs to another key')
  const dot: Dot = { node, counter }
  const episodes = new Map(current?.episodes ?? [])
  for (const id of op.removeEpisodes ?? []) {
    checkEpisodeId(id)
    episodes.delete(id)
  }
  for (const id of op.addEpisodes ?? []) {
    checkEpisodeId(id)
    // re-adding takes a fresh dot, so a concurrent removal of the old add cannot remove it
    episodes.set(id, [dot])
  }
  if (episodes.size > MAX_EPISODES) throw new LimitExceededError(`a pattern holds at most ${MAX_EPISODES} episodes`)

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
  const version: Version = summary === undefined
    ? { dot, deleted: false, confidence }
    : { dot, deleted: false, confidence, summary }
  return {
    key,
    clock: advanceClock(current?.clock ?? EMPTY_CLOCK, node, counter),
    episodes,
    versions: [version]
  }
}

/**
 * A local delete: removes every episode and version it has seen and leaves a tombstone
 * (the clock plus a deleted version) so that a stale copy cannot bring the pattern back.
 * A write concurrent with the delete survives it, with the episodes it added.
 */
export function applyDelete (current: PatternState, node: NodeId, counter: number): PatternState {
  return {
    key: current.key,
    clock: advanceClock(current.clock, node, counter),
    episodes: new Map(),
    versions: [{ dot: { node, counter }, deleted: true, confidence: 0 }]
  }
}

/** Largest counter `node` has used in this state (0 if none). */
export function highestCounterOf (s: PatternState, node: NodeId): number {
  return s.clock.get(node) ?? 0
}
