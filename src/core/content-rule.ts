/**
 * The rules that keep every merge within a pattern's limits: which concurrent versions keep their
 * deps and their content (summary, episodes), and which are kept as signed headers without them.
 * Their reasons are in keepsDeps and keepsContent; docs/protocol.md, "Merges within the limits",
 * states them for other implementations.
 */
import { CONTENT_BUDGET, DEPS_BUDGET, DEPS_ENTRY_WEIGHT, DROPPED_WRITER_WEIGHT } from './limits.js'
import type { Version } from './pattern.js'
import { EMPTY_CLOCK, type VectorClock } from './vector-clock.js'
import { contentOf, depsOf, shareDigests } from './write-digest.js'

/**
 * Writers the clock knows of past what `v` had seen: for a version no one overwrote, every
 * one of them wrote concurrently with it. Grows with the clock, never shrinks. Needs v's deps.
 */
export function concurrentWriters (v: Version, clock: VectorClock): number {
  let n = 0
  for (const [node, counter] of clock) {
    if (node !== v.dot.node && counter > (v.deps.get(node) ?? 0)) n++
  }
  return n
}

/** What deps of `entries` entries take at least (every named writer in the clock). */
export function minDepsWeight (entries: number): number {
  return 2 + entries * DEPS_ENTRY_WEIGHT
}

/**
 * What v's deps may take in the encoding of a state with this clock: a bound per entry, and
 * the id of a dropped writer it names. Grows with the clock (a dropped writer stays dropped).
 */
export function depsWeight (v: Version, clock: VectorClock): number {
  let w = minDepsWeight(v.deps.size)
  for (const node of v.deps.keys()) if (!clock.has(node)) w += DROPPED_WRITER_WEIGHT
  return w
}

/**
 * Whether a state with this clock keeps v's deps. A v2 version always does (its signature
 * covers them in full); a v3 one while (its concurrent writers + 1) × its deps' weight fit
 * DEPS_BUDGET, so the deps kept never exceed it together (each kept version's concurrent
 * writers include every other standing one). Both factors only grow with the clock, so once
 * false it stays false and every node leaves out the same deps whatever order the states met in.
 */
export function keepsDeps (v: Version, clock: VectorClock): boolean {
  if (v.depsByDigest !== true) return true
  if (v.depsOmitted !== undefined) return false
  // the common case, without counting: few writers, small deps
  if (clock.size * (2 + v.deps.size * (DEPS_ENTRY_WEIGHT + DROPPED_WRITER_WEIGHT)) <= DEPS_BUDGET) return true
  return (concurrentWriters(v, clock) + 1) * depsWeight(v, clock) <= DEPS_BUDGET
}

/**
 * Whether a state with this clock keeps v's content. A version keeps its content while (its
 * concurrent writers + 1) × its content bytes fit CONTENT_BUDGET, so the versions that keep
 * theirs never exceed it together. Without its deps its concurrent writers are not known, so
 * the clock's size (never less) stands for them; that too only grows. Once false it stays
 * false (a version loses its deps only under a larger clock, and the clock's size bounds what
 * it replaces), so every node strips the same versions whatever order the states met in (the
 * merge stays a join); a later write that saw the pattern replaces them all.
 */
export function keepsContent (v: Version, clock: VectorClock): boolean {
  if (v.deleted) return true
  const writers = v.depsOmitted === undefined ? concurrentWriters(v, clock) + 1 : clock.size
  return writers * contentOf(v).bytes <= CONTENT_BUDGET
}

/** The version without its content: who, when, deleted or not, confidence, and its content's size and digest. */
export function stripContent (v: Version): Version {
  if (v.stripped !== undefined || v.deleted) return v
  const c = contentOf(v)
  const out = versionOf(v, v.deps, v.depsOmitted, { bytes: c.bytes, digest: c.digest, hasSummary: v.summary !== undefined })
  shareDigests(v, out)
  return out
}

/** `v` with these deps and, if `stripped`, without its content (one shape for every version) */
function versionOf (v: Version, deps: VectorClock, depsOmitted: Version['depsOmitted'], stripped: Version['stripped']): Version {
  return {
    dot: v.dot,
    deps,
    deleted: v.deleted,
    confidence: v.confidence,
    ...(stripped === undefined && v.summary !== undefined ? { summary: v.summary } : {}),
    episodes: stripped === undefined ? v.episodes : [],
    sig: v.sig,
    ...(stripped === undefined ? {} : { stripped }),
    ...(v.depsByDigest === true ? { depsByDigest: true } : {}),
    ...(depsOmitted === undefined ? {} : { depsOmitted })
  }
}

/** The version without its deps: their count and digest stay (its v3 signature covers only those). */
export function omitDeps (v: Version): Version {
  if (v.depsOmitted !== undefined || v.depsByDigest !== true) return v
  const out = versionOf(v, EMPTY_CLOCK, depsOf(v), v.stripped)
  shareDigests(v, out)
  return out
}

/** The version in the form a state with this clock keeps it (keepsDeps, then keepsContent). */
export function canonicalVersion (v: Version, clock: VectorClock): Version {
  const withDeps = keepsDeps(v, clock) ? v : omitDeps(v)
  return keepsContent(withDeps, clock) ? withDeps : stripContent(withDeps)
}

/** Versions in the form a state with this clock keeps them. */
export function canonicalVersions (versions: readonly Version[], clock: VectorClock): Version[] {
  return versions.map(v => canonicalVersion(v, clock))
}

/**
 * Two copies of one write (equal body digests): what they hold together. One may have kept
 * the deps and the other the content; the rules then drop what the joined clock does not keep.
 */
export function unitedCopies (x: Version, y: Version): Version {
  const xDeps = x.depsOmitted === undefined
  const yDeps = y.depsOmitted === undefined
  const xContent = x.stripped === undefined
  const yContent = y.stripped === undefined
  if ((xDeps || !yDeps) && (xContent || !yContent)) return x
  if ((yDeps || !xDeps) && (yContent || !xContent)) return y
  const [withContent, withDeps] = xContent ? [x, y] : [y, x]
  const out = versionOf(withContent, withDeps.deps, undefined, undefined)
  shareDigests(withContent, out)
  return out
}
