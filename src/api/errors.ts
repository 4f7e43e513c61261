/**
 * API errors: every failure leaves the server as `{ "error": { "code", "message" } }` with
 * an HTTP status. Errors of the core, store and node are told apart by `err.name` (which
 * survives module boundaries where `instanceof` may not) and mapped here, in one place.
 */

export class ApiError extends Error {
  override name = 'ApiError'
  constructor (readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message)
  }
}

export interface ErrorBody {
  error: { code: string, message: string }
}

/** name of a thrown error -> [status, code]; anything else is a 500 */
const BY_NAME: Record<string, [number, string]> = {
  InvalidPatternError: [400, 'invalid_pattern'],
  LimitExceededError: [400, 'limit_exceeded'],
  PatternNotFoundError: [404, 'pattern_not_found'],
  InvalidSinceError: [400, 'invalid_since'],
  FeedDisabledError: [409, 'feed_disabled'],
  // the node is shutting down: the request may succeed on a restarted node
  StoreClosedError: [503, 'unavailable']
}

/**
 * The node's reasons a sync cannot start (src/node/errors.ts), in the API's words: each
 * says where to look next.
 */
const SYNC_REFUSALS: Record<string, (e: { peer?: string, gossipPeers?: number }) => ApiError> = {
  InvalidPeerIdError: e => new ApiError(400, 'invalid_peer_id', `"${String(e.peer)}" is not a valid PeerId (expected one like 12D3KooW...; see engram peers)`),
  PeerNotConnectedError: e => new ApiError(409, 'peer_not_connected', `peer ${String(e.peer)} is not a connected gossip peer ` +
    `(connected gossip peers: ${String(e.gossipPeers)}; see GET /v1/peers or engram peers)`),
  NoGossipPeersError: () => new ApiError(409, 'no_gossip_peers', 'no gossip peer is connected: nothing to sync with yet ' +
    '(see GET /v1/peers or engram peers; a node joins with --join <member address>)')
}

export function toApiError (err: unknown): ApiError {
  if (err instanceof ApiError) return err
  const e = err as { name?: string, message?: string, peer?: string, gossipPeers?: number }
  const refusal = e?.name !== undefined ? SYNC_REFUSALS[e.name] : undefined
  if (refusal !== undefined) return refusal(e)
  const known = e?.name !== undefined ? BY_NAME[e.name] : undefined
  if (known !== undefined) return new ApiError(known[0], known[1], String(e.message))
  return new ApiError(500, 'internal', `internal error: ${String(e?.name ?? 'Error')}: ${String(e?.message ?? err)}`)
}

export function errorBody (err: ApiError): ErrorBody {
  return { error: { code: err.code, message: err.message } }
}
