/** What an EngramClient call can fail with, told apart by `err.name`. */

/** The node answered with an error: its HTTP status, its stable code and its message (docs/api.md). */
export class EngramApiError extends Error {
  override name = 'EngramApiError'
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

/** Nothing answered at the node's URL (not running, wrong address), or the connection broke. */
export class EngramConnectionError extends Error {
  override name = 'EngramConnectionError'
}

/** The node did not answer within the call's time bound. */
export class EngramTimeoutError extends Error {
  override name = 'EngramTimeoutError'
}
