/**
 * The writer rule: which writers a pattern keeps when more than MAX_CLOCK_ENTRIES nodes have
 * written it. Every clock entry costs a signed head, so a state cannot grow with its writers
 * for ever, and a join must still give a state every node can store. The rule: a key keeps the
 * writes of its MAX_CLOCK_ENTRIES lowest-ranked writers, a writer's rank being a hash of the key
 * and its node id; the others' writes (versions, heads, clock entries) are dropped.
 *
 * Why it is a join: the kept set is a function of the set of all writers a state has met, and
 * the lowest-ranked of a union are the lowest-ranked of the two sides' lowest-ranked. So a state
 * needs no memory of whom it dropped: while its clock is full, every writer ranked after the
 * last one it keeps is out, and stays out, because later writers can only lower that bar.
 * The rank hashes the key in so that one node is not the one left out of every crowded key.
 */
import { compareBytes, utf8 } from './bytes.js'
import { sha256 } from './hash.js'
import { MAX_CLOCK_ENTRIES } from './limits.js'
import type { PatternState } from './pattern.js'
import type { NodeId, VectorClock } from './vector-clock.js'

const RANK_DOMAIN = utf8('engram/writer-rank/1\n')
const SEPARATOR = new Uint8Array([0])

/** A writer's rank on a key: lower ranks are kept first. */
export function writerRank (key: string, node: NodeId): Uint8Array {
  return sha256(RANK_DOMAIN, utf8(key), SEPARATOR, utf8(node))
}

function byRank (key: string, nodes: Iterable<NodeId>): Array<{ node: NodeId, rank: Uint8Array }> {
  return [...nodes].map(node => ({ node, rank: writerRank(key, node) })).sort((x, y) => compareBytes(x.rank, y.rank))
}

/** The writers a state that has met all of `nodes` keeps: all of them, or the lowest-ranked MAX_CLOCK_ENTRIES. */
export function keptWriters (key: string, nodes: ReadonlySet<NodeId>): ReadonlySet<NodeId> {
  if (nodes.size <= MAX_CLOCK_ENTRIES) return nodes
  return new Set(byRank(key, nodes).slice(0, MAX_CLOCK_ENTRIES).map(e => e.node))
}

/** The highest-ranked writer of a full clock (the next to go), or undefined while the clock has room. */
export function lastKeptWriter (key: string, clock: VectorClock): { node: NodeId, rank: Uint8Array } | undefined {
  if (clock.size < MAX_CLOCK_ENTRIES) return undefined
  return byRank(key, clock.keys()).at(-1)
}

/** Writers the clocks `before` named that `after` (their merge) no longer keeps. */
export function writersDropped (before: readonly VectorClock[], after: VectorClock): NodeId[] {
  if (after.size < MAX_CLOCK_ENTRIES) return []
  const out = new Set<NodeId>()
  for (const c of before) for (const node of c.keys()) if (!after.has(node)) out.add(node)
  return [...out]
}

/** The state without the writes (versions, heads, clock entries) of writers outside `keep`. */
export function keepWriters (s: PatternState, keep: ReadonlySet<string>): PatternState {
  if ([...s.clock.keys()].every(node => keep.has(node))) return s
  return {
    key: s.key,
    clock: new Map([...s.clock].filter(([node]) => keep.has(node))),
    versions: s.versions.filter(v => keep.has(v.dot.node)),
    heads: s.heads.filter(h => keep.has(h.dot.node))
  }
}
