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
 * Two exceptions, where the proof may be gone from an honest state: under a full clock the
 * writer rule (writer-rank.ts) may have dropped the writer whose version was the proof; and a
 * version kept without its deps (content-rule.ts, keepsDeps) proves nothing, so a state holding
 * one whose deps the rule must have left out (its own count of them, times the writers standing,
 * is over the deps budget) is taken without the check.
 */
import { minDepsWeight } from './content-rule.js'
import { DEPS_BUDGET, MAX_CLOCK_ENTRIES } from './limits.js'
import type { Head, PatternState } from './pattern.js'
import type { NodeId } from './vector-clock.js'

/** Heads of `s` that no version of `s` saw (linear in the state's size). */
export function unprovenHeads (s: PatternState): Head[] {
  if (s.heads.length === 0 || s.clock.size >= MAX_CLOCK_ENTRIES) return []
  const seen = new Map<NodeId, number>()
  for (const v of s.versions) {
    for (const [node, counter] of v.deps) if (counter > (seen.get(node) ?? 0)) seen.set(node, counter)
  }
  const unproven = s.heads.filter(h => (seen.get(h.dot.node) ?? 0) < h.dot.counter)
  return unproven.length === 0 || depsSurelyLeftOut(s) ? [] : unproven
}

/**
 * Whether `s` holds a version whose deps the rule left out for sure: its concurrent writers
 * include at least the other writers standing, and its deps weigh at least their count's worth.
 */
function depsSurelyLeftOut (s: PatternState): boolean {
  const standing = new Set(s.versions.map(v => v.dot.node)).size
  return s.versions.some(v => v.depsOmitted !== undefined && standing * minDepsWeight(v.depsOmitted.entries) > DEPS_BUDGET)
}
