/**
 * Sync on connect: a gossip peer we have not exchanged with since it (re)connected gets an
 * anti-entropy session at once instead of at the next timer round, which may be a minute
 * away. That covers a node's first join, a new member, a peer back after a partition, and
 * a peer whose last exchange with us failed while it stayed connected (a cut link that
 * healed before the connection noticed). Like memberlist's push-pull on join.
 *
 * Bounded: one session at a time; each peer at most once per `cooldownMs` unless its last
 * attempt failed, and then with exponential backoff and a bounded number of tries. Only one
 * side of a new connection starts: the lower PeerId at once, the other after `graceMs` if no
 * exchange happened meanwhile (both starting at once would answer each other busy).
 */
import type { Logger, PeerId } from '@libp2p/interface'
import type { GossipConnectSyncInit } from './index.js'
import { succeeded, type RoundReport } from './types.js'

export interface ConnectSyncInit extends Omit<GossipConnectSyncInit, 'enabled'> {
  self: PeerId
  /** runs one session with the peer (the service's initiate) */
  run: (peer: PeerId) => Promise<RoundReport>
  /** whether the peer is a connected gossip peer now */
  connected: (peer: PeerId) => boolean
  log: Logger
  random?: () => number
}

interface PeerEntry {
  peer: PeerId
  /** a session is wanted: the peer connected, or the last exchange failed */
  wanted: boolean
  attempts: number
  timer?: ReturnType<typeof setTimeout>
  /** ms timestamp of the last successful exchange, either role */
  lastExchange: number
}

export class ConnectSync {
  private readonly entries = new Map<string, PeerEntry>()
  private readonly queue: PeerEntry[] = []
  private running = false
  private stopped = true
  private readonly graceMs: number
  private readonly cooldownMs: number
  private readonly backoffMs: number
  private readonly maxBackoffMs: number
  private readonly maxAttempts: number
  private readonly random: () => number

  constructor (private readonly init: ConnectSyncInit) {
    this.graceMs = init.graceMs ?? 1_000
    this.cooldownMs = init.cooldownMs ?? 5_000
    this.backoffMs = init.backoffMs ?? 500
    this.maxBackoffMs = init.maxBackoffMs ?? 4_000
    this.maxAttempts = init.maxAttempts ?? 12
    this.random = init.random ?? Math.random
  }

  start (): void {
    this.stopped = false
  }

  stop (): void {
    this.stopped = true
    for (const e of this.entries.values()) clearTimeout(e.timer)
    this.entries.clear()
    this.queue.length = 0
  }

  /** A gossip peer connected (first time, or again after losing every connection). */
  connected (peer: PeerId): void {
    if (this.stopped) return
    const e = this.entry(peer)
    if (Date.now() - e.lastExchange < this.cooldownMs) return
    e.wanted = true
    e.attempts = 0
    // the lower PeerId starts; the other only if nothing happened within the grace time
    this.schedule(e, this.init.self.toString() < peer.toString() ? 0 : this.graceMs)
  }

  /** The peer's last connection closed: its next connect starts afresh. */
  disconnected (peer: PeerId): void {
    const e = this.entries.get(peer.toString())
    if (e === undefined) return
    clearTimeout(e.timer)
    this.entries.delete(peer.toString())
  }

  /** A session (either role) or a push with the peer ended; failures ask for another session. */
  exchanged (report: RoundReport): void {
    if (this.stopped) return
    const e = this.entries.get(report.peer)
    const ok = succeeded(report)
    const session = report.role === 'initiator' || report.role === 'responder'
    if (ok && session) {
      if (e !== undefined) {
        e.lastExchange = Date.now()
        e.wanted = false
        e.attempts = 0
        clearTimeout(e.timer)
        e.timer = undefined
      }
      return
    }
    // a failed session or push, or a busy peer: what it was to carry must still get there
    if (ok || report.outcome === 'refused' || e === undefined || !this.init.connected(e.peer)) return
    e.wanted = true
    if (e.timer === undefined && !this.queue.includes(e)) this.schedule(e, this.backoff(e.attempts))
  }

  private entry (peer: PeerId): PeerEntry {
    const key = peer.toString()
    let e = this.entries.get(key)
    if (e === undefined) this.entries.set(key, e = { peer, wanted: false, attempts: 0, lastExchange: 0 })
    return e
  }

  private backoff (attempts: number): number {
    const base = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** Math.min(attempts, 20))
    return Math.round(base * (0.75 + 0.5 * this.random()))
  }

  private schedule (e: PeerEntry, delay: number): void {
    clearTimeout(e.timer)
    e.timer = setTimeout(() => {
      e.timer = undefined
      if (this.stopped || !e.wanted || this.queue.includes(e)) return
      this.queue.push(e)
      void this.drain()
    }, delay)
    e.timer.unref?.()
  }

  /** One session at a time, in the order peers became due. */
  private async drain (): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      for (let e = this.queue.shift(); e !== undefined && !this.stopped; e = this.queue.shift()) {
        if (!e.wanted || this.entries.get(e.peer.toString()) !== e || !this.init.connected(e.peer)) continue
        e.attempts++
        const report = await this.init.run(e.peer).catch((err: Error): undefined => {
          this.init.log('connect sync with %p failed - %e', e?.peer, err)
          return undefined
        })
        if (this.stopped) return
        if (report !== undefined && succeeded(report)) continue
        if (e.attempts >= this.maxAttempts) {
          this.init.log('connect sync with %p: %d attempts failed, leaving it to the timer rounds', e.peer, e.attempts)
          e.wanted = false
          continue
        }
        // busy, refused (a session with it runs already), failed: try again later
        this.schedule(e, this.backoff(e.attempts - 1))
      }
    } finally {
      this.running = false
    }
  }
}
