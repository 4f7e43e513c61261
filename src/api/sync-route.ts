/**
 * POST /v1/sync: one anti-entropy round now. With `?stream=1` the answer is NDJSON, one
 * `{"progress": RoundReport}` line per progress event of the round, then `{"result": ...}`,
 * so a client can show a long transfer as it goes.
 */
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { EngramNode } from '../node/engram-node.js'
import type { RoundReport } from '../gossip/types.js'
import { SESSION_TIMEOUT_MS } from '../gossip/constants.js'
import { ApiError, errorBody, toApiError } from './errors.js'
import { readJson, sendJson, startNdjson } from './http.js'
import type { Route } from './router.js'
import { parseStreamFlag, parseSyncBody } from './validate.js'

/** A round is bounded by the session timeout; leave room to answer after it. */
export const SYNC_TIMEOUT_MS = SESSION_TIMEOUT_MS + 15_000

/** The gossip peer to sync with; errors say why there is none before anything starts. */
async function choosePeer (node: EngramNode, requested: string | undefined): Promise<PeerId> {
  const peers = await node.gossip.gossipPeers()
  if (requested !== undefined) {
    let id: PeerId
    try {
      id = peerIdFromString(requested)
    } catch {
      throw new ApiError(400, 'invalid_peer_id', `"${requested}" is not a valid PeerId (expected one like 12D3KooW...; see engram peers)`)
    }
    const found = peers.find(p => p.equals(id))
    if (found === undefined) {
      throw new ApiError(
        409,
        'peer_not_connected',
        `peer ${requested} is not a connected gossip peer (connected gossip peers: ${peers.length}; see GET /v1/peers or engram peers)`
      )
    }
    return found
  }
  if (peers.length === 0) {
    throw new ApiError(
      409,
      'no_gossip_peers',
      'no gossip peer is connected: nothing to sync with yet (see GET /v1/peers or engram peers; a node joins with --join <member address>)'
    )
  }
  return peers[Math.floor(Math.random() * peers.length)]!
}

export function syncRoute (node: EngramNode): Route {
  return {
    method: 'POST',
    path: '/v1/sync',
    timeoutMs: SYNC_TIMEOUT_MS,
    handler: async ({ req, res, query, signal }) => {
      const stream = parseStreamFlag(query)
      const { peer } = parseSyncBody(await readJson(req))
      const target = await choosePeer(node, peer)
      if (!stream) {
        sendJson(res, 200, await node.sync(target))
        return
      }
      const write = startNdjson(res)
      const key = target.toString()
      const since = Date.now()
      // this round's events only: our own initiator session with that peer, started by us
      const onProgress = (ev: CustomEvent<RoundReport>): void => {
        const r = ev.detail
        if (r.peer === key && r.role === 'initiator' && r.startedAt >= since && !signal.aborted) write({ progress: r })
      }
      node.addEventListener('progress', onProgress)
      try {
        write({ result: await node.sync(target) })
      } catch (err) {
        write(errorBody(toApiError(err)))
      } finally {
        node.removeEventListener('progress', onProgress)
        res.end()
      }
    }
  }
}
