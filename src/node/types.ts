/**
 * What the rest of the program may know of a node: the records and reports it hands out and
 * `EngramNodePort`, the one interface the local API, the metrics and the CLI are written
 * against. EngramNode implements it; tests give the API a fake that does too
 * (test/api/fake-node.test.ts), so nothing here may mention the store, libp2p or gossip objects.
 */
import type { TypedEventTarget } from '@libp2p/interface'
import type { MergeVia, PeerRefusal, RoundReport, SessionOutcome, SessionRole } from '../gossip/types.js'
import type { MergeKind } from '../core/merge.js'
import type { PatternView, WriteOp } from '../core/pattern.js'
import type { ListOptions, OpenReport } from '../store/level-store.js'
import { SESSION_TIMEOUT_MS } from '../gossip/constants.js'
import type { WatchOptions } from './change-stream.js'

// re-exported so callers of the port need no import from the layers below the node
export type { ListOptions, MergeKind, MergeVia, OpenReport, PeerRefusal, RoundReport, SessionOutcome, SessionRole, WriteOp }

/**
 * The longest a `syncNow` can take: one session is bounded by the session timeout, and a
 * margin covers the waits on a busy peer before it. Callers that wait for a sync (the API's
 * request bound) take this.
 */
export const SYNC_TIMEOUT_MS = SESSION_TIMEOUT_MS + 15_000

/** A pattern as the API and CLI show it. */
export interface PatternRecord extends PatternView {
  clock: Record<string, number>
  digest: string
}

/** What a bulk write stored: the number of patterns (keys) it wrote, and the root right after. */
export interface BulkWriteResult {
  patterns: number
  root: string
}

/** Two contents for one write: its author's node id and counter, and the digests of both contents. */
export interface EquivocationInfo {
  key: string
  node: string
  counter: number
  digests: [string, string]
}

/** A key and one write of it (its author's node id and counter): a write met under two signatures (both check), or a repair. */
export interface WriteInfo {
  key: string
  node: string
  counter: number
}

/** Where a change came from: a local write, a peer's eager push, a session with a peer, or the store (see docs/api.md). */
export type ChangeOrigin = 'local' | 'push' | 'session' | 'store'

/** One entry of the change feed: a pattern's latest change, with the pattern as stored now. */
export interface ChangeRecord {
  seq: number
  key: string
  origin: ChangeOrigin
  /** the peer a push or session change came from; null otherwise */
  peer: string | null
  pattern: PatternRecord
}

export type { WatchOptions as ChangesOptions } from './change-stream.js'

export interface NodeStatus {
  peerId: string
  /** the seq of the newest change in the change feed */
  lastChange: number
  addresses: string[]
  root: string
  patterns: number
  gossipPeers: string[]
  connectedPeers: string[]
  peersInSync: Record<string, boolean>
  lastRounds: RoundReport[]
}

/** A peer with an open connection, as GET /v1/peers lists it. */
export interface PeerInfo {
  peerId: string
  /** remote addresses of our open connections to it */
  addresses: string[]
  /** it speaks the gossip protocol (a candidate for anti-entropy rounds) */
  gossip: boolean
  /** roots equal at the last exchange with it; null when we never exchanged */
  inSync: boolean | null
}

/** What the metrics read at scrape time: cheaper than a full status. */
export interface NodeCounts {
  /** patterns held, tombstones included */
  patterns: number
  /** distinct peers with a connection */
  connectedPeers: number
  /** connected peers that speak the gossip protocol */
  gossipPeers: number
  /** per peer: the Merkle roots were equal at the start of the last exchange */
  peersInSync: Record<string, boolean>
}

export interface SyncOptions {
  /** aborts the round (the API passes the request's signal: a client gone stops it) */
  signal?: AbortSignal
  /** the running round's counts so far: only this round's (our initiator session with its peer) */
  onProgress?: (report: RoundReport) => void
}

export interface EngramNodeEvents {
  /** patterns that changed by a merge from a peer */
  merged: CustomEvent<{ patterns: PatternRecord[], from: string, via: MergeVia }>
  round: CustomEvent<RoundReport>
  /** a running session's counts so far */
  progress: CustomEvent<RoundReport>
  /** how incoming states related to ours, per merged batch (for metrics) */
  merge: CustomEvent<Record<MergeKind, number>>
  /** a write (node, counter) came with another content than the one held here; the join kept one, the same on every node */
  equivocation: CustomEvent<EquivocationInfo>
  /** a write (node, counter) came under another signature than the one held here: its author signed it twice; every node keeps the larger */
  'double-signed': CustomEvent<WriteInfo>
  /** a key's states here and at a peer joined into one no node would keep (writers that lie about what they saw): this node wrote over it as (node, counter) */
  repaired: CustomEvent<WriteInfo>
  /** a merge left writers of a key out: it had more than a pattern keeps (see README, "Limits") */
  'writers-dropped': CustomEvent<{ key: string, writers: string[] }>
  /** a received pattern was not merged because a write it names was not believed (see docs/protocol.md) */
  refused: CustomEvent<RefusedInfo>
}

/**
 * Why a received pattern was refused: a signature that does not verify, a writer id with no key,
 * a writer outside `trustedPeers`, an overwrite no write proves.
 */
export type RefusedReason = 'forged' | 'unverifiable' | 'untrusted' | 'unproven'

export interface RefusedInfo {
  key: string
  reason: RefusedReason
  message: string
}

/** A debug-style logger: `log(format, ...args)`, plus levels. libp2p's component loggers fit. */
export interface NodeLogger {
  (formatter: string, ...args: unknown[]): void
  error(formatter: string, ...args: unknown[]): void
  trace(formatter: string, ...args: unknown[]): void
}

/**
 * The node as the API, the metrics and the CLI use it. Errors of `syncNow` are named
 * (src/node/errors.ts): InvalidPeerIdError, PeerNotConnectedError, NoGossipPeersError.
 */
export interface EngramNodePort extends Pick<TypedEventTarget<EngramNodeEvents>, 'addEventListener' | 'removeEventListener'> {
  /** goes on the network */
  start(): Promise<void>
  /** stops gossip and the network, then closes the store */
  stop(): Promise<void>
  put(key: string, op: WriteOp): Promise<PatternRecord>
  /** bulk write in one atomic batch (all or none) */
  putMany(items: ReadonlyArray<{ key: string, op: WriteOp }>): Promise<BulkWriteResult>
  get(key: string): Promise<PatternRecord | undefined>
  list(options?: ListOptions): Promise<PatternRecord[]>
  delete(key: string): Promise<PatternRecord>
  /**
   * The change feed after `since`, live by default: every changed key once with its latest
   * state, in seq order (InvalidSinceError for a seq this node never handed out)
   */
  changes(options?: WatchOptions): AsyncGenerator<ChangeRecord>
  status(): Promise<NodeStatus>
  /** peers with an open connection, sorted by id */
  peers(): Promise<PeerInfo[]>
  /** one anti-entropy round now, with `peer` (a PeerId string) or a random gossip peer */
  syncNow(peer?: string, options?: SyncOptions): Promise<RoundReport>
  counts(): Promise<NodeCounts>
  /**
   * How long local writes may still wait for a session to confirm this node's counter (a
   * restarted node with peers: counter-gate.ts); 0 when they do not wait
   */
  writesHeldMs(): number
  /** what opening the store found and repaired */
  readonly openReport: OpenReport
  /** a logger of the node's logging setup, for `component` (e.g. 'engram:api') */
  logger(component: string): NodeLogger
}
