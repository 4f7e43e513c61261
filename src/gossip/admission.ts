/**
 * Which inbound reconciliation sessions start now, and when a turned-away peer should come
 * back. Fair under a hostile or greedy peer:
 * - at most one inbound session per peer at once;
 * - one session slot is always left for this node's own rounds;
 * - while peers are being turned away, a peer whose last session here ended less than a
 *   cooldown ago waits out the rest of it, so a peer that reopens at once cannot keep a slot
 *   from peers that were turned away; without contention nobody waits.
 * Per-peer memory is bounded (oldest forgotten first).
 */

/** peers whose last session end is remembered */
const MAX_REMEMBERED = 1024

export interface AdmissionInit {
  /** reconciliation sessions at once, both roles */
  maxSessions: number
  /** under contention, the least time between the end of a peer's session here and its next */
  cooldownMs: number
  /** when a peer turned away for lack of a slot should try again (jittered by the caller's random) */
  busyRetryMs: number
  now?: () => number
  random?: () => number
}

export type Admission = { admitted: true } | { admitted: false, retryAfterMs: number, why: string, reason: 'busy' | 'cooldown' }

export class SessionAdmission {
  /** peers with an inbound session running, each with what ends the wait for it */
  private readonly running = new Map<string, { end: Promise<void>, done: () => void }>()
  /** peer -> when its last inbound session ended (re-inserted on update: oldest first) */
  private readonly lastEnded = new Map<string, number>()
  private lastTurnedAway = Number.NEGATIVE_INFINITY
  private readonly now: () => number
  private readonly random: () => number

  constructor (private readonly init: AdmissionInit) {
    this.now = init.now ?? Date.now
    this.random = init.random ?? Math.random
  }

  /** Inbound sessions at most: all slots but one, which this node's own rounds keep (at least one). */
  get maxInbound (): number {
    return Math.max(1, this.init.maxSessions - 1)
  }

  /** The answer to a peer we run a session with now (our round): one at a time with each peer, as for inbound ones. */
  ownRound (): Admission {
    return { admitted: false, retryAfterMs: this.jitter(this.init.busyRetryMs), why: 'this node runs a session with this peer already', reason: 'busy' }
  }

  /** Whether `peer`'s Hello starts a session now; `sessions` is how many run now (both roles). */
  admit (peer: string, sessions: number): Admission {
    const now = this.now()
    if (this.running.has(peer)) {
      return { admitted: false, retryAfterMs: this.jitter(this.init.busyRetryMs), why: 'a session with this peer runs already', reason: 'busy' }
    }
    if (sessions >= this.init.maxSessions || this.running.size >= this.maxInbound) {
      this.lastTurnedAway = now
      return { admitted: false, retryAfterMs: this.jitter(this.init.busyRetryMs), why: 'every session slot is taken', reason: 'busy' }
    }
    const since = now - (this.lastEnded.get(peer) ?? Number.NEGATIVE_INFINITY)
    if (now - this.lastTurnedAway < this.init.cooldownMs && since < this.init.cooldownMs) {
      return { admitted: false, retryAfterMs: Math.ceil(this.init.cooldownMs - since), why: 'other peers wait: this peer\'s cooldown runs', reason: 'cooldown' }
    }
    let done!: () => void
    const end = new Promise<void>(resolve => { done = resolve })
    this.running.set(peer, { end, done })
    return { admitted: true }
  }

  /** The end of `peer`'s inbound session running now, if any. */
  endOf (peer: string): Promise<void> | undefined {
    return this.running.get(peer)?.end
  }

  /** The session admitted for `peer` ended. */
  ended (peer: string): void {
    this.running.get(peer)?.done()
    this.running.delete(peer)
    this.lastEnded.delete(peer)
    this.lastEnded.set(peer, this.now())
    if (this.lastEnded.size > MAX_REMEMBERED) this.lastEnded.delete(this.lastEnded.keys().next().value as string)
  }

  /** The peer left: what we knew of it says nothing any more. */
  forget (peer: string): void {
    this.lastEnded.delete(peer)
  }

  private jitter (ms: number): number {
    return Math.ceil(ms * (0.75 + 0.5 * this.random()))
  }
}
