/**
 * Dialling the peers we know of: join addresses and remembered peers (at start, and again
 * while isolated), and single peers by id, skipping ourselves, peers already connected, and
 * any dial once the node has enough peers.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MAX_SAVED_ADDRS } from './peer-memory.js'
import type { Dialer } from './dialer.js'
import type { KnownPeer } from './peer-book.js'
import type { RedialCounts } from './reconnect.js'
import type { DiscoveryComponents } from './types.js'
import type { Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface BootstrapInit {
  components: DiscoveryComponents
  dialer: Dialer
  /** Multiaddrs to dial (with or without /p2p/<id>). */
  join: string[]
  /** No new dials while this many peers are connected. */
  maxPeers: number
  log: Logger
}

export class Bootstrap {
  constructor (private readonly init: BootstrapInit) {}

  /** Dials a peer we know by id (its addresses go to the peer store first). */
  async dialPeer (id: PeerId, addrs: Multiaddr[], reason: string, quiet = false): Promise<void> {
    const { components } = this.init
    if (id.equals(components.peerId) || this.connected(id) || this.full()) return
    if (addrs.length > 0) {
      await components.peerStore.merge(id, { multiaddrs: addrs.slice(0, MAX_SAVED_ADDRS) })
    }
    this.init.dialer.enqueue(id, reason, { quiet })
  }

  /** Dials join addresses and remembered peers; `quiet` for the isolated node's re-dials. */
  dialAll (known: KnownPeer[], quiet = false): RedialCounts {
    const { components, dialer, log } = this.init
    const counts = { join: 0, remembered: 0 }
    for (const addr of this.init.join) {
      try {
        const ma = multiaddr(addr)
        const id = ma.getComponents().findLast(c => c.name === 'p2p')?.value
        if (id === components.peerId.toString()) continue
        counts.join++
        if (id != null && this.connected(peerIdFromString(id))) continue
        dialer.enqueue(ma, 'join', { quiet })
      } catch (err) {
        if (!quiet) log.error('ignoring join address %s: %e', addr, err)
      }
    }
    for (const peer of known) {
      try {
        const addrs = peer.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
        const id = peerIdFromString(peer.id)
        if (id.equals(components.peerId)) continue
        counts.remembered++
        void this.dialPeer(id, addrs, 'remembered', quiet).catch(err => {
          log.trace('cannot dial remembered peer %s: %e', peer.id, err)
        })
      } catch (err) {
        if (!quiet) log('ignoring remembered peer %s: %e', peer.id, err)
      }
    }
    return counts
  }

  private connected (peer: PeerId): boolean {
    return this.init.components.connectionManager.getConnections(peer).length > 0
  }

  private full (): boolean {
    return this.init.components.connectionManager.getConnections().length >= this.init.maxPeers
  }
}
