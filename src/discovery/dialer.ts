/**
 * A small bounded dial queue: at most `concurrency` dials at once, at most `maxQueued`
 * waiting, one entry per target, every dial with a timeout that holds even if the dial
 * function ignores its signal. Failures are logged, never thrown: an unreachable peer is
 * normal in a cluster.
 */
import '../node/polyfill.js'
import { withDeadline } from '../utils/deadline.js'
import type { AbortOptions, Connection, Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export type DialTargetLike = PeerId | Multiaddr

export interface DialerInit {
  concurrency: number
  maxQueued: number
  timeout: number
  dial(target: DialTargetLike, options: AbortOptions): Promise<Connection>
  log: Logger
}

export interface EnqueueOptions {
  /** Log failures at trace level (repeated re-dials of a peer that is down). */
  quiet?: boolean
}

interface Job {
  key: string
  target: DialTargetLike
  reason: string
  quiet: boolean
}

export class Dialer {
  private readonly waiting: Job[] = []
  private readonly keys = new Set<string>()
  private readonly running = new Set<Promise<void>>()
  private controller = new AbortController()

  constructor (private readonly init: DialerInit) {}

  /** Queues a dial unless the same target is already queued or dialling; returns whether it was queued. */
  enqueue (target: DialTargetLike, reason: string, options: EnqueueOptions = {}): boolean {
    const key = target.toString()
    if (this.controller.signal.aborted || this.keys.has(key)) return false
    if (this.waiting.length >= this.init.maxQueued) {
      this.init.log('dial queue full, dropping %s (%s)', key, reason)
      return false
    }
    this.keys.add(key)
    this.waiting.push({ key, target, reason, quiet: options.quiet === true })
    this.pump()
    return true
  }

  get size (): number {
    return this.waiting.length + this.running.size
  }

  /** Aborts running dials, drops queued ones, waits for the running ones to settle. */
  async stop (): Promise<void> {
    this.controller.abort()
    this.waiting.length = 0
    await Promise.allSettled([...this.running])
    this.keys.clear()
  }

  /** After stop(), accept dials again (a libp2p node can be restarted). */
  reset (): void {
    if (this.controller.signal.aborted) this.controller = new AbortController()
  }

  private pump (): void {
    while (this.running.size < this.init.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()
      if (job == null) break
      const p = this.run(job).finally(() => {
        this.running.delete(p)
        this.keys.delete(job.key)
        this.pump()
      })
      this.running.add(p)
    }
  }

  private async run (job: Job): Promise<void> {
    try {
      // the slot is freed at the timeout even if the dial never settles
      const conn = await withDeadline(this.init.timeout, this.controller.signal,
        async signal => await this.init.dial(job.target, { signal }))
      this.init.log('dialled %s (%s): %p', job.key, job.reason, conn.remotePeer)
    } catch (err) {
      const log = job.quiet ? this.init.log.trace : this.init.log
      log('dial %s (%s) failed: %s', job.key, job.reason, (err as Error)?.message ?? err)
    }
  }
}
