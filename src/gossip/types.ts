/** Types the gossip service's parts share; the public ones are in index.ts. */
import type { IndexView } from '../core/reconcile.js'
import type { EncodedPattern } from '../core/encoded-pattern.js'
import type { DoubleSignature, Equivocation } from '../core/equivocation.js'
import type { KeyedWrite, PatternState } from '../core/pattern.js'

/** What the gossip service needs of the node's patterns. */
export interface GossipStore {
  readonly index: IndexView
  /** canonical encoding of the pattern at this key hash */
  getEncoded(keyHash: Uint8Array): Promise<Uint8Array | undefined>
  /**
   * merges and persists (atomically per call); returns the states that changed, and those it
   * skipped (their merge failed or would not decode). keyHashes[i], if given, is keyHash(states[i].key)
   */
  mergeRemote(states: readonly PatternState[], encoded?: readonly Uint8Array[], keyHashes?: readonly Uint8Array[],
    checked?: Promise<WriteChecks>, source?: MergeSource): Promise<MergeOutcome>
  /**
   * starts checking the writes the states name (signatures, trusted writers), so a session can
   * check one frame while it merges the one before; pass the result to mergeRemote
   */
  checkWrites?(states: readonly PatternState[]): Promise<WriteChecks>
}

/** Where a merged frame came from (the change feed tells it): a push or a session, and the peer. */
export interface MergeSource {
  origin: MergeVia
  peer: string
}

/** Per state: undefined if it may be merged, else why not (a state refused is skipped alone). */
export interface WriteChecks {
  refused: Array<Error | undefined>
}

/** What one merged frame did to the store. */
export interface MergeOutcome {
  changed: EncodedPattern[]
  skipped: Array<{ key: string, error: Error }>
  /** writes that came with another content than the one held here (resolved by the join) */
  equivocations?: Equivocation[]
  /** writes that came under another signature than the one held here (resolved by the join) */
  doubleSigned?: DoubleSignature[]
  /** keys whose join this node wrote over, as it would not keep it (repair-write.ts), with that write's dot */
  repaired?: KeyedWrite[]
  /** keys whose merge left writers out by the writer rule, and whom */
  dropped?: Array<{ key: string, writers: string[] }>
  counterRaised?: { from: number, to: number }
}

export type SessionRole = 'initiator' | 'responder' | 'push-out' | 'push-in'
export type SessionOutcome = 'in-sync' | 'synced' | 'busy' | 'error' | 'timeout' | 'refused'

/** One finished exchange with a peer, as the operator sees it. */
export interface RoundReport {
  peer: string
  role: SessionRole
  outcome: SessionOutcome
  /** wall-clock ms since epoch when it started (reporting only: never in merged state) */
  startedAt: number
  ms: number
  roundTrips: number
  patternsIn: number
  patternsOut: number
  /** patterns received that changed local state */
  patternsChanged: number
  /** patterns received that could not be merged (kept as they were here; see the log) */
  patternsSkipped: number
  bytesIn: number
  bytesOut: number
  /** true when the two roots were equal at the start of the exchange */
  rootsEqual: boolean
  error?: string
  /** busy: when the peer said to try again (ms), or (as responder) what we told it */
  retryAfterMs?: number
  /** set when this node refused or cut the peer, or left out part of what it sent: why */
  refusal?: PeerRefusal
}

/** Why a node refused or cut a peer (engram_peer_refusals_total{reason}). */
export type PeerRefusal = 'too-many-streams' | 'busy' | 'cooldown' | 'inbound-budget' | 'slow-frame' | 'protocol-violation' | 'push-quota'

/** Callbacks a running session makes into the service. */
export interface SessionHooks {
  merged(changed: EncodedPattern[]): void
  /** after each frame of patterns in or out; the service throttles */
  progress(): void
}

/** The exchange ended well: roots were equal, or the difference moved. */
export function succeeded (report: RoundReport): boolean {
  return report.outcome === 'in-sync' || report.outcome === 'synced'
}

export function emptyReport (peer: string, role: SessionRole): RoundReport {
  return {
    peer,
    role,
    outcome: 'error',
    startedAt: Date.now(),
    ms: 0,
    roundTrips: 0,
    patternsIn: 0,
    patternsOut: 0,
    patternsChanged: 0,
    patternsSkipped: 0,
    bytesIn: 0,
    bytesOut: 0,
    rootsEqual: false
  }
}

/** how merged patterns came: a push frame, or a reconciliation session (either role) */
export type MergeVia = 'push' | 'session'
