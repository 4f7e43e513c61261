/**
 * Scheduling of periodic rounds that must never stall: the next round is scheduled when the
 * current one starts, not when it ends, so a round stuck on a callee cannot stop the loop;
 * and rounds never overlap, a round that comes due while the previous still runs is skipped.
 */

export interface RoundSchedulerInit {
  /** Delay before the next round, ms; called once per round (jitter goes here). */
  nextDelay: () => number
  /** One round. It should bound its own awaits; the scheduler does not wait for it. */
  round: () => Promise<void>
  /** A round came due while the previous one had run `runningFor` ms; `consecutive` counts from 1. */
  onSkip?: (consecutive: number, runningFor: number) => void
  onError?: (err: unknown) => void
}

export class RoundScheduler {
  private timer?: ReturnType<typeof setTimeout>
  private current?: Promise<void>
  private active = false
  private consecutiveSkips = 0
  private currentSince = 0
  /** Rounds started. */
  started = 0
  /** Rounds skipped because the previous one still ran. */
  skipped = 0

  constructor (private readonly init: RoundSchedulerInit) {}

  get running (): boolean {
    return this.current != null
  }

  start (firstDelay = 0): void {
    this.active = true
    this.schedule(firstDelay)
  }

  /** No more rounds; the one running (if any) goes on, see settled(). */
  stop (): void {
    this.active = false
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Waits for the round running, if any (bounded by the round itself). */
  async settled (): Promise<void> {
    await this.current
  }

  private schedule (delay: number): void {
    if (!this.active) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      // scheduled first: whatever this round does, there is a next one
      this.schedule(this.init.nextDelay())
      if (this.current != null) {
        this.skipped++
        this.init.onSkip?.(++this.consecutiveSkips, Date.now() - this.currentSince)
        return
      }
      this.begin()
    }, delay)
  }

  private begin (): void {
    this.consecutiveSkips = 0
    this.currentSince = Date.now()
    this.started++
    const run = Promise.resolve()
      .then(async () => { await this.init.round() })
      .catch(err => { this.init.onError?.(err) })
      .finally(() => { if (this.current === run) this.current = undefined })
    this.current = run
  }
}

/**
 * One kind of call (a DHT provide, a lookup) whose callee may outlive the round that waited
 * for it. While such a call is still in flight we do not start another (no pile-up of stuck
 * calls); after `forgetAfter` ms we stop counting on it ever settling and allow a new one.
 */
export class CallGate {
  private inflight?: { since: number, token: object }
  private skips = 0

  constructor (private readonly forgetAfter: number, private readonly now: () => number = Date.now) {}

  /**
   * 'free': start a call. 'busy': the previous one is still in flight (`skips` says how many
   * times in a row). 'forgotten': it has been in flight too long; start a new one anyway.
   */
  enter (): { state: 'free' | 'busy' | 'forgotten', skips: number } {
    if (this.inflight == null) return { state: 'free', skips: 0 }
    if (this.now() - this.inflight.since >= this.forgetAfter) {
      this.inflight = undefined
      this.skips = 0
      return { state: 'forgotten', skips: 0 }
    }
    return { state: 'busy', skips: ++this.skips }
  }

  /** Marks `call` in flight until it settles. */
  track (call: Promise<unknown>): void {
    const token = {}
    this.inflight = { since: this.now(), token }
    this.skips = 0
    const clear = (): void => {
      if (this.inflight?.token === token) this.inflight = undefined
    }
    call.then(clear, clear)
  }

  get busy (): boolean {
    return this.inflight != null
  }
}
