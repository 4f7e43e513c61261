/**
 * Eager push, the sending side: local writes (and news learned from a push) go at once to
 * `fanout` random gossip peers, as Patterns frames with push=true between sessions (no Hello)
 * on the peer's open gossip stream. Writes made in the same tick are coalesced into one frame
 * per peer. (A received push is merged like any frame: merge.ts.)
 * Bounded: at most MAX_PENDING keys wait and MAX_IN_FLIGHT pushes run; beyond that a
 * push is dropped and left to anti-entropy, which is the backstop anyway.
 */
import type { Logger, PeerId } from '@libp2p/interface'
import type { EncodedPattern } from '../core/encoded-pattern.js'
import { batchEncodedPatterns, encodePatternsFrame } from './codec.js'
import { SESSION_OVER } from './errors.js'
import type { FramedStream } from './framed.js'
import type { Fanout } from '../settings/node-settings.js'
import { pickRandom } from './random-pick.js'
import { emptyReport, type RoundReport } from './types.js'

const MAX_PENDING = 10_000
const MAX_IN_FLIGHT = 64

/**
 * 'auto' fanout: ln(n) + AUTO_FANOUT_MARGIN peers, n = this node and its gossip peers.
 * Every node forwards once to `fanout` random peers, so a node is missed by all of them with
 * probability ~e^-fanout, and all n are reached with probability ~exp(-n e^-fanout) =
 * exp(-e^-margin): 99.9 % for a margin of 7, whatever n (Demers et al.'s infect-and-die bound).
 * A fixed fanout of 4 reaches all of 100 nodes only ~16 % of the time; the rest waits for
 * anti-entropy (the next rounds, about a minute). Cost: ~12 pushes per node per write at n = 100.
 */
export const AUTO_FANOUT_MARGIN = 7

export type { Fanout }

export function fanoutFor (fanout: Fanout, gossipPeers: number): number {
  return fanout === 'auto' ? Math.ceil(Math.log(gossipPeers + 1)) + AUTO_FANOUT_MARGIN : fanout
}

export interface PusherInit {
  fanout: Fanout
  random: () => number
  log: Logger
  peers: () => Promise<PeerId[]>
  open: (peer: PeerId, signal: AbortSignal) => Promise<FramedStream>
  /** a stream whose push went out cleanly, kept for the next session or push */
  release: (peer: PeerId, io: FramedStream) => void
  report: (r: RoundReport) => void
  /** a push's own controller: times it out, aborted when it is over */
  controller: () => AbortController
}

export class EagerPusher {
  /** excluded peer ('' for none) -> key -> newest state to push, as stored (its bytes go out as they are) */
  private readonly pending = new Map<string, Map<string, EncodedPattern>>()
  private pendingCount = 0
  private inFlight = 0
  private flushing: ReturnType<typeof setTimeout> | undefined
  private stopped = false

  constructor (private readonly init: PusherInit) {}

  stop (): void {
    this.stopped = true
    clearTimeout(this.flushing)
    this.pending.clear()
  }

  enqueue (patterns: readonly EncodedPattern[], from: PeerId | undefined): void {
    if (this.init.fanout === 0 || this.stopped || patterns.length === 0) return
    const group = from?.toString() ?? ''
    let m = this.pending.get(group)
    if (m === undefined) this.pending.set(group, m = new Map())
    for (const p of patterns) {
      const key = p.state.key
      if (!m.has(key)) {
        if (this.pendingCount >= MAX_PENDING) {
          this.init.log('push queue full, leaving %s to anti-entropy', key)
          continue
        }
        this.pendingCount++
      }
      m.set(key, p)
    }
    if (this.flushing === undefined) {
      this.flushing = setTimeout(() => { this.flushing = undefined; void this.flush() }, 0)
    }
  }

  private async flush (): Promise<void> {
    const groups = [...this.pending]
    this.pending.clear()
    this.pendingCount = 0
    const peers = await this.init.peers()
    for (const [exclude, patterns] of groups) {
      const targets = pickRandom(peers.filter(p => p.toString() !== exclude), fanoutFor(this.init.fanout, peers.length), this.init.random)
      // no one to push to (a node alone, an import before any peer): nothing is encoded
      if (targets.length === 0) continue
      const frames = batchEncodedPatterns([...patterns.values()].map(p => p.bytes)).map(b => encodePatternsFrame(b, true))
      for (const peer of targets) {
        if (this.inFlight >= MAX_IN_FLIGHT) {
          this.init.log('too many pushes in flight, leaving the rest to anti-entropy')
          return
        }
        this.inFlight++
        void this.pushTo(peer, frames, patterns.size).finally(() => { this.inFlight-- })
      }
    }
  }

  private async pushTo (peer: PeerId, frames: Uint8Array[], count: number): Promise<void> {
    const report = emptyReport(peer.toString(), 'push-out')
    const ctl = this.init.controller()
    let io: FramedStream | undefined
    try {
      io = await this.init.open(peer, ctl.signal)
      for (const f of frames) await io.writeRaw(f)
      report.bytesOut = io.bytesOut
      report.patternsOut = count
      report.outcome = 'synced'
      this.init.release(peer, io)
    } catch (err: any) {
      report.bytesOut = io?.bytesOut ?? 0
      report.outcome = 'error'
      report.error = `${String(err?.name)}: ${String(err?.message)}`
      // usually the peer went away; the report keeps the error, and a failed push asks for a session
      this.init.log.trace('push to %p failed - %e', peer, err)
      io?.stream.abort(err)
    } finally {
      ctl.abort(SESSION_OVER)
      report.ms = Date.now() - report.startedAt
      this.init.report(report)
    }
  }
}
