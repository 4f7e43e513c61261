/**
 * Runs one exchange at a time per call and records how it ended: an outbound session
 * (initiate), or what an inbound stream brings next (serve: a push frame or a session).
 * It owns the count of reconciliation sessions running (both roles), the admission of inbound
 * ones (admission.ts) and the push quota (push-quota.ts), and the per-session controllers a
 * stop waits for or cuts.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { AbortOptions, Logger, PeerId, Stream } from '@libp2p/interface'
import type { EncodedPattern } from '../core/encoded-pattern.js'
import type { GossipMessage } from '../core/reconcile-messages.js'
import type { OutboundChannels } from './channels.js'
import {
  asSessionError, InboundBudgetError, InvalidMessageError, isPeerGone, isTimeout, ProtocolViolationError, SESSION_OVER, SessionTimeoutError
} from './errors.js'
import { PushQuota } from './push-quota.js'
import { keyHash } from '../core/encoding.js'
import type { PatternsMsg } from '../core/reconcile-messages.js'
import type { FramedStream } from './framed.js'
import { runInitiator } from './initiator.js'
import { mergeFrame } from './merge.js'
import { runResponder } from './responder.js'
import { sessionHooks } from './session-hooks.js'
import { SessionAdmission } from './admission.js'
import { BUSY_RETRY_MS } from './constants.js'
import { emptyReport, type GossipStore, type MergeVia, type PeerRefusal, type RoundReport, type SessionHooks } from './types.js'

/** how long push frames may be read one after another before the event loop gets a turn */
const YIELD_EVERY_MS = 10

export interface SessionRunnerInit {
  store: GossipStore
  channels: OutboundChannels
  sessionTimeoutMs: number
  /** reconciliation sessions (both roles) at once; a Hello beyond it is answered busy */
  maxConcurrentSessions: number
  /** under contention, the least time between a peer's inbound sessions (admission.ts) */
  sessionCooldownMs: number
  /** what one peer may push to us per minute (push-quota.ts) */
  pushQuota: { newKeysPerMinute: number, bytesPerMinute: number, framesPerMinute: number }
  log: Logger
  /** expected ends (a peer went away, a stop's goodbyes): worth a line only when debugging */
  debug: Logger
  /** false while stopping: a failure then is an ordinary end */
  running: () => boolean
  record: (report: RoundReport) => void
  progress: (snapshot: RoundReport) => void
  merged: (changed: EncodedPattern[], from: PeerId, via: MergeVia) => void
  /** a reconciliation session ended: a timer round it held back may run now */
  sessionEnded: () => void
}

export class SessionRunner {
  /** peers we run an outbound session with now (one each) */
  private readonly outbound = new Set<string>()
  /** those sessions, for a sync that waits one out */
  private readonly runs = new Map<string, Promise<RoundReport>>()
  private readonly controllers = new Set<AbortController>()
  private reconciling = 0
  private readonly admission: SessionAdmission
  private readonly pushQuota: PushQuota
  /** when push reading last gave the event loop a turn */
  private lastYield = 0

  constructor (private readonly init: SessionRunnerInit) {
    this.admission = new SessionAdmission({ maxSessions: init.maxConcurrentSessions, cooldownMs: init.sessionCooldownMs, busyRetryMs: BUSY_RETRY_MS })
    this.pushQuota = new PushQuota(init.pushQuota)
  }

  /** The peer left: its cooldown and push quota are forgotten. */
  forget (peer: PeerId): void {
    this.admission.forget(peer.toString())
    this.pushQuota.forget(peer.toString())
  }

  /** As many reconciliation sessions run as may: this node's own rounds wait (a Hello is decided by the admission rules). */
  get busy (): boolean {
    return this.reconciling >= this.init.maxConcurrentSessions
  }

  /** The end of the session with this peer running now (ours or its), if any. */
  runningWith (peer: PeerId): Promise<unknown> | undefined {
    return this.runs.get(peer.toString()) ?? this.admission.endOf(peer.toString())
  }

  /** A session with the peer as initiator; 'refused' at once if one with it runs in either role (it would move the same difference again). */
  async initiate (peer: PeerId, options: AbortOptions = {}): Promise<RoundReport> {
    const key = peer.toString()
    if (this.outbound.has(key) || this.admission.endOf(key) !== undefined) {
      return { ...emptyReport(key, 'initiator'), outcome: 'refused', error: 'a session with this peer is already running' }
    }
    this.outbound.add(key)
    const run = this.runInitiator(peer, options)
    this.runs.set(key, run)
    try {
      return await run
    } finally {
      this.runs.delete(key)
    }
  }

  /**
   * Before a peer's next frame after a push: while it is over its push quota nothing more is
   * read from it (its stream backs up). Otherwise, now and then, the event loop gets a turn:
   * frames already received are all read in one run of promise callbacks, which would starve
   * timers, the API and other peers while a peer keeps sending small frames.
   */
  async paceAfterPush (peer: PeerId, signal: AbortSignal): Promise<void> {
    const ms = this.pushQuota.pauseMs(peer.toString())
    if (ms > 0) {
      this.init.debug('pausing reads from %p for %d ms: over its push quota', peer, ms)
      await sleep(ms, undefined, { signal }).catch(() => {})
      this.lastYield = performance.now()
    } else if (performance.now() - this.lastYield >= YIELD_EVERY_MS) {
      await new Promise(resolve => setImmediate(resolve))
      this.lastYield = performance.now()
    }
  }

  /** One push frame or reconciliation session that starts with `first`; false when it failed (the stream is aborted then). */
  async serve (first: GossipMessage, io: FramedStream, peer: PeerId): Promise<boolean> {
    const ctl = this.newController()
    io.useSignal(ctl.signal)
    let report = emptyReport(peer.toString(), 'responder')
    try {
      if (first.type === 'patterns' && first.push) {
        report = { ...report, role: 'push-in', outcome: 'synced' }
        const { msg, keyHashes } = this.withinPushQuota(first, report)
        await mergeFrame(this.init.store, msg, report, this.init.log, changed => { this.init.merged(changed, peer, 'push') }, keyHashes)
      } else if (first.type === 'hello') {
        const admission = this.outbound.has(report.peer) ? this.admission.ownRound() : this.admission.admit(report.peer, this.reconciling)
        if (!admission.admitted) {
          await io.write({ type: 'reply', inSync: false, children: [], need: [], busy: true, retryAfterMs: admission.retryAfterMs })
          report.outcome = 'busy'
          report.retryAfterMs = admission.retryAfterMs
          report.refusal = admission.reason
          this.init.debug('busy to %p: %s; come back in %d ms', peer, admission.why, admission.retryAfterMs)
        } else {
          this.reconciling++
          try {
            await runResponder(first, io, this.init.store, report, this.init.log, this.hooks(report, io, peer))
          } finally {
            this.admission.ended(report.peer)
            this.sessionEnded()
          }
          report.outcome = report.rootsEqual ? 'in-sync' : 'synced'
        }
      } else {
        throw new ProtocolViolationError(`session must start with hello or push, got ${first.type}`)
      }
      return true
    } catch (err) {
      this.fail(report, err, io.stream)
      return false
    } finally {
      ctl.abort(SESSION_OVER)
      this.finish(report, io)
    }
  }

  /** An inbound stream failed before its next session started (bad first frame, timeout). */
  failedBeforeSession (peer: PeerId, io: FramedStream, err: unknown): void {
    const report = emptyReport(peer.toString(), 'responder')
    this.fail(report, err, io.stream)
    this.finish(report, io)
  }

  /** A stream refused at admission. */
  refused (peer: PeerId, err: Error): void {
    this.init.record({ ...emptyReport(peer.toString(), 'responder'), outcome: 'refused', error: `${err.name}: ${err.message}`, refusal: 'too-many-streams' })
  }

  /** A push frame's patterns that the peer's quota still allows (the rest are counted as skipped and logged), with their key hashes. */
  private withinPushQuota (msg: PatternsMsg, report: RoundReport): { msg: PatternsMsg, keyHashes: Uint8Array[] } {
    const index = this.init.store.index
    const hashes = msg.patterns.map(s => keyHash(s.key))
    const ok = this.pushQuota.take(report.peer, msg.patterns.map((s, i) => ({
      isNew: !index.has(hashes[i] as Uint8Array),
      bytes: msg.encoded?.[i]?.length ?? 0
    })))
    const left = ok.filter(x => !x).length
    if (left === 0) return { msg, keyHashes: hashes }
    const keep = (_: unknown, i: number): boolean => ok[i] === true
    report.patternsIn += left
    report.patternsSkipped += left
    report.refusal = 'push-quota'
    this.init.log('push from %s: %d of %d pattern(s) over its quota of new keys or bytes per minute, left to anti-entropy',
      report.peer, left, msg.patterns.length)
    return { msg: { ...msg, patterns: msg.patterns.filter(keep), encoded: msg.encoded?.filter(keep) }, keyHashes: hashes.filter(keep) }
  }

  /** A session's (or push's) own controller: aborted when the session is over or timed out. */
  newController (): AbortController {
    const c = new AbortController()
    this.controllers.add(c)
    const timeout = setTimeout(() => c.abort(new Error('session timeout')), this.init.sessionTimeoutMs)
    timeout.unref?.()
    c.signal.addEventListener('abort', () => { clearTimeout(timeout); this.controllers.delete(c) }, { once: true })
    return c
  }

  /** Waits up to graceMs for running sessions and pushes to end. */
  async settle (graceMs: number): Promise<void> {
    for (let waited = 0; this.controllers.size > 0 && waited < graceMs; waited += 50) {
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  /** Cuts what still runs. */
  abortAll (reason: Error): void {
    for (const c of this.controllers) c.abort(reason)
  }

  private async runInitiator (peer: PeerId, options: AbortOptions): Promise<RoundReport> {
    const report = emptyReport(peer.toString(), 'initiator')
    this.reconciling++
    const ctl = this.newController()
    // the caller's signal ends the session too: a listener removed at the end, not AbortSignal.any,
    // which leaves a dependant on a long-lived signal per call on Node 20
    const signal = ctl.signal
    const onCallerAbort = (): void => { ctl.abort(options.signal?.reason) }
    if (options.signal?.aborted === true) onCallerAbort()
    else options.signal?.addEventListener('abort', onCallerAbort, { once: true })
    let io: FramedStream | undefined
    try {
      for (let attempt = 0; ; attempt++) {
        const ch = await this.init.channels.acquire(peer, signal)
        io = ch.io
        try {
          const { busy, retryAfterMs } = await runInitiator(io, this.init.store, report, this.init.log, this.hooks(report, io, peer))
          report.outcome = busy ? 'busy' : report.rootsEqual ? 'in-sync' : 'synced'
          if (retryAfterMs !== undefined) report.retryAfterMs = retryAfterMs
          break
        } catch (err) {
          // a kept stream the peer closed meanwhile (it restarted its handler, say): once more on a new one
          if (!ch.reused || io.bytesIn > 0 || signal.aborted || attempt > 0) throw err
          this.init.log('kept stream to %p failed before any answer, opening a new one - %e', peer, err)
          io.stream.abort(err instanceof Error ? err : new Error(String(err)))
        }
      }
      this.init.channels.release(peer, io)
    } catch (err) {
      this.fail(report, err, io?.stream)
    } finally {
      options.signal?.removeEventListener('abort', onCallerAbort)
      ctl.abort(SESSION_OVER)
      this.outbound.delete(peer.toString())
      this.finish(report, io)
      this.sessionEnded()
    }
    return report
  }

  private sessionEnded (): void {
    this.reconciling--
    this.init.sessionEnded()
  }

  private fail (report: RoundReport, cause: unknown, stream: Stream | undefined): void {
    const err: any = asSessionError(cause)
    report.outcome = isTimeout(err) ? 'timeout' : 'error'
    report.error = `${String(err?.name ?? 'Error')}: ${String(err?.message ?? err)}`
    const refusal = refusalOf(err)
    if (refusal !== undefined) report.refusal = refusal
    if (isPeerGone(err) || !this.init.running()) {
      // the peer (or we) stopped or went away: an ordinary end, not a fault worth a stack trace
      this.init.debug('%s session with %s ended: %s', report.role, report.peer, report.error)
    } else {
      this.init.log.error('%s session with %s failed - %e', report.role, report.peer, err)
    }
    stream?.abort(err instanceof Error ? err : new Error(String(err)))
  }

  private finish (report: RoundReport, io: FramedStream | undefined): void {
    report.ms = Date.now() - report.startedAt
    report.bytesIn = io?.bytesIn ?? 0
    report.bytesOut = io?.bytesOut ?? 0
    this.init.record(report)
  }

  /** Session callbacks: merged news, and throttled progress events and logs for long transfers. */
  private hooks (report: RoundReport, io: FramedStream, peer: PeerId): SessionHooks {
    return sessionHooks(report, io, peer, this.init.log, {
      merged: changed => { this.init.merged(changed, peer, 'session') },
      progress: this.init.progress
    })
  }
}

/** A failure that is this node refusing or cutting the peer, as the refusal metric names it. */
function refusalOf (err: unknown): PeerRefusal | undefined {
  if (err instanceof InboundBudgetError) return 'inbound-budget'
  if (err instanceof SessionTimeoutError && err.message === 'frame not completed in time') return 'slow-frame'
  if (err instanceof ProtocolViolationError || err instanceof InvalidMessageError) return 'protocol-violation'
  return undefined
}
