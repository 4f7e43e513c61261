/**
 * What a faulty or hostile writer leaves in the states of one key, found when two meet:
 * - an equivocation: two different writes signed under one dot. An honest node writes each dot
 *   once, so two bodies mean a faulty or hostile writer (or a restored backup reusing its dots);
 * - one write signed twice: the same body under two signatures that both check. Ed25519 lets
 *   only the author make a second one (a nonce of its own), and honest builds sign a write once.
 * The join already resolves both the same way on every node (merge.ts keeps the larger body
 * digest, then the larger signature); this finds them, so a node can count them and log them.
 */
import { compareBytes } from './bytes.js'
import { dotKey } from './merge.js'
import type { Dot, KeyedWrite, PatternState } from './pattern.js'
import { bodyDigest } from './write-digest.js'

export interface Equivocation extends KeyedWrite {
  /** body digests of the two writes, in byte order */
  digests: [Uint8Array, Uint8Array]
}

/** One write (one dot, one body) met under two signatures. */
export type DoubleSignature = KeyedWrite

export interface WriterFaults {
  equivocations: Equivocation[]
  doubleSigned: DoubleSignature[]
}

interface NamedWrite { dot: Dot, body: Uint8Array, sig: Uint8Array }

/** Every write a state names, with its body digest and signature: versions, and heads of overwritten writes. */
function writesOf (s: PatternState): Map<string, NamedWrite> {
  const out = new Map<string, NamedWrite>()
  for (const h of s.heads) out.set(dotKey(h.dot), h)
  for (const v of s.versions) out.set(dotKey(v.dot), { dot: v.dot, body: bodyDigest(v), sig: v.sig })
  return out
}

/** The dots that `a` and `b` both name with different writes, or with one write under other signatures. */
export function findWriterFaults (a: PatternState, b: PatternState): WriterFaults {
  const faults: WriterFaults = { equivocations: [], doubleSigned: [] }
  if (a === b) return faults
  const ours = writesOf(a)
  for (const [k, w] of writesOf(b)) {
    const other = ours.get(k)
    if (other === undefined) continue
    const order = compareBytes(other.body, w.body)
    if (order !== 0) {
      faults.equivocations.push({ key: a.key, dot: w.dot, digests: order < 0 ? [other.body, w.body] : [w.body, other.body] })
    } else if (compareBytes(other.sig, w.sig) !== 0) {
      faults.doubleSigned.push({ key: a.key, dot: w.dot })
    }
  }
  return faults
}
