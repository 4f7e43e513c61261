/** A frame from a peer that is malformed, oversized or breaks a field limit. */
export class InvalidMessageError extends Error {
  override name = 'InvalidMessageError'
}

/** The whole session ran past SESSION_TIMEOUT_MS or a message did not come in MESSAGE_TIMEOUT_MS. */
export class SessionTimeoutError extends Error {
  override name = 'SessionTimeoutError'
}

/** The gossip service is stopping: a session or idle stream ends with a goodbye, not a failure. */
export class ServiceStoppingError extends Error {
  override name = 'ServiceStoppingError'
}

/** Refused: too many sessions from one peer at once. */
export class TooManySessionsError extends Error {
  override name = 'TooManySessionsError'
}

export { ProtocolViolationError } from '../core/reconcile.js'
