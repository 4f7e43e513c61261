/**
 * Hard time bounds for calls we do not control. A callee may ignore its AbortSignal (a DHT
 * query stuck on an unresponsive peer, a dial that never settles), so besides passing the
 * signal we stop waiting ourselves when it aborts.
 *
 * No `AbortSignal.any` here: on Node 20 it leaves one dependant on a long-lived signal per
 * call (nodejs/node#55351). A Deadline listens on its parent once and lets go when disposed.
 */
import { setMaxListeners } from 'node:events'

/** A bounded wait ran out; the callee may still be running. */
export class DeadlineError extends Error {
  constructor (readonly ms: number) {
    super(`gave up after ${ms} ms`)
    this.name = 'DeadlineError'
  }
}

/** An AbortSignal that aborts after `ms`, or when `parent` aborts, whichever comes first. */
export class Deadline {
  readonly signal: AbortSignal
  private readonly controller = new AbortController()
  private timer: ReturnType<typeof setTimeout>
  private endsAt: number
  private readonly onParentAbort = (): void => { this.abort(this.parent?.reason) }

  constructor (readonly ms: number, private readonly parent?: AbortSignal) {
    this.signal = this.controller.signal
    // libp2p components add a listener per sub-request; the bound keeps them short-lived
    setMaxListeners(Infinity, this.signal)
    this.endsAt = Date.now() + ms
    this.timer = setTimeout(() => { this.abort(new DeadlineError(ms)) }, ms)
    if (parent?.aborted === true) this.onParentAbort()
    else parent?.addEventListener('abort', this.onParentAbort, { once: true })
  }

  /** Whether the time ran out (as opposed to the parent aborting). */
  get expired (): boolean {
    return this.signal.reason instanceof DeadlineError
  }

  /** Brings the deadline forward to `ms` from now, if that is sooner. */
  shorten (ms: number): void {
    if (this.signal.aborted || Date.now() + ms >= this.endsAt) return
    clearTimeout(this.timer)
    this.endsAt = Date.now() + ms
    this.timer = setTimeout(() => { this.abort(new DeadlineError(ms)) }, ms)
  }

  /** Starts the `ms` again from now (a live feed: the bound is on silence, not on the whole answer). */
  restart (): void {
    if (this.signal.aborted) return
    clearTimeout(this.timer)
    this.endsAt = Date.now() + this.ms
    this.timer = setTimeout(() => { this.abort(new DeadlineError(this.ms)) }, this.ms)
  }

  /** Stops the timer and the parent listener; call when the bounded work is over. */
  dispose (): void {
    clearTimeout(this.timer)
    this.parent?.removeEventListener('abort', this.onParentAbort)
  }

  private abort (reason: unknown): void {
    this.dispose()
    this.controller.abort(reason)
  }
}

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as the signal aborts,
 * whether or not the callee listens to it. A late rejection of `promise` is swallowed.
 */
export async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {})
  if (signal.aborted) throw signal.reason
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Runs `fn` with a signal that aborts after `ms` (or with `parent`) and waits at most that long. */
export async function withDeadline<T> (ms: number, parent: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new Deadline(ms, parent)
  try {
    return await raceAbort(fn(deadline.signal), deadline.signal)
  } finally {
    deadline.dispose()
  }
}
