/**
 * Equivocation: two different contents for one write (one dot). An honest node writes each dot
 * once, so two contents mean a faulty or hostile writer (or a restored backup reusing its dots).
 * The join already resolves it the same way on every node (merge.ts picks one content by a
 * fixed order); this finds it, so a node can count it and log both contents' digests.
 */
import { ByteWriter } from './bytes.js'
import { sha256 } from './encoding.js'
import { dotKey } from './merge.js'
import type { Dot, PatternState, Version } from './pattern.js'

export interface Equivocation {
  key: string
  dot: Dot
  /** digests of the two contents (versionDigest), in byte order */
  digests: [Uint8Array, Uint8Array]
}

/** Digest of what one write says: deleted or not, confidence, summary. */
export function versionDigest (v: Version): Uint8Array {
  const w = new ByteWriter().u8(v.deleted ? 1 : 0)
  if (!v.deleted) {
    w.f64(v.confidence)
    if (v.summary !== undefined) w.u8(1).string(v.summary)
    else w.u8(0)
  }
  return sha256(w.finish())
}

/** The dots that `a` and `b` both hold a version of, with different contents. */
export function findEquivocations (a: PatternState, b: PatternState): Equivocation[] {
  if (a === b) return []
  const ours = new Map(a.versions.map(v => [dotKey(v.dot), v]))
  const out: Equivocation[] = []
  for (const v of b.versions) {
    const other = ours.get(dotKey(v.dot))
    if (other === undefined) continue
    const x = versionDigest(other)
    const y = versionDigest(v)
    const order = Buffer.compare(x, y)
    if (order !== 0) out.push({ key: a.key, dot: v.dot, digests: order < 0 ? [x, y] : [y, x] })
  }
  return out
}
