/**
 * src/core/encoding.ts with counters: full-state encodes (direct, or inside patternDigest of a
 * state) and SHA-256 digests of states. hooks.mjs puts this in place of the real module.
 */
import type { PatternState } from '../../../src/core/pattern.js'
import * as real from '../../../src/core/encoding.js'

export * from '../../../src/core/encoding.js'

export interface EncodeCounts { encodes: number, digests: number }

const g = globalThis as { engramEncodeCounts?: EncodeCounts }
export const counts: EncodeCounts = g.engramEncodeCounts ??= { encodes: 0, digests: 0 }

export function encodePattern (s: PatternState): Uint8Array {
  counts.encodes++
  return real.encodePattern(s)
}

export function patternDigest (s: PatternState | Uint8Array): Uint8Array {
  if (!(s instanceof Uint8Array)) counts.encodes++
  counts.digests++
  return real.patternDigest(s)
}
