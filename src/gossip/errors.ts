/**
 * Errors of the gossip protocol. Subclasses of libp2p's own where one fits, so code that
 * knows libp2p's classes classifies ours; each keeps its own `name`, which reports and logs show.
 */
import {
  ConnectionClosedError, ConnectionClosingError, InvalidMessageError as Libp2pInvalidMessageError, MuxerClosedError, ProtocolError,
  StreamAbortedError, StreamResetError, TimeoutError
} from '@libp2p/interface'
import { StreamClosedError, UnexpectedEOFError } from '@libp2p/utils'
import { ProtocolViolationError as ReconcileViolation } from '../core/reconcile.js'

/** A frame from a peer that is malformed, oversized or breaks a field limit. */
export class InvalidMessageError extends Libp2pInvalidMessageError {
  override name = 'InvalidMessageError'
}

/** The whole session ran past SESSION_TIMEOUT_MS or a message did not come in MESSAGE_TIMEOUT_MS. */
export class SessionTimeoutError extends TimeoutError {
  override name = 'SessionTimeoutError'
}

/** The gossip service is stopping: a session or idle stream ends with a goodbye, not a failure. */
export class ServiceStoppingError extends Error {
  override name = 'ServiceStoppingError'
}

/**
 * What a session's (or push's) controller is aborted with when it is over: one shared object,
 * because abort() without a reason builds a DOMException, stack trace and all, per session.
 */
export const SESSION_OVER: Error = new Error('session over')

/** Refused: too many sessions from one peer at once. */
export class TooManySessionsError extends Error {
  override name = 'TooManySessionsError'
}

/** A stream was dropped: the node-wide budget for received, unread bytes ran out. */
export class InboundBudgetError extends Error {
  override name = 'InboundBudgetError'
}

/** A round or sync was asked for while no gossip peer is connected. */
export class NoGossipPeersError extends Error {
  override name = 'NoGossipPeersError'
}

/** A well-formed message out of the protocol's order or rules (an unexpected type, an unsolicited pattern). */
export class ProtocolViolationError extends ProtocolError {
  override name = 'ProtocolViolationError'
}

/**
 * The sans-IO reconciler (src/core, which does not depend on libp2p) throws a plain Error of
 * the same name; a session hands it on as libp2p's class, the way it ends the stream.
 */
export function asSessionError (err: unknown): unknown {
  if (!(err instanceof ReconcileViolation)) return err
  return Object.assign(new ProtocolViolationError(err.message), { cause: err })
}

/** libp2p's errors that only say the peer (or its connection) went away; by name, so another copy of libp2p's classes counts too */
const PEER_GONE: ReadonlySet<string> = new Set([
  StreamResetError.name, StreamAbortedError.name, StreamClosedError.name, ConnectionClosedError.name,
  ConnectionClosingError.name, MuxerClosedError.name, UnexpectedEOFError.name
])

/** The peer went away, or we are stopping: an ordinary end of a session, not a fault. */
export function isPeerGone (err: unknown): boolean {
  return err instanceof ServiceStoppingError || PEER_GONE.has((err as Error | undefined)?.name ?? '')
}

/** Ours, libp2p's, or the DOMException of an AbortSignal.timeout(). */
export function isTimeout (err: unknown): boolean {
  return err instanceof TimeoutError || (err as Error | undefined)?.name === TimeoutError.name
}
