/**
 * What one peer may make us take by eager push, per minute: new keys and bytes. A push is
 * unsolicited and is forwarded on to other peers, so without a bound one member could fill
 * every node's store and heap at the speed of its uplink. Beyond its quota a push frame's
 * patterns are left out (counted, logged); anti-entropy still brings honest ones, at its own
 * pace and only where the two stores differ. Token buckets, one per peer, bounded in number.
 */

/** peers with a bucket (oldest use forgotten first) */
const MAX_PEERS = 1024
const MINUTE_MS = 60_000

export interface PushQuotaInit {
  /** new keys one peer may push to us per minute (and at once) */
  newKeysPerMinute: number
  /** pattern bytes one peer may push to us per minute (and at once) */
  bytesPerMinute: number
  now?: () => number
}

interface Bucket {
  keys: number
  bytes: number
  at: number
}

/** One pushed pattern as the quota sees it. */
export interface PushedPattern {
  /** not held here yet */
  isNew: boolean
  bytes: number
}

export class PushQuota {
  private readonly buckets = new Map<string, Bucket>()
  private readonly now: () => number

  constructor (private readonly init: PushQuotaInit) {
    this.now = init.now ?? Date.now
  }

  /** Which of a frame's patterns `peer` may still push (in order, while its quota lasts); takes their cost. */
  take (peer: string, patterns: readonly PushedPattern[]): boolean[] {
    const b = this.bucketOf(peer)
    return patterns.map(p => {
      const keys = p.isNew ? 1 : 0
      if (b.bytes < p.bytes || b.keys < keys) return false
      b.bytes -= p.bytes
      b.keys -= keys
      return true
    })
  }

  /** The peer left: its bucket goes (it starts full when it comes back, as a new peer would). */
  forget (peer: string): void {
    this.buckets.delete(peer)
  }

  private bucketOf (peer: string): Bucket {
    const { newKeysPerMinute, bytesPerMinute } = this.init
    const now = this.now()
    let b = this.buckets.get(peer)
    if (b === undefined) {
      b = { keys: newKeysPerMinute, bytes: bytesPerMinute, at: now }
    } else {
      this.buckets.delete(peer)
      const minutes = Math.max(0, now - b.at) / MINUTE_MS
      b.keys = Math.min(newKeysPerMinute, b.keys + minutes * newKeysPerMinute)
      b.bytes = Math.min(bytesPerMinute, b.bytes + minutes * bytesPerMinute)
      b.at = now
    }
    // re-inserted: the map's order is the order of use
    this.buckets.set(peer, b)
    if (this.buckets.size > MAX_PEERS) this.buckets.delete(this.buckets.keys().next().value as string)
    return b
  }
}
