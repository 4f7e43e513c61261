/**
 * Named errors of the core. Callers (and tests) tell them apart by `err.name`,
 * which survives crossing module and process boundaries where `instanceof` may not.
 */

/** Bytes that are not a valid canonical encoding (truncated, garbage, non-canonical). */
export class InvalidEncodingError extends Error {
  override name = 'InvalidEncodingError'
}

/** Input that exceeds one of the finite limits in `limits.ts`. */
export class LimitExceededError extends Error {
  override name = 'LimitExceededError'
}

/** A local operation that cannot be applied (bad confidence, unknown pattern, empty key...). */
export class InvalidPatternError extends Error {
  override name = 'InvalidPatternError'
}

/** A received state names a dot of this node too high for the node to go on writing after it. */
export class CounterOutOfRangeError extends Error {
  override name = 'CounterOutOfRangeError'
}

/** A received state says a write was overwritten, yet holds no write that saw it (overwrite-proof.ts). */
export class UnprovenOverwriteError extends Error {
  override name = 'UnprovenOverwriteError'
}

/** Two states for different keys were asked to merge. */
export class KeyMismatchError extends Error {
  override name = 'KeyMismatchError'
}
