/**
 * The time bound of one call: an AbortSignal that aborts after `ms`, when `restart` is not
 * called again within `ms` (a live feed: no line, not even a heartbeat), or with the caller's
 * signal. Not AbortSignal.any/timeout: on Node 20 those leave a dependant on a long-lived
 * caller signal per call (nodejs/node#55351), and their timers would hold a CLI process open.
 */
export class IdleBound {
  readonly signal: AbortSignal
  private readonly controller = new AbortController()
  private timer: ReturnType<typeof setTimeout> | undefined
  private timedOut = false
  private readonly onParentAbort = (): void => { this.abort(this.parent?.reason) }

  constructor (readonly ms: number, private readonly parent?: AbortSignal) {
    this.signal = this.controller.signal
    if (parent?.aborted === true) this.onParentAbort()
    else parent?.addEventListener('abort', this.onParentAbort, { once: true })
    this.restart()
  }

  /** The time ran out (as opposed to the caller aborting). */
  get expired (): boolean {
    return this.timedOut
  }

  /** Starts the `ms` again from now. */
  restart (): void {
    if (this.signal.aborted) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timedOut = true
      this.abort(new DOMException(`no answer within ${this.ms} ms`, 'TimeoutError'))
    }, this.ms)
  }

  /** Stops the timer and the caller listener; call when the call is over. */
  dispose (): void {
    clearTimeout(this.timer)
    this.parent?.removeEventListener('abort', this.onParentAbort)
  }

  private abort (reason: unknown): void {
    this.dispose()
    this.controller.abort(reason)
  }
}
