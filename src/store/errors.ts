/**
 * Named errors of the store. As in the core, callers tell them apart by `err.name`,
 * which survives module and process boundaries where `instanceof` may not.
 */

/** A stored record cannot be read back (bit rot, a foreign writer, a bug). */
export class StoreCorruptionError extends Error {
  override name = 'StoreCorruptionError'
  /** the pattern key (or meta name) whose record is corrupt, when known */
  readonly key: string | undefined

  constructor (message: string, options?: { key?: string, cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.key = options?.key
  }
}

/** The directory holds something that is not an Engram store of a version we know. */
export class StoreFormatError extends Error {
  override name = 'StoreFormatError'
}

/** An operation on a store (or replica) that was closed. */
export class StoreClosedError extends Error {
  override name = 'StoreClosedError'
}

/** A local operation named a pattern that does not exist (or is deleted). */
export class PatternNotFoundError extends Error {
  override name = 'PatternNotFoundError'
  readonly key: string

  constructor (key: string) {
    super(`pattern ${JSON.stringify(key)} does not exist`)
    this.key = key
  }
}
