/**
 * Equivocation: two different writes signed under one dot. An honest node writes each dot
 * once, so two bodies mean a faulty or hostile writer (or a restored backup reusing its dots).
 * The join already resolves it the same way on every node (merge.ts keeps the larger body
 * digest); this finds it, so a node can count it and log both digests.
 */
import { compareBytes } from './bytes.js'
import { dotKey } from './merge.js'
import type { Dot, PatternState } from './pattern.js'
import { bodyDigest } from './write-digest.js'

export interface Equivocation {
  key: string
  dot: Dot
  /** body digests of the two writes, in byte order */
  digests: [Uint8Array, Uint8Array]
}

/** Every write a state names, with its body digest: versions, and heads of overwritten writes. */
function writesOf (s: PatternState): Map<string, { dot: Dot, body: Uint8Array }> {
  const out = new Map<string, { dot: Dot, body: Uint8Array }>()
  for (const h of s.heads) out.set(dotKey(h.dot), h)
  for (const v of s.versions) out.set(dotKey(v.dot), { dot: v.dot, body: bodyDigest(v) })
  return out
}

/** The dots that `a` and `b` both name, with different writes. */
export function findEquivocations (a: PatternState, b: PatternState): Equivocation[] {
  if (a === b) return []
  const ours = writesOf(a)
  const out: Equivocation[] = []
  for (const [k, w] of writesOf(b)) {
    const other = ours.get(k)
    if (other === undefined) continue
    const order = compareBytes(other.body, w.body)
    if (order !== 0) out.push({ key: a.key, dot: w.dot, digests: order < 0 ? [other.body, w.body] : [w.body, other.body] })
  }
  return out
}
