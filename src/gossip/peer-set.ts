/**
 * The connected peers that speak the gossip protocol, kept up to date by a libp2p topology
 * (identify says a peer speaks it -> in; its last connection closes or it drops the protocol
 * -> out) instead of reading the peer store for every connected peer on every round and push:
 * that took a read lock and a record decode per peer, ~5 % of a busy node's CPU, and a round
 * had to wait behind any peer-store write.
 */
import type { Connection, PeerId, Topology } from '@libp2p/interface'

export interface PeerSetComponents {
  registrar: {
    register(protocol: string, topology: Topology): Promise<string>
    unregister(id: string): void
  }
  connectionManager: {
    getConnections(peerId?: PeerId): Connection[]
  }
}

/** Told when a peer enters the set (it connected and speaks gossip) and when it leaves. */
export interface PeerSetListener {
  joined(peer: PeerId): void
  left(peer: PeerId): void
}

export class GossipPeerSet {
  private readonly peers = new Map<string, PeerId>()
  private topologyId: string | undefined

  constructor (private readonly components: PeerSetComponents, private readonly protocol: string, private readonly listener?: PeerSetListener) {}

  async start (): Promise<void> {
    this.topologyId = await this.components.registrar.register(this.protocol, {
      onConnect: (peer) => {
        const isNew = !this.peers.has(peer.toString())
        this.peers.set(peer.toString(), peer)
        if (isNew) this.listener?.joined(peer)
      },
      onDisconnect: (peer) => {
        // the registrar tells of a disconnect after an async lookup: a reconnect may already be up
        if (this.connected(peer)) return
        if (this.peers.delete(peer.toString())) this.listener?.left(peer)
      }
    })
  }

  stop (): void {
    if (this.topologyId !== undefined) this.components.registrar.unregister(this.topologyId)
    this.topologyId = undefined
    this.peers.clear()
  }

  /** whether the peer is in the set and has an open connection now */
  has (peer: PeerId): boolean {
    return this.peers.has(peer.toString()) && this.connected(peer)
  }

  /**
   * Gossip peers with an open connection now. One found without is dropped here: its
   * disconnect may have come while the closing connection still read as open.
   */
  list (): PeerId[] {
    const out: PeerId[] = []
    for (const [key, peer] of this.peers) {
      if (this.connected(peer)) out.push(peer)
      else if (this.peers.delete(key)) this.listener?.left(peer)
    }
    return out
  }

  private connected (peer: PeerId): boolean {
    return this.components.connectionManager.getConnections(peer).some(c => c.status === 'open')
  }
}
