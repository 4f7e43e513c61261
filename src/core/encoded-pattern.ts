/**
 * A pattern state together with its canonical bytes, key hash and digest. They are computed
 * once, where the state is made (a local write, a merge) or received, and handed on to the
 * store, the eager push and the records, which would otherwise each encode and hash it again.
 */
import { encodePattern, keyHash, patternDigest } from './encoding.js'
import type { PatternState } from './pattern.js'

export interface EncodedPattern {
  readonly state: PatternState
  /** canonical encoding of `state` (encoding.ts) */
  readonly bytes: Uint8Array
  /** keyHash(state.key): the pattern's place in the Merkle index */
  readonly kh: Uint8Array
  /** patternDigest(bytes) */
  readonly digest: Uint8Array
}

/** Encodes and hashes a state: the one encode a new state gets. `kh`: its key hash, if known. */
export function encodeState (state: PatternState, kh?: Uint8Array): EncodedPattern {
  return withBytes(state, encodePattern(state), kh)
}

/**
 * A state with bytes it was decoded from. Only for bytes the decoder accepted: it refuses
 * any non-canonical form, so they are exactly what encodeState would produce.
 */
export function withBytes (state: PatternState, bytes: Uint8Array, kh?: Uint8Array): EncodedPattern {
  return { state, bytes, kh: kh ?? keyHash(state.key), digest: patternDigest(bytes) }
}
