/**
 * The step every received Patterns frame takes, in a session (either role) or as a push:
 * merge into the store, count it in the report, hand on what changed our state. A pattern the
 * store cannot merge is skipped, counted and logged; the rest of the frame still lands.
 */
import type { Logger } from '@libp2p/interface'
import type { EncodedPattern } from '../core/encoded-pattern.js'
import { toHex } from '../core/merkle.js'
import type { PatternsMsg } from '../core/reconcile-messages.js'
import type { GossipStore, RoundReport, WriteChecks } from './types.js'

/** a frame's equivocations (and writes signed twice, writers left out) logged one by one up to this many each (the rest are counted) */
const MAX_LOGGED = 3

/** keyHashes[i], if given, is keyHash(msg.patterns[i]) (the initiator has them from its checks) */
export async function mergeFrame (store: GossipStore, msg: PatternsMsg, report: RoundReport, log: Logger,
  merged: (changed: EncodedPattern[]) => void, keyHashes?: readonly Uint8Array[], checked?: Promise<WriteChecks>): Promise<void> {
  const source = { origin: report.role === 'push-in' ? 'push' : 'session', peer: report.peer } as const
  const outcome = await store.mergeRemote(msg.patterns, msg.encoded, keyHashes, checked, source)
  const { changed, skipped, counterRaised, equivocations = [], doubleSigned = [], dropped = [], repaired = [] } = outcome
  report.patternsIn += msg.patterns.length
  report.patternsChanged += changed.length
  report.patternsSkipped += skipped.length
  const first = skipped[0]
  if (first !== undefined) {
    log.error('%s from %s: %d pattern(s) not merged, kept as they were here; first %s - %s: %s',
      report.role, report.peer, skipped.length, JSON.stringify(first.key), first.error.name, first.error.message)
  }
  for (const e of equivocations.slice(0, MAX_LOGGED)) {
    log.error('%s from %s: pattern %s holds two contents for write %d@%s (digests %s, %s); every node keeps the same one',
      report.role, report.peer, JSON.stringify(e.key), e.dot.counter, e.dot.node, toHex(e.digests[0]), toHex(e.digests[1]))
  }
  for (const d of doubleSigned.slice(0, MAX_LOGGED)) {
    log.error('%s from %s: pattern %s holds write %d@%s under another signature than the one here: its author signed it twice; every node keeps the larger',
      report.role, report.peer, JSON.stringify(d.key), d.dot.counter, d.dot.node)
  }
  for (const r of repaired.slice(0, MAX_LOGGED)) {
    // only writers that lie make such a join: this node's write over it (its deps prove every overwrite) is taken by both sides
    log.error('%s from %s: pattern %s: its states here and there join into one no node would keep (writers that lie about what they saw); ' +
      'this node wrote over the join as %d@%s', report.role, report.peer, JSON.stringify(r.key), r.dot.counter, r.dot.node)
  }
  for (const d of dropped.slice(0, MAX_LOGGED)) {
    // the key had more writers than a pattern keeps: every node leaves out the same ones
    log('%s from %s: pattern %s keeps its writers that rank first; %d left out (first %s)',
      report.role, report.peer, JSON.stringify(d.key), d.writers.length, d.writers[0])
  }
  if (counterRaised !== undefined) {
    // our own writes we had lost (a restored backup, a lost counter): new writes go past them
    log('%s from %s named events of this node up to %d, above its counter %d: counter raised',
      report.role, report.peer, counterRaised.to, counterRaised.from)
  }
  if (changed.length > 0) merged(changed)
}

/**
 * Merges a session's frames in arrival order, one at a time, while the writes of the next
 * frames are checked (signature checks run on worker threads, merges on the event loop: a
 * bulk pull keeps both busy, and reading a frame ahead keeps the sender busy too). At most two
 * frames wait merged-but-unfinished, so memory stays bounded by three frames; `drain` waits
 * for the last and surfaces the first failure (no frame after a failed one is merged).
 */
export class FrameMerger {
  /** the merge of the last frame added, and of the one before it */
  private last: Promise<void> = Promise.resolve()
  private beforeLast: Promise<void> = Promise.resolve()
  private failure: { err: unknown } | undefined

  constructor (private readonly store: GossipStore, private readonly report: RoundReport, private readonly log: Logger,
    private readonly merged: (changed: EncodedPattern[]) => void) {}

  /** Starts checking `msg` now and merges it after the frames before it; resolves once it is queued. */
  async add (msg: PatternsMsg, keyHashes?: readonly Uint8Array[]): Promise<void> {
    const checked = this.store.checkWrites?.(msg.patterns)
    // a rejection is taken by mergeFrame when it awaits it; until then it must not count as unhandled
    checked?.catch(() => {})
    await this.beforeLast
    this.rethrow()
    const merge = this.last.then(async () => {
      if (this.failure !== undefined) return
      await mergeFrame(this.store, msg, this.report, this.log, this.merged, keyHashes, checked)
    }).catch(err => { this.failure ??= { err } })
    this.beforeLast = this.last
    this.last = merge
  }

  /** Waits until every frame added is merged; throws the first merge failure. */
  async drain (): Promise<void> {
    await this.last
    this.rethrow()
  }

  private rethrow (): void {
    if (this.failure !== undefined) throw this.failure.err
  }
}
