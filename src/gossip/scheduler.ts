/**
 * When anti-entropy rounds run, and with whom: a timer round with a random gossip peer every
 * intervalMs × (1 ± jitter), and an operator's sync on demand. Neither lets a busy peer cost
 * the round: a timer round tries other peers at once (and, if all it tried were busy, once more
 * when the first of them said to come back), a sync waits the busy one out.
 */
import type { AbortOptions, Logger, PeerId } from '@libp2p/interface'
import { NoGossipPeersError } from './errors.js'
import { pickRandom, randomOrder } from './random-pick.js'
import type { SessionRunner } from './session-runner.js'
import type { RoundReport } from './types.js'

/** other peers a timer round tries when the one it picked answers busy */
const BUSY_RETRIES = 2
/** tries of an operator's sync with a busy peer (backoff from 100 ms, at most 1 s apart, or when the peer says) */
const SYNC_NOW_RETRIES = 8
/** the longest an operator's sync waits between two tries, whatever the peer says */
const SYNC_NOW_MAX_WAIT_MS = 10_000

export interface RoundSchedulerInit {
  /** 0 turns the timer off */
  intervalMs: number
  jitter: number
  random: () => number
  runner: SessionRunner
  /** connected gossip peers */
  peers: () => Promise<PeerId[]>
  log: Logger
}

export class RoundScheduler {
  private timer: ReturnType<typeof setTimeout> | undefined
  /** the one retry of a timer round whose peers were all busy */
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private started = false
  /** a timer round came while a session ran; it runs when the session ends */
  private roundDue = false

  constructor (private readonly init: RoundSchedulerInit) {}

  start (): void {
    this.started = true
    this.schedule()
  }

  stop (): void {
    this.started = false
    clearTimeout(this.timer)
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  /** After a reconciliation session: the timer round it held back, if any. */
  sessionEnded (): void {
    if (this.roundDue && this.started && !this.init.runner.busy) void this.runTimerRound()
  }

  /**
   * One round now, with `peer` or a random gossip peer (even if another session runs here).
   * An operator's sync should not fail because the peer is in another session (our connect
   * sync, say): a busy answer, or a session with that peer already running, is waited out a
   * few times with backoff before the busy report is returned.
   */
  async syncNow (peer?: PeerId, options: AbortOptions = {}): Promise<RoundReport> {
    const target = peer ?? pickRandom(await this.gossipPeers(), 1, this.init.random)[0] as PeerId
    const { runner, random } = this.init
    const gaveUp = (): boolean => !this.started || options.signal?.aborted === true
    let report = await runner.initiate(target, options)
    for (let attempt = 0; attempt < SYNC_NOW_RETRIES && (report.outcome === 'busy' || report.outcome === 'refused'); attempt++) {
      if (gaveUp()) break
      const running = runner.runningWith(target)
      if (running !== undefined) {
        await running
      } else {
        const waitMs = report.retryAfterMs !== undefined ? Math.min(report.retryAfterMs, SYNC_NOW_MAX_WAIT_MS) : Math.min(1000, 100 * 2 ** attempt)
        await sleep(waitMs * (0.75 + 0.5 * random()), options.signal)
      }
      // the caller gave up while we waited: the busy answer is the outcome
      if (gaveUp()) break
      report = await runner.initiate(target, options)
    }
    return report
  }

  private schedule (): void {
    if (!this.started || this.init.intervalMs <= 0) return
    const { intervalMs, jitter, random } = this.init
    const delay = intervalMs * (1 - jitter + 2 * jitter * random())
    this.timer = setTimeout(() => {
      if (this.init.runner.busy) {
        // a session runs now: this round follows as soon as it ends (a skipped round is a lost
        // doubling step of the epidemic), and the timer goes on
        this.roundDue = true
        this.schedule()
        return
      }
      this.runTimerRound().finally(() => { this.schedule() })
    }, delay)
    this.timer.unref?.()
  }

  private async runTimerRound (retry = false): Promise<void> {
    this.roundDue = false
    await this.timerRound(retry).catch(err => {
      if (!(err instanceof NoGossipPeersError)) this.init.log.error('gossip round failed - %e', err)
    })
  }

  /**
   * A busy peer (in another session) costs the round nothing: up to BUSY_RETRIES other peers
   * are tried at once. If every one tried was busy, the round runs once more (not again after
   * that) when the soonest of them said to come back, if that is before the next round.
   */
  private async timerRound (retry: boolean): Promise<void> {
    const order = randomOrder(await this.gossipPeers(), this.init.random)
    let comeBack = Number.POSITIVE_INFINITY
    for (let attempt = 0; attempt <= BUSY_RETRIES && this.started; attempt++) {
      const next = order.next()
      if (next.done === true) break
      const report = await this.init.runner.initiate(next.value)
      if (report.outcome !== 'busy') return
      comeBack = Math.min(comeBack, report.retryAfterMs ?? Number.POSITIVE_INFINITY)
    }
    if (!retry && this.started && comeBack < this.init.intervalMs * (1 - this.init.jitter) && this.retryTimer === undefined) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined
        if (!this.started) return
        if (this.init.runner.busy) this.roundDue = true
        else void this.runTimerRound(true)
      }, comeBack)
      this.retryTimer.unref?.()
    }
  }

  private async gossipPeers (): Promise<PeerId[]> {
    const peers = await this.init.peers()
    if (peers.length === 0) throw new NoGossipPeersError('no gossip peers connected')
    return peers
  }
}

async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    const t = setTimeout(done, ms)
    function done (): void { clearTimeout(t); signal?.removeEventListener('abort', done); resolve() }
    signal?.addEventListener('abort', done, { once: true })
  })
}
