/**
 * Finds and keeps the cluster: dials join addresses and remembered peers at start, then
 * meets the rest through a DHT rendezvous (every node provides a CID derived from the
 * cluster name and looks up its providers), keeps connections to DHT routing-table peers,
 * and remembers connected cluster peers for the next start.
 */
import './polyfill.js'
import { setMaxListeners } from 'node:events'
import { serviceDependencies } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { DEFAULT_CLUSTER, DHT_PROTOCOL } from '../protocol/constants.js'
import { Dialer } from './dialer.js'
import type { KnownPeer, KnownPeerStore } from './peer-book.js'
import type {
  AbortOptions, ComponentLogger, Connection, ContentRouting, Libp2pEvents, Logger, PeerId,
  PeerInfo, PeerStore, Startable
} from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface DiscoveryInit {
  /** Cluster name; the rendezvous CID is derived from it. Default DEFAULT_CLUSTER. */
  cluster?: string
  /** Multiaddrs to dial at start (with or without /p2p/<id>). */
  join?: string[]
  /** Where connected cluster peers are remembered across restarts. */
  knownPeers?: KnownPeerStore
  /** A peer counts as a cluster member when it speaks this (our DHT) protocol. */
  dhtProtocol?: string
  /** Name of the kad-dht service, to read its routing table. Default 'dht'. */
  dhtServiceName?: string
  /** Mean time between rendezvous lookups, ms (jittered ±20 %). Default 30 000. */
  interval?: number
  /** Time between provide() calls, ms. Default 10 × interval. */
  provideInterval?: number
  /** Bound of one provide or findProviders call, ms. Default 20 000. */
  lookupTimeout?: number
  /** Bound of one dial, ms. Default 10 000. */
  dialTimeout?: number
  /** Dials at once. Default 8. */
  dialConcurrency?: number
  /** No new dials while this many peers are connected. Default 64. */
  maxPeers?: number
  /** Dial peers that other discovery mechanisms report (kad-dht query responses, mDNS). Default true. */
  dialDiscovered?: boolean
  /** Periodic save of connected peers, ms. Default 60 000. */
  saveInterval?: number
}

/** What we use of the node; every field is a libp2p component. */
export interface DiscoveryComponents {
  peerId: PeerId
  peerStore: PeerStore
  contentRouting: ContentRouting
  logger: ComponentLogger
  connectionManager: {
    openConnection(peer: PeerId | Multiaddr, options?: AbortOptions): Promise<Connection>
    getConnections(peerId?: PeerId): Connection[]
  }
  events: {
    addEventListener<K extends keyof Libp2pEvents>(type: K, listener: (evt: Libp2pEvents[K]) => void): void
    removeEventListener<K extends keyof Libp2pEvents>(type: K, listener: (evt: Libp2pEvents[K]) => void): void
  }
}

/** Bounds on what we read from the peer store per peer. */
const MAX_SAVED_ADDRS = 8
const SAVE_DEBOUNCE_MS = 1000

/** The CID every member of `cluster` provides; namespaced so it cannot collide with content. */
export async function rendezvousCid (cluster: string): Promise<CID> {
  const digest = await sha256.digest(new TextEncoder().encode(`/engram/rendezvous/${cluster}`))
  return CID.create(1, raw.code, digest)
}

function jitter (ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4))
}

export class DiscoveryService implements Startable {
  readonly [Symbol.toStringTag] = 'engram:discovery'
  readonly [serviceDependencies] = ['@libp2p/kad-dht', '@libp2p/identify']

  private readonly log: Logger
  private readonly cluster: string
  private readonly dhtProtocol: string
  private readonly interval: number
  private readonly provideInterval: number
  private readonly lookupTimeout: number
  private readonly maxPeers: number
  private readonly saveInterval: number
  private readonly dialer: Dialer
  private started = false
  private shutdown = new AbortController()
  private tickTimer?: ReturnType<typeof setTimeout>
  private saveTimer?: ReturnType<typeof setTimeout>
  private saveEvery?: ReturnType<typeof setInterval>
  private tickRunning?: Promise<void>
  private saving: Promise<void> = Promise.resolve()
  private lastProvide = 0
  private cid?: CID

  constructor (private readonly components: DiscoveryComponents, private readonly init: DiscoveryInit = {}) {
    this.log = components.logger.forComponent('engram:discovery')
    this.cluster = init.cluster ?? DEFAULT_CLUSTER
    this.dhtProtocol = init.dhtProtocol ?? DHT_PROTOCOL
    this.interval = init.interval ?? 30_000
    this.provideInterval = init.provideInterval ?? this.interval * 10
    this.lookupTimeout = init.lookupTimeout ?? 20_000
    this.maxPeers = init.maxPeers ?? 64
    this.saveInterval = init.saveInterval ?? 60_000
    this.dialer = new Dialer({
      concurrency: init.dialConcurrency ?? 8,
      maxQueued: 512,
      timeout: init.dialTimeout ?? 10_000,
      dial: async (target, options) => await components.connectionManager.openConnection(target, options),
      log: this.log
    })
    this.onDiscovery = this.onDiscovery.bind(this)
    this.onIdentify = this.onIdentify.bind(this)
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    this.shutdown = new AbortController()
    // many concurrent lookups share this signal; they are bounded, so the warning is noise
    setMaxListeners(Infinity, this.shutdown.signal)
    this.dialer.reset()
    this.lastProvide = 0
    this.cid = await rendezvousCid(this.cluster)
    this.components.events.addEventListener('peer:discovery', this.onDiscovery)
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.started = true
  }

  /** Dials from afterStart, once every component (transports included) is running. */
  async afterStart (): Promise<void> {
    this.dialBootstrap(await this.loadKnownPeers())
    this.scheduleTick(0)
    if (this.init.knownPeers != null) {
      this.saveEvery = setInterval(() => { this.saveSoon(0) }, this.saveInterval)
    }
  }

  /** Saves while connections are still open; libp2p closes them after beforeStop. */
  async beforeStop (): Promise<void> {
    this.clearTimers()
    await this.save()
  }

  async stop (): Promise<void> {
    this.started = false
    this.clearTimers()
    this.components.events.removeEventListener('peer:discovery', this.onDiscovery)
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.shutdown.abort()
    await this.dialer.stop()
    await this.tickRunning
    await this.saving
  }

  /** Queued or running dials; for tests and status output. */
  get pendingDials (): number {
    return this.dialer.size
  }

  /** Runs one rendezvous round now (tests, or an operator's "discover now"). */
  async discoverNow (): Promise<void> {
    await this.tick()
  }

  private clearTimers (): void {
    clearTimeout(this.tickTimer)
    clearTimeout(this.saveTimer)
    clearInterval(this.saveEvery)
    this.tickTimer = this.saveTimer = this.saveEvery = undefined
  }

  private connected (peer: PeerId): boolean {
    return this.components.connectionManager.getConnections(peer).length > 0
  }

  private full (): boolean {
    return this.components.connectionManager.getConnections().length >= this.maxPeers
  }

  /** Dials a peer we know by id (its addresses go to the peer store first). */
  private async dialPeer (id: PeerId, addrs: Multiaddr[], reason: string): Promise<void> {
    if (id.equals(this.components.peerId) || this.connected(id) || this.full()) return
    if (addrs.length > 0) {
      await this.components.peerStore.merge(id, { multiaddrs: addrs.slice(0, MAX_SAVED_ADDRS) })
    }
    this.dialer.enqueue(id, reason)
  }

  private dialBootstrap (known: KnownPeer[]): void {
    for (const addr of this.init.join ?? []) {
      try {
        const ma = multiaddr(addr)
        const id = ma.getComponents().findLast(c => c.name === 'p2p')?.value
        if (id != null && (id === this.components.peerId.toString() || this.connected(peerIdFromString(id)))) continue
        this.dialer.enqueue(ma, 'join')
      } catch (err) {
        this.log.error('ignoring join address %s: %e', addr, err)
      }
    }
    for (const peer of known) {
      try {
        const addrs = peer.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
        void this.dialPeer(peerIdFromString(peer.id), addrs, 'remembered').catch(err => {
          this.log('cannot dial remembered peer %s: %e', peer.id, err)
        })
      } catch (err) {
        this.log('ignoring remembered peer %s: %e', peer.id, err)
      }
    }
  }

  private async loadKnownPeers (): Promise<KnownPeer[]> {
    try {
      return await this.init.knownPeers?.load() ?? []
    } catch (err) {
      this.log.error('cannot load remembered peers: %e', err)
      return []
    }
  }

  private scheduleTick (delay: number): void {
    if (!this.started) return
    clearTimeout(this.tickTimer)
    this.tickTimer = setTimeout(() => {
      this.tickTimer = undefined
      this.tickRunning = this.tick()
        .catch(err => { this.log.error('discovery round failed: %e', err) })
        .finally(() => { this.tickRunning = undefined; this.scheduleTick(jitter(this.interval)) })
    }, delay)
  }

  /** One round: provide when due, look up providers, reconnect routing-table peers. */
  private async tick (): Promise<void> {
    const cid = this.cid
    if (cid == null || this.shutdown.signal.aborted) return
    const signal = (): AbortSignal => AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.lookupTimeout)])
    const jobs: Array<Promise<void>> = [this.findProviders(cid, signal())]
    if (Date.now() - this.lastProvide >= this.provideInterval) jobs.push(this.provide(cid, signal()))
    this.keepRoutingTablePeers()
    // lost everyone (the whole cluster restarted?): start over from what we were given
    if (this.components.connectionManager.getConnections().length === 0) {
      this.dialBootstrap(await this.loadKnownPeers())
    }
    await Promise.all(jobs)
  }

  private async provide (cid: CID, signal: AbortSignal): Promise<void> {
    try {
      await this.components.contentRouting.provide(cid, { signal })
      this.lastProvide = Date.now()
      this.log('provided rendezvous %c', cid)
    } catch (err) {
      // usually "no peers yet" timing out; retried next round
      this.log('provide %c failed: %s', cid, (err as Error).message)
    }
  }

  private async findProviders (cid: CID, signal: AbortSignal): Promise<void> {
    let found = 0
    try {
      for await (const provider of this.components.contentRouting.findProviders(cid, { signal })) {
        found++
        await this.dialPeer(provider.id, provider.multiaddrs, 'rendezvous')
      }
    } catch (err) {
      this.log.trace('findProviders %c ended: %s', cid, (err as Error).message)
    }
    this.log.trace('rendezvous round: %d provider records', found)
  }

  /** kad-dht keeps no connections open; we do, so the cluster stays one mesh. */
  private keepRoutingTablePeers (): void {
    for (const id of this.routingTablePeers()) {
      void this.dialPeer(id, [], 'routing-table').catch(err => { this.log.trace('redial %p: %e', id, err) })
    }
  }

  /** `routingTable` is not on kad-dht's public type; read it defensively. */
  private routingTablePeers (): PeerId[] {
    let dht: unknown
    try {
      dht = (this.components as unknown as Record<string, unknown>)[this.init.dhtServiceName ?? 'dht']
    } catch {
      return [] // libp2p's components proxy throws for a missing service
    }
    const kb = (dht as { routingTable?: { kb?: { toIterable?: () => Iterable<{ peerId: PeerId }> } } })?.routingTable?.kb
    if (typeof kb?.toIterable !== 'function') return []
    return [...kb.toIterable()].map(p => p.peerId)
  }

  private onDiscovery (evt: CustomEvent<PeerInfo>): void {
    if (this.init.dialDiscovered === false || !this.started) return
    const { id, multiaddrs } = evt.detail
    void this.dialPeer(id, multiaddrs, 'discovered').catch(err => { this.log.trace('dial discovered %p: %e', id, err) })
  }

  private onIdentify (): void {
    this.saveSoon(SAVE_DEBOUNCE_MS)
  }

  private saveSoon (delay: number): void {
    if (this.init.knownPeers == null || !this.started || this.saveTimer != null) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined
      void this.save()
    }, delay)
  }

  /** Remembers connected peers that speak our DHT protocol (i.e. cluster members). */
  private async save (): Promise<void> {
    const store = this.init.knownPeers
    if (store == null) return
    const run = this.saving.then(async () => {
      const peers = await this.connectedClusterPeers()
      if (peers.length > 0) await store.save(peers)
    }).catch(err => { this.log.error('cannot save known peers: %e', err) })
    this.saving = run
    await run
  }

  private async connectedClusterPeers (): Promise<KnownPeer[]> {
    const byPeer = new Map<string, Connection[]>()
    for (const conn of this.components.connectionManager.getConnections()) {
      const key = conn.remotePeer.toString()
      byPeer.set(key, [...(byPeer.get(key) ?? []), conn])
    }
    const out: KnownPeer[] = []
    for (const [id, conns] of byPeer) {
      const peerId = conns[0]?.remotePeer
      if (peerId == null) continue
      const peer = await this.components.peerStore.get(peerId).catch(() => undefined)
      if (peer == null || !peer.protocols.includes(this.dhtProtocol)) continue
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

export function discovery (init: DiscoveryInit = {}): (components: DiscoveryComponents) => DiscoveryService {
  return (components) => new DiscoveryService(components, init)
}
