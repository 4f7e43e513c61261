/** Encoding and hashing a state once, before a write batch takes the store's lock, with the size check every stored state passes. */
import { type EncodedPattern, encodeState, withBytes } from '../core/encoded-pattern.js'
import { decodePattern } from '../core/encoding.js'
import { LimitExceededError } from '../core/errors.js'
import { MAX_PATTERN_BYTES } from '../core/limits.js'
import type { PatternState } from '../core/pattern.js'

/** A state encoded, hashed and checked, ready to store. */
export type PreparedState = EncodedPattern

function checked (p: EncodedPattern): EncodedPattern {
  // a state too big to decode would be unreadable (and quarantined) on the next open
  if (p.bytes.length > MAX_PATTERN_BYTES) {
    throw new LimitExceededError(`pattern ${JSON.stringify(p.state.key)} encodes to ${p.bytes.length} bytes, limit ${MAX_PATTERN_BYTES}`)
  }
  return p
}

/** A state received with its canonical bytes (already validated by the decoder): no re-encode. `kh`: its key hash, if known. */
export function prepareEncoded (state: PatternState, bytes: Uint8Array, kh?: Uint8Array): PreparedState {
  return checked(withBytes(state, bytes, kh))
}

export function prepareState (state: PatternState, kh?: Uint8Array): PreparedState {
  return checked(encodeState(state, kh))
}

/**
 * A state a merge made (no peer sent these bytes, no local write checked it): stored only if
 * our own decoder takes it back, so the node never holds a record it (or a peer) cannot read.
 * The decoder's refusal (LimitExceededError, InvalidEncodingError) is thrown as it is.
 */
export function prepareMerged (state: PatternState, kh?: Uint8Array): PreparedState {
  const p = prepareState(state, kh)
  decodePattern(p.bytes)
  return p
}
