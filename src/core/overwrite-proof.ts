/**
 * Proof of overwrites. A state keeps a head (the write's digest and signature) for every clock
 * entry no version stands for: it says that write was overwritten. The head's signature proves
 * the write, not that anyone overwrote it, so a state that swaps a standing version for its
 * head would make every node drop that write without anyone having written over it. The
 * proof is in the versions: a write that overwrote another names it in its deps (signed), and
 * in a state merged from honest ones every overwritten write is seen by some version kept
 * (whoever wrote over a write had seen all it had seen). So a received state is taken only if
 * its versions' deps cover every head; a state that claims more is refused.
 *
 * One exception: under a full clock the writer rule (writer-rank.ts) may have dropped the
 * writer whose version was the proof, so there the check cannot be made.
 */
import { MAX_CLOCK_ENTRIES } from './limits.js'
import type { Head, PatternState } from './pattern.js'
import type { NodeId } from './vector-clock.js'

/** Heads of `s` that no version of `s` saw (linear in the state's size). */
export function unprovenHeads (s: PatternState): Head[] {
  if (s.heads.length === 0 || s.clock.size >= MAX_CLOCK_ENTRIES) return []
  const seen = new Map<NodeId, number>()
  for (const v of s.versions) {
    for (const [node, counter] of v.deps) if (counter > (seen.get(node) ?? 0)) seen.set(node, counter)
  }
  return s.heads.filter(h => (seen.get(h.dot.node) ?? 0) < h.dot.counter)
}
