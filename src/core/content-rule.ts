/**
 * The rule that keeps every merge within a pattern's limits: which concurrent versions keep
 * their content (summary, episodes) and which are kept as signed headers. Its reasons are in
 * keepsContent; docs/protocol.md, "Merges within the limits", states it for other implementations.
 */
import { CONTENT_BUDGET } from './limits.js'
import type { Version } from './pattern.js'
import type { VectorClock } from './vector-clock.js'
import { contentOf } from './write-digest.js'

/**
 * Writers the clock knows of past what `v` had seen: for a version no one overwrote, every
 * one of them wrote concurrently with it. Grows with the clock, never shrinks.
 */
export function concurrentWriters (v: Version, clock: VectorClock): number {
  let n = 0
  for (const [node, counter] of clock) {
    if (node !== v.dot.node && counter > (v.deps.get(node) ?? 0)) n++
  }
  return n
}

/**
 * Whether a state with this clock keeps `v` with its content. The rule that keeps every merge
 * within the limits: a version keeps its content while (its concurrent writers + 1) × its
 * content bytes fit CONTENT_BUDGET, so the versions that keep theirs never exceed it together.
 * It depends only on the version and the clock, and once false it stays false as the clock
 * grows, so every node strips the same versions whatever order the states met in (the merge
 * stays a join); a later write that saw the pattern replaces them all.
 */
export function keepsContent (v: Version, clock: VectorClock): boolean {
  if (v.deleted) return true
  return (concurrentWriters(v, clock) + 1) * contentOf(v).bytes <= CONTENT_BUDGET
}

/** The version without its content: who, when, deleted or not, confidence, and its content's size and digest. */
export function stripContent (v: Version): Version {
  if (v.stripped !== undefined || v.deleted) return v
  const c = contentOf(v)
  return {
    dot: v.dot,
    deps: v.deps,
    deleted: false,
    confidence: v.confidence,
    episodes: [],
    sig: v.sig,
    stripped: { bytes: c.bytes, digest: c.digest, hasSummary: v.summary !== undefined }
  }
}

/** Versions in the form a state with this clock keeps them (keepsContent). */
export function canonicalVersions (versions: readonly Version[], clock: VectorClock): Version[] {
  return versions.map(v => keepsContent(v, clock) ? v : stripContent(v))
}
