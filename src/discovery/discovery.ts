/**
 * Finds and keeps the cluster: dials join addresses and remembered peers at start, then
 * meets the rest through a DHT rendezvous (every node provides a CID derived from the
 * cluster name and looks up its providers), keeps connections to DHT routing-table peers,
 * and remembers connected cluster peers for the next start.
 *
 * Nothing here may stall: every await of a round has a hard bound (the DHT may ignore its
 * signal), rounds are scheduled independently of how the previous one ends, and a node with
 * no connection re-dials on its own backoff timers, apart from the DHT rounds.
 */
import '../node/polyfill.js'
import { setMaxListeners } from 'node:events'
import { serviceDependencies } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { DEFAULT_CLUSTER, DHT_PROTOCOL } from '../gossip/constants.js'
import { Deadline, raceAbort, withDeadline } from './deadline.js'
import { Dialer } from './dialer.js'
import { Backoff, Reconnector } from './reconnect.js'
import { CallGate, RoundScheduler } from './rounds.js'
import type { RedialCounts } from './reconnect.js'
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
  /** First re-dial delay of a node with no connection, ms (doubles, jittered). Default 1 000. */
  reconnectMin?: number
  /** Largest re-dial delay, ms. Default 30 000. */
  reconnectMax?: number
}

/** Counters for tests and status output; cumulative since the service was created. */
export interface DiscoveryStats {
  /** Rendezvous rounds started. */
  rounds: number
  /** Rounds that came due while the previous one still ran, and were skipped. */
  skippedRounds: number
  /** DHT calls (provide, findProviders) we stopped waiting for at their bound. */
  deadlines: number
  /** DHT calls not made because the previous one of their kind outlived its round. */
  skippedCalls: number
  /** No connection at the moment, re-dialling. */
  isolated: boolean
  /** Times the node found itself isolated and said so. */
  isolations: number
  /** Times it reconnected after that. */
  reconnects: number
  /** Re-dial attempts while isolated. */
  redials: number
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
/** A DHT call still in flight this many bounds after it started is given up on. */
const FORGET_AFTER_BOUNDS = 3

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
  private readonly rounds: RoundScheduler
  private readonly reconnector: Reconnector
  private readonly provideGate: CallGate
  private readonly lookupGate: CallGate
  private started = false
  private shutdown = new AbortController()
  private saveTimer?: ReturnType<typeof setTimeout>
  private saveEvery?: ReturnType<typeof setInterval>
  private saving: Promise<void> = Promise.resolve()
  private deadlines = 0
  private skippedCalls = 0
  private warnedStuckRound = false
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
    this.rounds = new RoundScheduler({
      nextDelay: () => jitter(this.interval),
      round: async () => { this.warnedStuckRound = false; await this.tick() },
      onSkip: (n, runningFor) => {
        // normal when the interval is shorter than the lookup bound; news only past the bound
        // (which the round's own deadline should prevent), and then once per round
        const stuck = runningFor > 2 * this.lookupTimeout
        const log = stuck && !this.warnedStuckRound ? this.log : this.log.trace
        if (stuck) this.warnedStuckRound = true
        log('previous discovery round still running after %d ms; skipped %d round(s)', runningFor, n)
      },
      onError: (err) => { this.log.error('discovery round failed: %e', err) }
    })
    this.reconnector = new Reconnector({
      connections: () => components.connectionManager.getConnections().length,
      redial: async (signal) => await this.redial(signal),
      backoff: new Backoff({ initial: init.reconnectMin ?? 1000, max: init.reconnectMax ?? 30_000 }),
      timeout: this.lookupTimeout,
      log: this.log
    })
    this.provideGate = new CallGate(this.lookupTimeout * FORGET_AFTER_BOUNDS)
    this.lookupGate = new CallGate(this.lookupTimeout * FORGET_AFTER_BOUNDS)
    this.onDiscovery = this.onDiscovery.bind(this)
    this.onIdentify = this.onIdentify.bind(this)
    this.onPeerChange = this.onPeerChange.bind(this)
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
    this.components.events.addEventListener('peer:connect', this.onPeerChange)
    this.components.events.addEventListener('peer:disconnect', this.onPeerChange)
    this.started = true
  }

  /** Dials from afterStart, once every component (transports included) is running. */
  async afterStart (): Promise<void> {
    const known = await this.loadKnownPeers(this.shutdown.signal)
    // libp2p's start may have failed (and stopped us) while we read: then nothing may dial
    if (!this.started) return
    this.dialBootstrap(known)
    this.rounds.start(0)
    this.reconnector.start()
    if (this.init.knownPeers != null) {
      this.saveEvery = setInterval(() => { this.saveSoon(0) }, this.saveInterval)
    }
  }

  /** Saves while connections are still open; libp2p closes them after beforeStop. */
  async beforeStop (): Promise<void> {
    this.clearTimers()
    // libp2p is about to close every connection: that is no reason to re-dial
    await this.reconnector.stop()
    await this.save()
  }

  async stop (): Promise<void> {
    this.started = false
    this.clearTimers()
    this.components.events.removeEventListener('peer:discovery', this.onDiscovery)
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:connect', this.onPeerChange)
    this.components.events.removeEventListener('peer:disconnect', this.onPeerChange)
    this.shutdown.abort()
    await this.reconnector.stop()
    await this.dialer.stop()
    await this.rounds.settled()
    await this.saving
  }

  /** Queued or running dials; for tests and status output. */
  get pendingDials (): number {
    return this.dialer.size
  }

  get stats (): DiscoveryStats {
    return {
      rounds: this.rounds.started,
      skippedRounds: this.rounds.skipped,
      deadlines: this.deadlines,
      skippedCalls: this.skippedCalls,
      isolated: this.reconnector.isolated,
      isolations: this.reconnector.isolations,
      reconnects: this.reconnector.reconnects,
      redials: this.reconnector.redials
    }
  }

  /** Runs one rendezvous round now, or waits for the one running (tests, "discover now"). */
  async discoverNow (): Promise<void> {
    await this.rounds.runNow()
  }

  private clearTimers (): void {
    this.rounds.stop()
    clearTimeout(this.saveTimer)
    clearInterval(this.saveEvery)
    this.saveTimer = this.saveEvery = undefined
  }

  private connected (peer: PeerId): boolean {
    return this.components.connectionManager.getConnections(peer).length > 0
  }

  private full (): boolean {
    return this.components.connectionManager.getConnections().length >= this.maxPeers
  }

  /** Dials a peer we know by id (its addresses go to the peer store first). */
  private async dialPeer (id: PeerId, addrs: Multiaddr[], reason: string, quiet = false): Promise<void> {
    if (id.equals(this.components.peerId) || this.connected(id) || this.full()) return
    if (addrs.length > 0) {
      await this.components.peerStore.merge(id, { multiaddrs: addrs.slice(0, MAX_SAVED_ADDRS) })
    }
    this.dialer.enqueue(id, reason, { quiet })
  }

  /** Dials join addresses and remembered peers; `quiet` for the isolated node's re-dials. */
  private dialBootstrap (known: KnownPeer[], quiet = false): RedialCounts {
    const counts = { join: 0, remembered: 0 }
    for (const addr of this.init.join ?? []) {
      try {
        const ma = multiaddr(addr)
        const id = ma.getComponents().findLast(c => c.name === 'p2p')?.value
        if (id === this.components.peerId.toString()) continue
        counts.join++
        if (id != null && this.connected(peerIdFromString(id))) continue
        this.dialer.enqueue(ma, 'join', { quiet })
      } catch (err) {
        if (!quiet) this.log.error('ignoring join address %s: %e', addr, err)
      }
    }
    for (const peer of known) {
      try {
        const addrs = peer.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
        const id = peerIdFromString(peer.id)
        if (id.equals(this.components.peerId)) continue
        counts.remembered++
        void this.dialPeer(id, addrs, 'remembered', quiet).catch(err => {
          this.log.trace('cannot dial remembered peer %s: %e', peer.id, err)
        })
      } catch (err) {
        if (!quiet) this.log('ignoring remembered peer %s: %e', peer.id, err)
      }
    }
    return counts
  }

  /** The reconnector's attempt: everyone we were given or remember, again. */
  private async redial (signal: AbortSignal): Promise<RedialCounts> {
    return this.dialBootstrap(await this.loadKnownPeers(signal), true)
  }

  /** Remembered peers, or none if the store fails or does not answer in time. */
  private async loadKnownPeers (signal: AbortSignal): Promise<KnownPeer[]> {
    const store = this.init.knownPeers
    if (store == null) return []
    try {
      return await withDeadline(this.lookupTimeout, signal, async () => await store.load())
    } catch (err) {
      if (!this.shutdown.signal.aborted) this.log.error('cannot load remembered peers: %e', err)
      return []
    }
  }

  /** One round: provide when due, look up providers, reconnect routing-table peers. */
  private async tick (): Promise<void> {
    const cid = this.cid
    if (cid == null || this.shutdown.signal.aborted) return
    // a missed connect/disconnect event must not leave an isolated node waiting
    this.reconnector.check()
    this.keepRoutingTablePeers()
    // one signal per round, aborted by us at the bound or at shutdown
    const round = new Deadline(this.lookupTimeout, this.shutdown.signal)
    try {
      const jobs = [this.bounded('findProviders', this.lookupGate, round, async () => { await this.findProviders(cid, round.signal) })]
      if (Date.now() - this.lastProvide >= this.provideInterval) {
        jobs.push(this.bounded('provide', this.provideGate, round, async () => { await this.provide(cid, round.signal) }))
      }
      await Promise.all(jobs)
    } finally {
      round.dispose()
    }
  }

  /**
   * Runs one DHT call and waits for it until the round's bound at most, whether or not the
   * callee honours the signal; skips it while the previous call of its kind is still stuck.
   */
  private async bounded (what: string, gate: CallGate, round: Deadline, call: () => Promise<void>): Promise<void> {
    const { state, skips } = gate.enter()
    if (state === 'busy') {
      this.skippedCalls++
      const log = skips === 1 ? this.log : this.log.trace
      log('%s from an earlier round outlived its %d ms bound; not starting another', what, round.ms)
      return
    }
    if (state === 'forgotten') this.log('%s from an earlier round never settled; starting a new one', what)
    const work = call()
    gate.track(work)
    try {
      await raceAbort(work, round.signal)
    } catch (err) {
      if (!round.expired) return // shutdown
      this.deadlines++
      this.log.trace('%s: %s', what, (err as Error).message)
    }
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
        if (signal.aborted) break // the round is over; leaving the loop closes the iterator
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

  private onPeerChange (): void {
    this.reconnector.check()
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
    // bounded: a store that never answers must not block every later save, nor stop()
    const run = this.saving.then(async () => {
      await withDeadline(this.lookupTimeout, undefined, async () => {
        const peers = await this.connectedClusterPeers()
        if (peers.length > 0) await store.save(peers)
      })
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
