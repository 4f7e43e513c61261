/**
 * The join of two pattern states. For dotted items (episode adds, versions) the rule is
 * the causal-CRDT join: keep an item if both states hold it, or if one holds it and the
 * other has not seen its dot. An item the other state has seen but no longer holds was
 * overwritten or removed there, so it goes. Clocks join pointwise.
 *
 * This is commutative, associative and idempotent, so replicas that receive the same
 * states in any order, with duplicates, end in the same state (and the same bytes).
 */
import { compareUtf8 } from './bytes.js'
import { KeyMismatchError } from './errors.js'
import { type Dot, type PatternState, type Version, compareDots } from './pattern.js'
import { compareClocks, covers, joinClocks, type VectorClock } from './vector-clock.js'

/** How an incoming state relates to the local one. */
export type MergeKind = 'new' | 'newer' | 'older' | 'equal' | 'concurrent'

/** A dot as a map key. */
export function dotKey (d: Dot): string {
  return `${d.counter}@${d.node}`
}

function joinDots (a: readonly Dot[], ac: VectorClock, b: readonly Dot[], bc: VectorClock): Dot[] {
  const inB = new Set(b.map(dotKey))
  const inA = new Set(a.map(dotKey))
  const out: Dot[] = []
  for (const d of a) {
    if (inB.has(dotKey(d)) || !covers(bc, d.node, d.counter)) out.push(d)
  }
  for (const d of b) {
    if (!inA.has(dotKey(d)) && !covers(ac, d.node, d.counter)) out.push(d)
  }
  return out.sort(compareDots)
}

/** Deterministic order on versions, used only if two states disagree about one dot's content. */
function compareVersionContent (x: Version, y: Version): number {
  if (x.deleted !== y.deleted) return x.deleted ? 1 : -1
  if (x.confidence !== y.confidence) return x.confidence - y.confidence
  return compareUtf8(x.summary ?? '', y.summary ?? '') || (x.summary === undefined ? 0 : 1) - (y.summary === undefined ? 0 : 1)
}

function joinVersions (a: readonly Version[], ac: VectorClock, b: readonly Version[], bc: VectorClock): Version[] {
  const bByDot = new Map(b.map(v => [dotKey(v.dot), v]))
  const aByDot = new Map(a.map(v => [dotKey(v.dot), v]))
  const out: Version[] = []
  for (const v of a) {
    const other = bByDot.get(dotKey(v.dot))
    if (other !== undefined) {
      // same dot means same write; if a faulty peer disagrees, both sides still pick the same one
      out.push(compareVersionContent(v, other) >= 0 ? v : other)
    } else if (!covers(bc, v.dot.node, v.dot.counter)) {
      out.push(v)
    }
  }
  for (const v of b) {
    if (!aByDot.has(dotKey(v.dot)) && !covers(ac, v.dot.node, v.dot.counter)) out.push(v)
  }
  return out.sort((x, y) => compareDots(x.dot, y.dot))
}

/** The least upper bound of two states of the same pattern. */
export function mergePatterns (a: PatternState, b: PatternState): PatternState {
  if (a.key !== b.key) throw new KeyMismatchError(`cannot merge pattern ${JSON.stringify(a.key)} with ${JSON.stringify(b.key)}`)
  if (a === b) return a
  const episodes = new Map<string, readonly Dot[]>()
  const ids = new Set([...a.episodes.keys(), ...b.episodes.keys()])
  for (const id of [...ids].sort(compareUtf8)) {
    const dots = joinDots(a.episodes.get(id) ?? [], a.clock, b.episodes.get(id) ?? [], b.clock)
    if (dots.length > 0) episodes.set(id, dots)
  }
  return {
    key: a.key,
    clock: joinClocks(a.clock, b.clock),
    episodes,
    versions: joinVersions(a.versions, a.clock, b.versions, b.clock)
  }
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
