/** The node's view of its peers, built from libp2p's connections and the gossip service's maps. */
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { InvalidPeerIdError, NoGossipPeersError, PeerNotConnectedError } from './errors.js'
import type { PeerInfo } from './types.js'

/** Peers with an open connection, sorted by id, each with its open connections' remote addresses. */
export function peerList (
  connections: readonly Connection[], gossipPeers: readonly PeerId[], peerInSync: ReadonlyMap<string, boolean>
): PeerInfo[] {
  const gossip = new Set(gossipPeers.map(String))
  const byPeer = new Map<string, Set<string>>()
  for (const c of connections) {
    if (c.status !== 'open') continue
    const id = c.remotePeer.toString()
    const addrs = byPeer.get(id) ?? new Set<string>()
    addrs.add(c.remoteAddr.toString())
    byPeer.set(id, addrs)
  }
  return [...byPeer.entries()]
    .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([peerId, addrs]) => ({
      peerId,
      addresses: [...addrs].sort(),
      gossip: gossip.has(peerId),
      inSync: peerInSync.get(peerId) ?? null
    }))
}

/** Distinct peers we hold a connection to, in any state (what status and the metrics count). */
export function connectedPeerIds (connections: readonly Connection[]): string[] {
  return [...new Set(connections.map(c => c.remotePeer.toString()))]
}

/**
 * The gossip peer a sync goes to: `requested` if it is one, else a random one. Every reason
 * there is none is a named error, found before any session starts.
 */
export function chooseSyncPeer (requested: string | PeerId | undefined, gossipPeers: readonly PeerId[], random = Math.random): PeerId {
  if (requested !== undefined) {
    const id = typeof requested === 'string' ? parsePeerId(requested) : requested
    const found = gossipPeers.find(p => p.equals(id))
    // the id as the caller wrote it, so an error message quotes what they typed
    if (found === undefined) throw new PeerNotConnectedError(requested.toString(), gossipPeers.length)
    return found
  }
  if (gossipPeers.length === 0) throw new NoGossipPeersError()
  return gossipPeers[Math.floor(random() * gossipPeers.length)]!
}

function parsePeerId (s: string): PeerId {
  try {
    return peerIdFromString(s)
  } catch {
    throw new InvalidPeerIdError(s)
  }
}
