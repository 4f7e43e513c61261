/**
 * Remembering cluster peers across restarts: which connected peers to save (those that speak
 * our DHT protocol), debounced and periodic saves, and loading them back. Every store call is
 * bounded, so a store that never answers blocks neither later saves nor stop().
 */
import { withDeadline } from '../utils/deadline.js'
import type { KnownPeer, KnownPeerStore } from './peer-book.js'
import type { DiscoveryComponents } from './types.js'
import type { Connection, Logger } from '@libp2p/interface'

/** Bounds on what we read from the peer store per peer. */
export const MAX_SAVED_ADDRS = 8

export interface PeerMemoryInit {
  components: DiscoveryComponents
  /** Where peers are remembered; without one, nothing is loaded or saved. */
  store?: KnownPeerStore
  /** A peer counts as a cluster member when it speaks this protocol. */
  dhtProtocol: string
  /** Bound of one load or save, ms. */
  timeout: number
  /** Periodic save, ms. */
  saveInterval: number
  log: Logger
  /** Saves are scheduled only while the service runs. */
  running: () => boolean
  /** A load failing at shutdown is no news. */
  shuttingDown: () => boolean
}

export class PeerMemory {
  private saveTimer?: ReturnType<typeof setTimeout>
  private saveEvery?: ReturnType<typeof setInterval>
  private saving: Promise<void> = Promise.resolve()

  constructor (private readonly init: PeerMemoryInit) {}

  /** Remembered peers, or none if the store fails or does not answer in time. */
  async load (signal: AbortSignal): Promise<KnownPeer[]> {
    const store = this.init.store
    if (store == null) return []
    try {
      return await withDeadline(this.init.timeout, signal, async () => await store.load())
    } catch (err) {
      if (!this.init.shuttingDown()) this.init.log.error('cannot load remembered peers: %e', err)
      return []
    }
  }

  startPeriodic (): void {
    if (this.init.store != null) {
      this.saveEvery = setInterval(() => { this.saveSoon(0) }, this.init.saveInterval)
    }
  }

  clearTimers (): void {
    clearTimeout(this.saveTimer)
    clearInterval(this.saveEvery)
    this.saveTimer = this.saveEvery = undefined
  }

  /** Waits for the save in progress, if any. */
  async settled (): Promise<void> {
    await this.saving
  }

  saveSoon (delay: number): void {
    if (this.init.store == null || !this.init.running() || this.saveTimer != null) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined
      void this.save()
    }, delay)
  }

  /** Remembers connected peers that speak our DHT protocol (i.e. cluster members). */
  async save (): Promise<void> {
    const store = this.init.store
    if (store == null) return
    // bounded: a store that never answers must not block every later save, nor stop()
    const run = this.saving.then(async () => {
      await withDeadline(this.init.timeout, undefined, async () => {
        const peers = await this.connectedClusterPeers()
        if (peers.length > 0) await store.save(peers)
      })
    }).catch(err => { this.init.log.error('cannot save known peers: %e', err) })
    this.saving = run
    await run
  }

  private async connectedClusterPeers (): Promise<KnownPeer[]> {
    const { components } = this.init
    const byPeer = new Map<string, Connection[]>()
    for (const conn of components.connectionManager.getConnections()) {
      const key = conn.remotePeer.toString()
      byPeer.set(key, [...(byPeer.get(key) ?? []), conn])
    }
    const out: KnownPeer[] = []
    for (const [id, conns] of byPeer) {
      const peerId = conns[0]?.remotePeer
      if (peerId == null) continue
      const peer = await components.peerStore.get(peerId).catch(() => undefined)
      if (peer == null || !peer.protocols.includes(this.init.dhtProtocol)) continue
      // listen addresses from identify, then what we dialled (inbound remote ports are ephemeral)
      const addrs = [
        ...peer.addresses.map(a => a.multiaddr),
        ...conns.filter(c => c.direction === 'outbound').map(c => c.remoteAddr)
      ].map(a => a.decapsulateCode(421).toString()) // 421: /p2p, the id is stored separately
        .filter(a => !a.includes('/p2p-circuit'))
      out.push({ id, addrs: [...new Set(addrs)].slice(0, MAX_SAVED_ADDRS) })
    }
    return out
  }
}
