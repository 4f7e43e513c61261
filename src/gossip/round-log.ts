/**
 * What the operator sees of finished exchanges: the last `keep` reports, and per gossip peer
 * whether the roots were equal at the last session. Both bounded: the per-peer view drops a
 * peer when it leaves the gossip peer set, and holds at most MAX_PEERS peers (oldest update
 * out first) for a session that ends just after its peer left.
 */
import { succeeded, type RoundReport } from './types.js'

const MAX_PEERS = 1024

export class RoundLog {
  private readonly rounds: RoundReport[] = []
  private readonly inSync = new Map<string, boolean>()

  constructor (private readonly keep: number) {}

  /** oldest first */
  get lastRounds (): readonly RoundReport[] {
    return this.rounds
  }

  get peerInSync (): ReadonlyMap<string, boolean> {
    return this.inSync
  }

  record (report: RoundReport): void {
    const session = report.role === 'initiator' || report.role === 'responder'
    if (session && succeeded(report)) {
      // re-inserted, so the map's order is the order of updates
      this.inSync.delete(report.peer)
      this.inSync.set(report.peer, report.rootsEqual)
      if (this.inSync.size > MAX_PEERS) this.inSync.delete(this.inSync.keys().next().value as string)
    }
    this.rounds.push(report)
    if (this.rounds.length > this.keep) this.rounds.shift()
  }

  /** The peer left the gossip peer set: what we knew of it no longer says anything. */
  forget (peer: string): void {
    this.inSync.delete(peer)
  }
}
