/** What the Replica tells its callers: committed changes, and what a merged set did. */
import type { EncodedPattern } from '../core/encoded-pattern.js'
import type { DoubleSignature, Equivocation } from '../core/equivocation.js'
import type { MergeKind } from '../core/merge.js'
import type { PatternState } from '../core/pattern.js'
import type { ChangeSource } from './change-feed.js'
import type { DroppedWriters, Repair, SkippedState } from './merge-set.js'

export type ChangeOrigin = 'local' | 'remote'

/** Where merged states came from: a peer's push or a session with it. */
export interface RemoteSource extends ChangeSource {
  origin: 'push' | 'session'
}

export interface ChangeEvent {
  origin: ChangeOrigin
  /** the change feed's origin, and the peer */
  source: ChangeSource
  /** the new states as committed, with the bytes and hashes the store wrote */
  patterns: readonly EncodedPattern[]
  /** their seqs in the change feed, in order */
  seqs: readonly number[]
}

export type ChangeListener = (event: ChangeEvent) => void

export interface MergeResult {
  /** states that changed what is stored, as now stored (with their stored bytes and hashes) */
  changed: EncodedPattern[]
  /** states left out, each with why; the rest of the set was merged */
  skipped: SkippedState[]
  /** writes received with another content than the one held here for the same dot (the join resolved them) */
  equivocations: Equivocation[]
  /** writes received under another signature than the one held here (the join keeps the larger) */
  doubleSigned: DoubleSignature[]
  /** keys whose join this node wrote over, as it would not keep it (repair-write.ts), with that write's dot */
  repaired: Repair[]
  /** set when a state named events of this node above its counter (lost writes, or a restored backup): the counter moved past them */
  counterRaised?: { from: number, to: number }
  /** how each incoming state related to the local one */
  kinds: Record<MergeKind, number>
  /** keys whose merge left writers out by the writer rule (a key keeps at most MAX_CLOCK_ENTRIES writers) */
  dropped: DroppedWriters[]
}

/** What local writes start from: the stored states of their keys, the counter their events start above, the keys' hashes. */
export interface WriteBase {
  current: Map<string, PatternState | undefined>
  counter: number
  khs: Map<string, Uint8Array>
}
