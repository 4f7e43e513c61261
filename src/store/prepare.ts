/** Encoding and hashing a state once, before a write batch takes the store's lock. */
import { encodePattern, keyHash, patternDigest } from '../core/encoding.js'
import { LimitExceededError } from '../core/errors.js'
import { MAX_PATTERN_BYTES } from '../core/limits.js'
import type { PatternState } from '../core/pattern.js'

/** A state encoded and hashed once, ready to store. */
export interface PreparedState {
  kh: Uint8Array
  digest: Uint8Array
  key: string
  bytes: Uint8Array
}

function checkPatternSize (state: PatternState, bytes: Uint8Array): void {
  if (bytes.length > MAX_PATTERN_BYTES) {
    throw new LimitExceededError(`pattern ${JSON.stringify(state.key)} encodes to ${bytes.length} bytes, limit ${MAX_PATTERN_BYTES}`)
  }
}

/** A state received with its canonical bytes (already validated by the decoder): no re-encode. `kh`: its key hash, if known. */
export function prepareEncoded (state: PatternState, bytes: Uint8Array, kh?: Uint8Array): PreparedState {
  checkPatternSize(state, bytes)
  return { kh: kh ?? keyHash(state.key), digest: patternDigest(bytes), key: state.key, bytes }
}

export function prepareState (state: PatternState, kh?: Uint8Array): PreparedState {
  const bytes = encodePattern(state)
  // a state too big to decode would be unreadable (and quarantined) on the next open
  checkPatternSize(state, bytes)
  return { kh: kh ?? keyHash(state.key), digest: patternDigest(bytes), key: state.key, bytes }
}
