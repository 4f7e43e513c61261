/**
 * A small bounded dial queue: at most `concurrency` dials at once, at most `maxQueued`
 * waiting, one entry per target, every dial with a timeout. Failures are logged, never thrown:
 * an unreachable peer is normal in a cluster.
 */
import './polyfill.js'
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

interface Job {
  key: string
  target: DialTargetLike
  reason: string
}

export class Dialer {
  private readonly waiting: Job[] = []
  private readonly keys = new Set<string>()
  private readonly running = new Set<Promise<void>>()
  private controller = new AbortController()

  constructor (private readonly init: DialerInit) {}

  /** Queues a dial unless the same target is already queued or dialling; returns whether it was queued. */
  enqueue (target: DialTargetLike, reason: string): boolean {
    const key = target.toString()
    if (this.controller.signal.aborted || this.keys.has(key)) return false
    if (this.waiting.length >= this.init.maxQueued) {
      this.init.log('dial queue full, dropping %s (%s)', key, reason)
      return false
    }
    this.keys.add(key)
    this.waiting.push({ key, target, reason })
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
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.init.timeout)])
    try {
      const conn = await this.init.dial(job.target, { signal })
      this.init.log('dialled %s (%s): %p', job.key, job.reason, conn.remotePeer)
    } catch (err) {
      this.init.log('dial %s (%s) failed: %s', job.key, job.reason, (err as Error).message ?? err)
    }
  }
}
