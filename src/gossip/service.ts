/**
 * /engram/gossip/1.0.0 as a libp2p service: periodic anti-entropy rounds with a
 * random gossip peer on a jittered timer, an inbound handler for sessions and
 * eager pushes, and eager push of local writes. Shaped like js-libp2p's ping
 * service: `gossip(init)` returns a factory of components -> service.
 */
import {
  KEEP_ALIVE, serviceCapabilities, TypedEventEmitter, type AbortOptions, type Connection, type Logger, type PeerId, type Startable, type Stream
} from '@libp2p/interface'
import type { PatternState } from '../core/pattern.js'
import {
  CHANNEL_IDLE_MS, CHANNEL_IDLE_RESPONDER_MS, GOSSIP_PROTOCOL, ROUND_JITTER, MAX_INBOUND_STREAMS, MAX_SESSIONS_PER_PEER, MESSAGE_TIMEOUT_MS, SESSION_TIMEOUT_MS
} from './constants.js'
import { ProtocolViolationError, ServiceStoppingError, TooManySessionsError } from './errors.js'
import { FramedStream } from './framed.js'
import { OutboundChannels } from './channels.js'
import { sessionHooks } from './session-hooks.js'
import { GossipPeerSet } from './peer-set.js'
import { ConnectSync } from './connect-sync.js'
import { runInitiator } from './initiator.js'
import { runResponder } from './responder.js'
import { EagerPusher } from './push.js'
import type { GossipMessage } from '../core/reconcile-messages.js'
import {
  emptyReport, type GossipComponents, type GossipEvents, type GossipInit, type GossipStore, type RoundReport, type SessionHooks, type SessionRole
} from './types.js'

/** starts with KEEP_ALIVE, which is what libp2p's reconnect queue looks for */
const KEEP_ALIVE_TAG = `${KEEP_ALIVE}-engram-gossip`
/** how long a stop waits for running sessions to end before it cuts them */
const STOP_GRACE_MS = 2_000
/** errors that only say the peer (or its connection) went away: normal, logged at debug */
const PEER_GONE = new Set([
  'StreamResetError', 'StreamAbortedError', 'StreamClosedError', 'ConnectionClosedError',
  'ConnectionClosingError', 'MuxerClosedError', 'UnexpectedEOFError', 'ServiceStoppingError'
])
/** other peers a timer round tries when the one it picked answers busy */
const BUSY_RETRIES = 2
/** tries of an operator's sync with a busy peer (backoff from 100 ms, at most 1 s apart) */
const SYNC_NOW_RETRIES = 8

async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    const t = setTimeout(done, ms)
    function done (): void { clearTimeout(t); signal?.removeEventListener('abort', done); resolve() }
    signal?.addEventListener('abort', done, { once: true })
  })
}

export class GossipService extends TypedEventEmitter<GossipEvents> implements Startable {
  readonly [Symbol.toStringTag] = 'engram:gossip'
  readonly [serviceCapabilities] = ['@engram/gossip']
  readonly lastRounds: RoundReport[] = []
  /** per peer: were the roots equal at the last exchange */
  readonly peerInSync = new Map<string, boolean>()
  private readonly log: Logger
  /** expected events worth a line only when debugging (a peer went away, a stop's goodbyes) */
  private readonly debug: Logger
  private readonly init: Required<Omit<GossipInit, 'store'>> & { store: GossipStore }
  private readonly inbound = new Map<string, number>()
  private readonly outbound = new Set<string>()
  /** outbound sessions running now, by peer */
  private readonly outboundRuns = new Map<string, Promise<RoundReport>>()
  private readonly controllers = new Set<AbortController>()
  private readonly pusher: EagerPusher
  private readonly channels: OutboundChannels
  private readonly peerSet: GossipPeerSet
  private readonly connectSync: ConnectSync
  /** aborted on stop: ends inbound streams waiting for their next session */
  private lifetime = new AbortController()
  private timer: ReturnType<typeof setTimeout> | undefined
  /** reconciliation sessions running now, both roles */
  private reconciling = 0
  /** a timer round came while a session ran; it runs when the session ends */
  private roundDue = false
  private started = false

  constructor (private readonly components: GossipComponents, init: GossipInit) {
    super()
    this.log = components.logger.forComponent('engram:gossip')
    this.debug = components.logger.forComponent('engram:gossip:debug')
    this.init = {
      intervalMs: 60_000,
      jitter: ROUND_JITTER,
      fanout: 'auto',
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      messageTimeoutMs: MESSAGE_TIMEOUT_MS,
      maxSessionsPerPeer: MAX_SESSIONS_PER_PEER,
      random: Math.random,
      keepRounds: 50,
      maxConcurrentSessions: 1,
      channelIdleMs: CHANNEL_IDLE_MS,
      connectSync: {},
      ...init
    }
    this.connectSync = new ConnectSync({
      self: components.peerId,
      // like a timer round, it waits while this node is in a session: two at once would pull
      // the same difference twice (the peer that connected may be sending it to us right now)
      run: async (peer) => this.reconciling >= this.init.maxConcurrentSessions
        ? { ...emptyReport(peer.toString(), 'initiator'), outcome: 'busy' }
        : await this.initiate(peer, {}),
      connected: (peer) => this.peerSet.has(peer),
      log: this.log,
      random: this.init.random,
      ...this.init.connectSync
    })
    this.peerSet = new GossipPeerSet(components, GOSSIP_PROTOCOL, {
      joined: (peer) => {
        this.connectSync.connected(peer)
        this.keepAlive(peer)
      },
      left: (peer) => { this.connectSync.disconnected(peer) }
    })
    this.channels = new OutboundChannels({
      open: async (peer, signal) => this.components.connectionManager.openStream(peer, GOSSIP_PROTOCOL, { signal }),
      idleMs: this.init.channelIdleMs,
      messageTimeoutMs: this.init.messageTimeoutMs,
      log: this.log
    })
    this.pusher = new EagerPusher({
      store: this.init.store,
      fanout: this.init.fanout,
      random: this.init.random,
      log: this.log,
      peers: () => this.gossipPeers(),
      open: async (peer, signal) => (await this.channels.acquire(peer, signal)).io,
      release: (peer, io) => { this.channels.release(peer, io) },
      report: r => this.record(r),
      controller: () => this.newController()
    })
    this.handleStream = this.handleStream.bind(this)
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(GOSSIP_PROTOCOL, this.handleStream, {
      maxInboundStreams: MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_INBOUND_STREAMS
    })
    if (this.init.connectSync.enabled !== false) this.connectSync.start()
    await this.peerSet.start()
    this.lifetime = new AbortController()
    this.started = true
    this.schedule()
  }

  /**
   * A clean stop, while connections are still open: no new sessions, running ones get a
   * moment to finish, idle streams are closed (the peer reads a clean end, not a reset).
   */
  async beforeStop (): Promise<void> {
    if (!this.started) return
    this.started = false
    clearTimeout(this.timer)
    this.connectSync.stop()
    this.pusher.stop()
    for (let waited = 0; this.controllers.size > 0 && waited < STOP_GRACE_MS; waited += 50) {
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    this.channels.stop()
    this.lifetime.abort(new ServiceStoppingError('gossip service stopping'))
  }

  async stop (): Promise<void> {
    this.started = false
    clearTimeout(this.timer)
    this.connectSync.stop()
    this.pusher.stop()
    this.channels.stop()
    this.peerSet.stop()
    this.lifetime.abort(new ServiceStoppingError('gossip service stopping'))
    for (const c of this.controllers) c.abort(new ServiceStoppingError('gossip service stopping'))
    await this.components.registrar.unhandle(GOSSIP_PROTOCOL)
  }

  /** libp2p re-dials a lost peer with a KEEP_ALIVE tag (see libp2p.ts for how long). */
  private keepAlive (peer: PeerId): void {
    this.components.peerStore.merge(peer, { tags: { [KEEP_ALIVE_TAG]: { value: 1 } } }).catch((err: Error) => {
      this.log('cannot tag %p keep-alive - %e', peer, err)
    })
  }

  /** Connected peers that speak the gossip protocol. */
  async gossipPeers (): Promise<PeerId[]> {
    return this.peerSet.list()
  }

  /** Eager push of local writes (no-op when fanout is 0). */
  pushLocal (states: PatternState[]): void {
    if (this.started) this.pusher.enqueue(states, undefined)
  }

  /**
   * One anti-entropy round now, with `peer` or a random gossip peer (even if another session
   * runs here). An operator's sync should not fail because the peer is in another session
   * (our connect sync, say): a busy answer, or a session with that peer already running, is
   * waited out a few times with backoff before the busy report is returned.
   */
  async syncNow (peer?: PeerId, options: AbortOptions = {}): Promise<RoundReport> {
    if (peer === undefined) {
      const peers = await this.gossipPeers()
      if (peers.length === 0) throw new NoGossipPeersError('no gossip peers connected')
      peer = peers[Math.floor(this.init.random() * peers.length)] as PeerId
    }
    let report = await this.initiate(peer, options)
    for (let attempt = 0; attempt < SYNC_NOW_RETRIES && (report.outcome === 'busy' || report.outcome === 'refused'); attempt++) {
      if (!this.started || options.signal?.aborted === true) break
      const running = this.outboundRuns.get(peer.toString())
      if (running !== undefined) await running
      else await sleep(Math.min(1000, 100 * 2 ** attempt) * (0.75 + 0.5 * this.init.random()), options.signal)
      report = await this.initiate(peer, options)
    }
    return report
  }

  private schedule (): void {
    if (!this.started || this.init.intervalMs <= 0) return
    const { intervalMs, jitter, random } = this.init
    const delay = intervalMs * (1 - jitter + 2 * jitter * random())
    this.timer = setTimeout(() => {
      if (this.reconciling >= this.init.maxConcurrentSessions) {
        // a session runs now: this round follows as soon as it ends (a skipped round is a lost
        // doubling step of the epidemic), and the timer goes on
        this.roundDue = true
        this.schedule()
        return
      }
      this.runTimerRound().finally(() => this.schedule())
    }, delay)
    this.timer.unref?.()
  }

  private async runTimerRound (): Promise<void> {
    this.roundDue = false
    await this.timerRound().catch(err => {
      if (err.name !== 'NoGossipPeersError') this.log.error('gossip round failed - %e', err)
    })
  }

  /** After a session: the timer round it held back, if any. */
  private sessionEnded (): void {
    this.reconciling--
    if (this.roundDue && this.started && this.reconciling < this.init.maxConcurrentSessions) void this.runTimerRound()
  }

  /**
   * A timer round with a random gossip peer; a busy peer (in another session) costs the round
   * nothing: up to BUSY_RETRIES other peers are tried at once, so busy replies do not slow
   * convergence (a lost round is a lost doubling step of the epidemic).
   */
  private async timerRound (): Promise<void> {
    const peers = await this.gossipPeers()
    if (peers.length === 0) throw new NoGossipPeersError('no gossip peers connected')
    const pool = [...peers]
    for (let attempt = 0; attempt <= BUSY_RETRIES && pool.length > 0 && this.started; attempt++) {
      const peer = pool.splice(Math.floor(this.init.random() * pool.length), 1)[0] as PeerId
      const report = await this.initiate(peer, {})
      if (report.outcome !== 'busy') return
    }
  }

  private newController (): AbortController {
    const c = new AbortController()
    this.controllers.add(c)
    const timeout = setTimeout(() => c.abort(new Error('session timeout')), this.init.sessionTimeoutMs)
    timeout.unref?.()
    c.signal.addEventListener('abort', () => { clearTimeout(timeout); this.controllers.delete(c) }, { once: true })
    return c
  }

  private async initiate (peer: PeerId, options: AbortOptions): Promise<RoundReport> {
    const key = peer.toString()
    if (this.outbound.has(key)) {
      const report = emptyReport(key, 'initiator')
      report.outcome = 'refused'
      report.error = 'a session with this peer is already running'
      return report
    }
    this.outbound.add(key)
    const run = this.runInitiatorSession(peer, options)
    this.outboundRuns.set(key, run)
    try {
      return await run
    } finally {
      this.outboundRuns.delete(key)
    }
  }

  private async runInitiatorSession (peer: PeerId, options: AbortOptions): Promise<RoundReport> {
    const key = peer.toString()
    const report = emptyReport(key, 'initiator')
    this.reconciling++
    const ctl = this.newController()
    const signal = options.signal !== undefined ? AbortSignal.any([ctl.signal, options.signal]) : ctl.signal
    let io: FramedStream | undefined
    try {
      for (let attempt = 0; ; attempt++) {
        const ch = await this.channels.acquire(peer, signal)
        io = ch.io
        try {
          const { busy } = await runInitiator(io, this.init.store, report, this.log, this.hooks(report, io, peer))
          report.outcome = busy ? 'busy' : report.rootsEqual ? 'in-sync' : 'synced'
          break
        } catch (err) {
          // a kept stream the peer closed meanwhile (it restarted its handler, say): once more on a new one
          if (!ch.reused || io.bytesIn > 0 || signal.aborted || attempt > 0) throw err
          this.log('kept stream to %p failed before any answer, opening a new one - %e', peer, err)
          io.stream.abort(err instanceof Error ? err : new Error(String(err)))
        }
      }
      this.channels.release(peer, io)
    } catch (err: any) {
      this.fail(report, err, io?.stream)
    } finally {
      ctl.abort()
      this.outbound.delete(key)
      this.finish(report, io)
      this.sessionEnded()
    }
    return report
  }

  /**
   * An inbound gossip stream carries sessions and push frames one after another until the
   * peer closes it or stays silent for CHANNEL_IDLE_RESPONDER_MS. An invalid message or a
   * failed session aborts the stream (the peer opens a new one for its next session).
   */
  private async handleStream (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer
    const key = peer.toString()
    const active = this.inbound.get(key) ?? 0
    if (active >= this.init.maxSessionsPerPeer) {
      this.log('refusing gossip stream from %p: %d already open', peer, active)
      const err = new TooManySessionsError(`at most ${this.init.maxSessionsPerPeer} gossip streams per peer`)
      stream.abort(err)
      this.record({ ...emptyReport(key, 'responder'), outcome: 'refused', error: `${err.name}: ${err.message}` })
      return
    }
    this.inbound.set(key, active + 1)
    const io = new FramedStream(stream, this.lifetime.signal, this.init.messageTimeoutMs)
    try {
      for (let sessions = 0; ; sessions++) {
        io.useSignal(this.lifetime.signal)
        io.resetCounts()
        let first: GossipMessage | undefined
        try {
          // a new stream is opened to be used at once; only a kept one may idle between sessions
          first = await io.readOrEnd(sessions === 0 ? this.init.messageTimeoutMs : CHANNEL_IDLE_RESPONDER_MS)
        } catch (err: any) {
          if (sessions > 0 && err?.name === 'SessionTimeoutError' && !this.lifetime.signal.aborted) {
            this.log.trace('gossip stream from %p idle, closing it', peer)
            break
          }
          if (err?.name === 'ServiceStoppingError') {
            this.debug('closing idle gossip stream from %p: stopping', peer)
            break
          }
          const report = emptyReport(key, 'responder')
          this.fail(report, err, stream)
          this.finish(report, io)
          return
        }
        if (first === undefined) break
        if (!await this.serveSession(first, io, peer)) return
      }
      await stream.close({ signal: AbortSignal.timeout(this.init.messageTimeoutMs) })
    } catch (err: any) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      const n = (this.inbound.get(key) ?? 1) - 1
      if (n <= 0) this.inbound.delete(key)
      else this.inbound.set(key, n)
    }
  }

  /** One push frame or reconciliation session; false when it failed (the stream is aborted then). */
  private async serveSession (first: GossipMessage, io: FramedStream, peer: PeerId): Promise<boolean> {
    const ctl = this.newController()
    io.useSignal(ctl.signal)
    let report = emptyReport(peer.toString(), 'responder')
    try {
      if (first.type === 'patterns' && first.push) {
        report = { ...report, role: 'push-in', outcome: 'synced' }
        await this.pusher.receive(first.patterns, report, changed => this.merged(changed, peer, true), first.encoded)
      } else if (first.type === 'hello') {
        if (this.reconciling >= this.init.maxConcurrentSessions) {
          await io.write({ type: 'reply', inSync: false, children: [], need: [], busy: true })
          report.outcome = 'busy'
        } else {
          this.reconciling++
          try {
            await runResponder(first, io, this.init.store, report, this.log, this.hooks(report, io, peer))
          } finally {
            this.sessionEnded()
          }
          report.outcome = report.rootsEqual ? 'in-sync' : 'synced'
        }
      } else {
        throw new ProtocolViolationError(`session must start with hello or push, got ${first.type}`)
      }
      return true
    } catch (err: any) {
      this.fail(report, err, io.stream)
      return false
    } finally {
      ctl.abort()
      this.finish(report, io)
    }
  }

  private fail (report: RoundReport, err: any, stream: Stream | undefined): void {
    report.outcome = err?.name === 'SessionTimeoutError' || err?.name === 'TimeoutError' ? 'timeout' : 'error'
    report.error = `${String(err?.name ?? 'Error')}: ${String(err?.message ?? err)}`
    if (PEER_GONE.has(err?.name) || !this.started) {
      // the peer (or we) stopped or went away: an ordinary end, not a fault worth a stack trace
      this.debug('%s session with %s ended: %s', report.role, report.peer, report.error)
    } else {
      this.log.error('%s session with %s failed - %e', report.role, report.peer, err)
    }
    stream?.abort(err instanceof Error ? err : new Error(String(err)))
  }

  private finish (report: RoundReport, io: FramedStream | undefined): void {
    report.ms = Date.now() - report.startedAt
    report.bytesIn = io?.bytesIn ?? 0
    report.bytesOut = io?.bytesOut ?? 0
    this.record(report)
  }

  private record (report: RoundReport): void {
    if ((report.role === 'initiator' || report.role === 'responder') && (report.outcome === 'in-sync' || report.outcome === 'synced')) {
      this.peerInSync.set(report.peer, report.rootsEqual)
    }
    this.connectSync.exchanged(report)
    this.lastRounds.push(report)
    if (this.lastRounds.length > this.init.keepRounds) this.lastRounds.shift()
    this.safeDispatch('round', report)
  }

  /** Session callbacks: merged news, and throttled progress events and logs for long transfers. */
  private hooks (report: RoundReport, io: FramedStream, peer: PeerId): SessionHooks {
    return sessionHooks(report, io, peer, this.log, {
      merged: changed => { this.merged(changed, peer, false) },
      progress: r => { this.safeDispatch('progress', r) }
    })
  }

  private merged (changed: PatternState[], from: PeerId, fromPush: boolean): void {
    this.safeDispatch('merged', { states: changed, from, via: fromPush ? 'push' : 'session' })
    // forward once: only news that came by push and changed our state goes on, so each node
    // forwards a write at most once; what anti-entropy brings is not re-flooded
    if (fromPush) this.pusher.enqueue(changed, from)
  }

  private safeDispatch<K extends keyof GossipEvents> (type: K, detail: GossipEvents[K]['detail']): void {
    try {
      this.safeDispatchEvent(type, { detail })
    } catch (err) {
      this.log.error('event listener failed - %e', err)
    }
  }
}

export class NoGossipPeersError extends Error {
  override name = 'NoGossipPeersError'
}

export function gossip (init: GossipInit): (components: GossipComponents) => GossipService {
  return (components) => new GossipService(components, init)
}

export type { GossipComponents, GossipInit, RoundReport, SessionRole }
