/**
 * Finds and keeps the cluster: dials join addresses and remembered peers at start, then
 * meets the rest through a DHT rendezvous (every node provides a CID derived from the
 * cluster name and looks up its providers), keeps connections to DHT routing-table peers,
 * and remembers connected cluster peers for the next start.
 *
 * Nothing here may stall: every await of a round has a hard bound (the DHT may ignore its
 * signal), rounds are scheduled independently of how the previous one ends, and a node with
 * no connection re-dials on its own backoff timers, apart from the DHT rounds.
 *
 * This file is the wiring; the parts live in bootstrap.ts (dialling known peers),
 * rendezvous.ts (the DHT calls), peer-memory.ts (remembered peers) and reconnect.ts.
 */
import '../node/polyfill.js'
import { setMaxListeners } from 'node:events'
import { serviceDependencies } from '@libp2p/interface'
import { DEFAULT_CLUSTER, DHT_PROTOCOL } from './constants.js'
import { Bootstrap } from './bootstrap.js'
import { Dialer } from './dialer.js'
import { PeerMemory } from './peer-memory.js'
import { Backoff, Reconnector } from './reconnect.js'
import { Rendezvous, rendezvousCid } from './rendezvous.js'
import { RoundScheduler } from './rounds.js'
import type { RedialCounts } from './reconnect.js'
import type { DiscoveryComponents, DiscoveryInit, DiscoveryStats } from './types.js'
import type { Logger, PeerId, PeerInfo, Startable } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export { rendezvousCid } from './rendezvous.js'
export type { DiscoveryComponents, DiscoveryInit, DiscoveryStats } from './types.js'

const SAVE_DEBOUNCE_MS = 1000

function jitter (ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4))
}

export class DiscoveryService implements Startable {
  readonly [Symbol.toStringTag] = 'engram:discovery'
  readonly [serviceDependencies] = ['@libp2p/kad-dht', '@libp2p/identify']

  private readonly log: Logger
  private readonly cluster: string
  private readonly interval: number
  private readonly lookupTimeout: number
  private readonly dialer: Dialer
  private readonly bootstrap: Bootstrap
  private readonly rendezvous: Rendezvous
  private readonly memory: PeerMemory
  private readonly rounds: RoundScheduler
  private readonly reconnector: Reconnector
  private started = false
  private shutdown = new AbortController()
  private warnedStuckRound = false
  private cid?: CID

  constructor (private readonly components: DiscoveryComponents, private readonly init: DiscoveryInit = {}) {
    this.log = components.logger.forComponent('engram:discovery')
    this.cluster = init.cluster ?? DEFAULT_CLUSTER
    this.interval = init.interval ?? 30_000
    this.lookupTimeout = init.lookupTimeout ?? 20_000
    this.dialer = new Dialer({
      concurrency: init.dialConcurrency ?? 8,
      maxQueued: 512,
      timeout: init.dialTimeout ?? 10_000,
      dial: async (target, options) => await components.connectionManager.openConnection(target, options),
      log: this.log
    })
    this.bootstrap = new Bootstrap({
      components, dialer: this.dialer, join: init.join ?? [], maxPeers: init.maxPeers ?? 64, log: this.log
    })
    this.rendezvous = new Rendezvous({
      components,
      lookupTimeout: this.lookupTimeout,
      provideInterval: init.provideInterval ?? this.interval * 10,
      dialPeer: async (id, addrs, reason) => await this.bootstrap.dialPeer(id, addrs, reason),
      log: this.log
    })
    this.memory = new PeerMemory({
      components,
      store: init.knownPeers,
      dhtProtocol: init.dhtProtocol ?? DHT_PROTOCOL,
      timeout: this.lookupTimeout,
      saveInterval: init.saveInterval ?? 60_000,
      log: this.log,
      running: () => this.started,
      shuttingDown: () => this.shutdown.signal.aborted
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
    this.rendezvous.reset()
    this.cid = await rendezvousCid(this.cluster)
    this.components.events.addEventListener('peer:discovery', this.onDiscovery)
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('peer:connect', this.onPeerChange)
    this.components.events.addEventListener('peer:disconnect', this.onPeerChange)
    this.started = true
  }

  /** Dials from afterStart, once every component (transports included) is running. */
  async afterStart (): Promise<void> {
    const known = await this.memory.load(this.shutdown.signal)
    // libp2p's start may have failed (and stopped us) while we read: then nothing may dial
    if (!this.started) return
    this.bootstrap.dialAll(known)
    this.rounds.start(0)
    this.reconnector.start()
    this.memory.startPeriodic()
  }

  /** Saves while connections are still open; libp2p closes them after beforeStop. */
  async beforeStop (): Promise<void> {
    this.clearTimers()
    // libp2p is about to close every connection: that is no reason to re-dial
    await this.reconnector.stop()
    await this.memory.save()
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
    await this.memory.settled()
  }

  /** Queued or running dials; for tests and status output. */
  get pendingDials (): number {
    return this.dialer.size
  }

  get stats (): DiscoveryStats {
    return {
      rounds: this.rounds.started,
      skippedRounds: this.rounds.skipped,
      deadlines: this.rendezvous.deadlines,
      skippedCalls: this.rendezvous.skippedCalls,
      isolated: this.reconnector.isolated,
      isolations: this.reconnector.isolations,
      reconnects: this.reconnector.reconnects,
      redials: this.reconnector.redials
    }
  }

  private clearTimers (): void {
    this.rounds.stop()
    this.memory.clearTimers()
  }

  /** The reconnector's attempt: everyone we were given or remember, again. */
  private async redial (signal: AbortSignal): Promise<RedialCounts> {
    return this.bootstrap.dialAll(await this.memory.load(signal), true)
  }

  /** One round: provide when due, look up providers, reconnect routing-table peers. */
  private async tick (): Promise<void> {
    const cid = this.cid
    if (cid == null || this.shutdown.signal.aborted) return
    // a missed connect/disconnect event must not leave an isolated node waiting
    this.reconnector.check()
    this.keepRoutingTablePeers()
    await this.rendezvous.round(cid, this.shutdown.signal)
  }

  /** kad-dht keeps no connections open; we do, so the cluster stays one mesh. */
  private keepRoutingTablePeers (): void {
    for (const id of this.routingTablePeers()) {
      void this.bootstrap.dialPeer(id, [], 'routing-table').catch(err => { this.log.trace('redial %p: %e', id, err) })
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
    void this.bootstrap.dialPeer(id, multiaddrs, 'discovered').catch(err => { this.log.trace('dial discovered %p: %e', id, err) })
  }

  private onIdentify (): void {
    this.memory.saveSoon(SAVE_DEBOUNCE_MS)
  }

  private onPeerChange (): void {
    this.reconnector.check()
  }
}

export function discovery (init: DiscoveryInit = {}): (components: DiscoveryComponents) => DiscoveryService {
  return (components) => new DiscoveryService(components, init)
}
