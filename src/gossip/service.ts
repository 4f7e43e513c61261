/**
 * The gossip service: libp2p start/stop wiring of its parts. The round scheduler decides when
 * to initiate, the inbound handler admits and reads peers' streams, the session runner runs
 * and records each exchange, the pusher sends local writes, connect sync starts a session
 * with each peer that connects; the round log is what the operator sees.
 */
import {
  KEEP_ALIVE, serviceCapabilities, TypedEventEmitter, type AbortOptions, type Logger, type PeerId, type Startable
} from '@libp2p/interface'
import type { EncodedPattern } from '../core/encoded-pattern.js'
import { DEFAULT_SETTINGS } from '../settings/node-settings.js'
import { OutboundChannels } from './channels.js'
import { ConnectSync } from './connect-sync.js'
import {
  CHANNEL_IDLE_MS, GOSSIP_PROTOCOL, MAX_INBOUND_STREAMS, MAX_SESSIONS_PER_PEER, MESSAGE_TIMEOUT_MS, ROUND_JITTER, SESSION_COOLDOWN_MS, SESSION_TIMEOUT_MS,
  MAX_BUFFERED_INBOUND_BYTES, MAX_CONCURRENT_SESSIONS, MAX_INBOUND_GOSSIP_STREAMS, PUSH_BYTES_PER_MINUTE, PUSH_FRAMES_PER_MINUTE, PUSH_NEW_KEYS_PER_MINUTE
} from './constants.js'
import { ServiceStoppingError } from './errors.js'
import { InboundHandler } from './inbound.js'
import { ByteBudget } from './byte-budget.js'
import type { Gossip, GossipComponents, GossipEvents, GossipInit } from './index.js'
import { GossipPeerSet } from './peer-set.js'
import { EagerPusher } from './push.js'
import { RoundLog } from './round-log.js'
import { RoundScheduler } from './scheduler.js'
import { SessionRunner } from './session-runner.js'
import { emptyReport, type GossipStore, type MergeVia, type RoundReport } from './types.js'

/** starts with KEEP_ALIVE, which is what libp2p's reconnect queue looks for */
const KEEP_ALIVE_TAG = `${KEEP_ALIVE}-engram-gossip`
/** how long a stop waits for running sessions to end before it cuts them */
const STOP_GRACE_MS = 2_000

type Settings = Required<Omit<GossipInit, 'store' | 'pushQuota'>> & { store: GossipStore, pushQuota: Required<NonNullable<GossipInit['pushQuota']>> }

/** what an option left out of GossipInit means (its @default tags in index.ts say the same) */
const DEFAULTS: Omit<Settings, 'store'> = {
  // the node's own defaults (settings module), so the CLI, the library and the service agree
  intervalMs: DEFAULT_SETTINGS.interval * 1000,
  jitter: ROUND_JITTER,
  fanout: DEFAULT_SETTINGS.fanout,
  sessionTimeoutMs: SESSION_TIMEOUT_MS,
  messageTimeoutMs: MESSAGE_TIMEOUT_MS,
  maxSessionsPerPeer: MAX_SESSIONS_PER_PEER,
  random: Math.random,
  keepRounds: 50,
  maxConcurrentSessions: MAX_CONCURRENT_SESSIONS,
  sessionCooldownMs: SESSION_COOLDOWN_MS,
  maxBufferedInboundBytes: MAX_BUFFERED_INBOUND_BYTES,
  maxInboundGossipStreams: MAX_INBOUND_GOSSIP_STREAMS,
  pushQuota: { newKeysPerMinute: PUSH_NEW_KEYS_PER_MINUTE, bytesPerMinute: PUSH_BYTES_PER_MINUTE, framesPerMinute: PUSH_FRAMES_PER_MINUTE },
  channelIdleMs: CHANNEL_IDLE_MS,
  connectSync: {}
}

export class DefaultGossip extends TypedEventEmitter<GossipEvents> implements Gossip, Startable {
  readonly [Symbol.toStringTag] = 'engram:gossip'
  readonly [serviceCapabilities] = ['@engram/gossip']
  private readonly log: Logger
  private readonly connectSyncOn: boolean
  private readonly roundLog: RoundLog
  private readonly peerSet: GossipPeerSet
  private readonly connectSync: ConnectSync
  private readonly channels: OutboundChannels
  private readonly runner: SessionRunner
  private readonly inbound: InboundHandler
  private readonly scheduler: RoundScheduler
  private readonly pusher: EagerPusher
  private started = false

  constructor (private readonly components: GossipComponents, init: GossipInit) {
    super()
    const log = this.log = components.logger.forComponent('engram:gossip')
    const debug = components.logger.forComponent('engram:gossip:debug')
    const settings: Settings = { ...DEFAULTS, ...init, pushQuota: { ...DEFAULTS.pushQuota, ...init.pushQuota } }
    // the cooldown must stay short against the round interval, or honest rounds would feel it
    if (init.sessionCooldownMs === undefined && settings.intervalMs > 0) {
      settings.sessionCooldownMs = Math.min(SESSION_COOLDOWN_MS, Math.round(settings.intervalMs / 6))
    }
    const { random, messageTimeoutMs } = settings
    this.connectSyncOn = settings.connectSync.enabled !== false
    this.roundLog = new RoundLog(settings.keepRounds)
    const budget = new ByteBudget(settings.maxBufferedInboundBytes)
    this.channels = new OutboundChannels({
      budget,
      open: async (peer, signal) => await components.connectionManager.openStream(peer, GOSSIP_PROTOCOL, { signal }),
      idleMs: settings.channelIdleMs,
      messageTimeoutMs,
      log
    })
    this.runner = new SessionRunner({
      store: settings.store,
      channels: this.channels,
      sessionTimeoutMs: settings.sessionTimeoutMs,
      maxConcurrentSessions: settings.maxConcurrentSessions,
      sessionCooldownMs: settings.sessionCooldownMs,
      pushQuota: settings.pushQuota,
      log,
      debug,
      running: () => this.started,
      record: r => { this.record(r) },
      progress: r => { this.safeDispatch('progress', r) },
      merged: (changed, from, via) => { this.merged(changed, from, via) },
      sessionEnded: () => { this.scheduler.sessionEnded() }
    })
    this.inbound = new InboundHandler({
      runner: this.runner,
      maxSessionsPerPeer: settings.maxSessionsPerPeer,
      maxStreams: settings.maxInboundGossipStreams,
      budget,
      messageTimeoutMs,
      log,
      debug
    })
    this.scheduler = new RoundScheduler({
      intervalMs: settings.intervalMs,
      jitter: settings.jitter,
      random,
      runner: this.runner,
      peers: async () => await this.gossipPeers(),
      log
    })
    this.pusher = new EagerPusher({
      fanout: settings.fanout,
      random,
      log,
      peers: async () => await this.gossipPeers(),
      open: async (peer, signal) => (await this.channels.acquire(peer, signal)).io,
      release: (peer, io) => { this.channels.release(peer, io) },
      report: r => { this.record(r) },
      controller: () => this.runner.newController()
    })
    this.connectSync = new ConnectSync({
      self: components.peerId,
      // like a timer round, it waits while this node is in a session: two at once would pull
      // the same difference twice (the peer that connected may be sending it to us right now)
      run: async (peer) => this.runner.busy ? { ...emptyReport(peer.toString(), 'initiator'), outcome: 'busy' } : await this.runner.initiate(peer),
      connected: (peer) => this.peerSet.has(peer),
      log,
      random,
      ...settings.connectSync
    })
    this.peerSet = new GossipPeerSet(components, GOSSIP_PROTOCOL, {
      joined: (peer) => {
        this.connectSync.connected(peer)
        this.keepAlive(peer)
      },
      left: (peer) => {
        this.connectSync.disconnected(peer)
        this.roundLog.forget(peer.toString())
        this.runner.forget(peer)
      }
    })
  }

  get lastRounds (): readonly RoundReport[] {
    return this.roundLog.lastRounds
  }

  get peerInSync (): ReadonlyMap<string, boolean> {
    return this.roundLog.peerInSync
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(GOSSIP_PROTOCOL, this.inbound.handle, {
      maxInboundStreams: MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_INBOUND_STREAMS
    })
    if (this.connectSyncOn) this.connectSync.start()
    await this.peerSet.start()
    this.inbound.start()
    this.started = true
    this.scheduler.start()
  }

  /**
   * A clean stop, while connections are still open: no new sessions, running ones get a
   * moment to finish, idle streams are closed (the peer reads a clean end, not a reset).
   */
  async beforeStop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.scheduler.stop()
    this.connectSync.stop()
    this.pusher.stop()
    await this.runner.settle(STOP_GRACE_MS)
    this.channels.stop()
    this.inbound.stop()
  }

  async stop (): Promise<void> {
    this.started = false
    this.scheduler.stop()
    this.connectSync.stop()
    this.pusher.stop()
    this.channels.stop()
    this.peerSet.stop()
    this.inbound.stop()
    this.runner.abortAll(new ServiceStoppingError('gossip service stopping'))
    await this.components.registrar.unhandle(GOSSIP_PROTOCOL)
  }

  async gossipPeers (): Promise<PeerId[]> {
    return this.peerSet.list()
  }

  pushLocal (patterns: readonly EncodedPattern[]): void {
    if (this.started) this.pusher.enqueue(patterns, undefined)
  }

  async syncNow (peer?: PeerId, options: AbortOptions = {}): Promise<RoundReport> {
    return await this.scheduler.syncNow(peer, options)
  }

  /** libp2p re-dials a lost peer with a KEEP_ALIVE tag (see libp2p.ts for how long). */
  private keepAlive (peer: PeerId): void {
    this.components.peerStore.merge(peer, { tags: { [KEEP_ALIVE_TAG]: { value: 1 } } }).catch((err: Error) => {
      this.log('cannot tag %p keep-alive - %e', peer, err)
    })
  }

  private record (report: RoundReport): void {
    this.roundLog.record(report)
    this.connectSync.exchanged(report)
    this.safeDispatch('round', report)
  }

  private merged (changed: EncodedPattern[], from: PeerId, via: MergeVia): void {
    this.safeDispatch('merged', { patterns: changed, from, via })
    // forward once: only news that came by push and changed our state goes on, so each node
    // forwards a write at most once; what anti-entropy brings is not re-flooded
    if (via === 'push') this.pusher.enqueue(changed, from)
  }

  private safeDispatch<K extends keyof GossipEvents> (type: K, detail: GossipEvents[K]['detail']): void {
    try {
      this.safeDispatchEvent(type, { detail })
    } catch (err) {
      this.log.error('event listener failed - %e', err)
    }
  }
}

// the paths other modules import from (index.ts is the entry)
export { gossip, NoGossipPeersError } from './index.js'
export type { Gossip as GossipService, GossipComponents, GossipInit } from './index.js'
export type { RoundReport, SessionRole } from './types.js'
