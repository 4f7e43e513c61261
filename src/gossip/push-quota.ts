/**
 * What one peer may make us take by eager push, per minute: new keys, bytes and frames. A push
 * is unsolicited and is forwarded on to other peers, so without a bound one member could fill
 * every node's store and heap at the speed of its uplink, or keep a core busy reading frames.
 * Beyond its quota of keys or bytes a push frame's patterns are left out (counted, logged);
 * anti-entropy still brings honest ones, at its own pace and only where the two stores differ.
 * A peer over any of its quotas is not read from until it has a second's worth again
 * (`pauseMs`): its stream backs up, and reading what it sends costs us nothing meanwhile.
 * Token buckets, one per peer, bounded in number.
 */

/** peers with a bucket (oldest use forgotten first) */
const MAX_PEERS = 1024
const MINUTE_MS = 60_000

export interface PushQuotaInit {
  /** new keys one peer may push to us per minute (and at once) */
  newKeysPerMinute: number
  /** pattern bytes one peer may push to us per minute (and at once) */
  bytesPerMinute: number
  /** push frames one peer may send us per minute (and at once), empty ones included */
  framesPerMinute: number
  now?: () => number
}

interface Bucket {
  keys: number
  bytes: number
  frames: number
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
    // a frame is read whatever it costs; its cost delays the next one (pauseMs)
    b.frames = Math.max(0, b.frames - 1)
    return patterns.map(p => {
      const keys = p.isNew ? 1 : 0
      if (b.bytes < p.bytes || b.keys < keys) return false
      b.bytes -= p.bytes
      b.keys -= keys
      return true
    })
  }

  /** How long to wait before reading `peer`'s next frame: 0 unless it is over a quota, then until it has a second's worth of each again. */
  pauseMs (peer: string): number {
    const { newKeysPerMinute, bytesPerMinute, framesPerMinute } = this.init
    const b = this.bucketOf(peer)
    const until = (level: number, perMinute: number, want: number): number => level >= want ? 0 : (want - level) / perMinute * MINUTE_MS
    return Math.ceil(Math.max(
      until(b.keys, newKeysPerMinute, newKeysPerMinute / 60),
      until(b.bytes, bytesPerMinute, bytesPerMinute / 60),
      until(b.frames, framesPerMinute, 1)
    ))
  }

  /** The peer left: its bucket goes (it starts full when it comes back, as a new peer would). */
  forget (peer: string): void {
    this.buckets.delete(peer)
  }

  private bucketOf (peer: string): Bucket {
    const { newKeysPerMinute, bytesPerMinute, framesPerMinute } = this.init
    const now = this.now()
    let b = this.buckets.get(peer)
    if (b === undefined) {
      b = { keys: newKeysPerMinute, bytes: bytesPerMinute, frames: framesPerMinute, at: now }
    } else {
      this.buckets.delete(peer)
      const minutes = Math.max(0, now - b.at) / MINUTE_MS
      b.keys = Math.min(newKeysPerMinute, b.keys + minutes * newKeysPerMinute)
      b.bytes = Math.min(bytesPerMinute, b.bytes + minutes * bytesPerMinute)
      b.frames = Math.min(framesPerMinute, b.frames + minutes * framesPerMinute)
      b.at = now
    }
    // re-inserted: the map's order is the order of use
    this.buckets.set(peer, b)
    if (this.buckets.size > MAX_PEERS) this.buckets.delete(this.buckets.keys().next().value as string)
    return b
  }
}
