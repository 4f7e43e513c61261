/**
 * Keeps an isolated node trying: with no connection at all it re-dials its join addresses
 * and remembered peers with exponential, jittered backoff, on its own timers, so nothing the
 * DHT does (or fails to do) can keep it from coming back. Logged once when isolated and once
 * when reconnected; the attempts in between go to trace.
 */
import { withDeadline } from '../utils/deadline.js'
import type { Logger } from '@libp2p/interface'

export interface BackoffInit {
  /** First delay, ms. */
  initial: number
  /** Largest delay, ms. */
  max: number
  /** Growth per attempt. Default 2. */
  factor?: number
  /** Fraction of the delay taken off at random, 0..1. Default 0.3. */
  jitter?: number
  /** Source of randomness in [0, 1). Default Math.random. */
  random?: () => number
}

/** Exponential backoff; jitter only shortens a delay, so `max` holds. */
export class Backoff {
  private n = 0

  constructor (private readonly init: BackoffInit) {}

  /** Attempts since the last reset. */
  get attempts (): number {
    return this.n
  }

  /** The delay before the next attempt, ms. */
  next (): number {
    const { initial, max, factor = 2, jitter = 0.3, random = Math.random } = this.init
    // min() before pow() would overflow: stop growing once past max
    const base = Math.min(max, initial * Math.pow(factor, Math.min(this.n, 64)))
    this.n++
    return Math.max(0, Math.round(base * (1 - jitter * random())))
  }

  reset (): void {
    this.n = 0
  }
}

export interface RedialCounts {
  join: number
  remembered: number
}

export interface ReconnectorInit {
  /** Open connections now. */
  connections: () => number
  /** Queues dials to every join address and remembered peer; must honour `signal`. */
  redial: (signal: AbortSignal) => Promise<RedialCounts>
  backoff: Backoff
  /** Bound of one redial call (it loads remembered peers), ms. */
  timeout: number
  log: Logger
}

export class Reconnector {
  private timer?: ReturnType<typeof setTimeout>
  private attempt?: Promise<void>
  private shutdown = new AbortController()
  private active = false
  private announced = false
  /** Times the node was found isolated (and said so). */
  isolations = 0
  /** Times it reconnected after that. */
  reconnects = 0
  /** Re-dial attempts. */
  redials = 0

  constructor (private readonly init: ReconnectorInit) {}

  /** Whether the node has no connection and has started re-dialling. */
  get isolated (): boolean {
    return this.timer != null || this.attempt != null || this.announced
  }

  start (): void {
    this.active = true
    this.shutdown = new AbortController()
    this.init.backoff.reset()
    this.announced = false
    this.check()
  }

  async stop (): Promise<void> {
    this.active = false
    clearTimeout(this.timer)
    this.timer = undefined
    this.shutdown.abort()
    await this.attempt
  }

  /** Looks at the connection count; cheap, call it on every connect/disconnect. */
  check (): void {
    if (!this.active) return
    const n = this.init.connections()
    if (n > 0) {
      clearTimeout(this.timer)
      this.timer = undefined
      if (this.announced) {
        this.reconnects++
        this.init.log('reconnected: %d connection(s) after %d re-dial attempt(s)', n, this.init.backoff.attempts)
      }
      this.announced = false
      this.init.backoff.reset()
      return
    }
    if (this.timer == null && this.attempt == null) this.schedule(this.init.backoff.next())
  }

  private schedule (delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined
      // redial is bounded by withDeadline, so this always settles and the next check runs
      this.attempt = this.redialOnce().finally(() => {
        this.attempt = undefined
        this.check()
      })
    }, delay)
  }

  private async redialOnce (): Promise<void> {
    if (!this.active || this.init.connections() > 0) return
    this.redials++
    try {
      const counts = await withDeadline(this.init.timeout, this.shutdown.signal, this.init.redial)
      if (this.announced) {
        this.init.log.trace('still no connections; re-dial attempt %d', this.init.backoff.attempts)
      } else if (counts.join + counts.remembered > 0) {
        this.announced = true
        this.isolations++
        this.init.log('no connections; re-dialling %d join addresses and %d remembered peers', counts.join, counts.remembered)
      } else {
        this.init.log.trace('no connections and no join address or remembered peer to re-dial')
      }
    } catch (err) {
      if (this.active) this.init.log.error('re-dial failed: %e', err)
    }
  }
}
