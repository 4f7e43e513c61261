import type { AbortOptions, ComponentLogger, Connection, PeerId, Stream, StreamHandler, StreamHandlerOptions, Topology } from '@libp2p/interface'
import type { Fanout } from './push.js'
import type { IndexView } from '../core/reconcile.js'
import type { PatternState } from '../core/pattern.js'
import type { ConnectSyncInit } from './connect-sync.js'

/** What the gossip service needs of the node's patterns. */
export interface GossipStore {
  readonly index: IndexView
  /** canonical encoding of the pattern at this key hash */
  getEncoded(keyHash: Uint8Array): Promise<Uint8Array | undefined>
  /** merges and persists (atomically per call); returns the states that changed. keyHashes[i], if given, is keyHash(states[i].key) */
  mergeRemote(states: readonly PatternState[], encoded?: readonly Uint8Array[], keyHashes?: readonly Uint8Array[]): Promise<{ changed: PatternState[] }>
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
  bytesIn: number
  bytesOut: number
  /** true when the two roots were equal at the start of the exchange */
  rootsEqual: boolean
  error?: string
}

/** Callbacks a running session makes into the service. */
export interface SessionHooks {
  merged(changed: PatternState[]): void
  /** after each frame of patterns in or out; the service throttles */
  progress(): void
}

export interface GossipEvents {
  round: CustomEvent<RoundReport>
  /** a session still running: counts so far (throttled to a few per second) */
  progress: CustomEvent<RoundReport>
  /** `via`: a push frame, or a reconciliation session (either role) */
  merged: CustomEvent<{ states: PatternState[], from: PeerId, via: MergeVia }>
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
    bytesIn: 0,
    bytesOut: 0,
    rootsEqual: false
  }
}

/** Settings of the gossip service; every one but the store has a default (service.ts). */
export interface GossipInit {
  store: GossipStore
  /** mean time between anti-entropy rounds; 0 turns the timer off */
  intervalMs?: number
  /** each round waits intervalMs * (1 ± jitter) so nodes' rounds drift apart */
  jitter?: number
  /** peers a local write is pushed to at once ('auto': ln(peers) + 7, see push.ts); 0 turns eager push off */
  fanout?: Fanout
  sessionTimeoutMs?: number
  messageTimeoutMs?: number
  maxSessionsPerPeer?: number
  /** injected for tests and simulation */
  random?: () => number
  /** how many finished rounds to keep for status */
  keepRounds?: number
  /**
   * reconciliation sessions (in and out) this node runs at once; a Hello beyond it is
   * answered busy and a timer round waits until the session ends. One at a time keeps two peers from
   * sending a node the same large difference in parallel.
   */
  maxConcurrentSessions?: number
  /** how long an outbound stream is kept open after its last session (see CHANNEL_IDLE_MS) */
  channelIdleMs?: number
  /** timing of the session a peer gets when it connects (see connect-sync.ts); tests shorten it */
  connectSync?: Pick<ConnectSyncInit, 'graceMs' | 'cooldownMs' | 'backoffMs' | 'maxBackoffMs' | 'maxAttempts'> & {
    /** default true; false leaves sessions to the timer and syncNow (tests of single sessions) */
    enabled?: boolean
  }
}

export interface GossipComponents {
  peerId: PeerId
  logger: ComponentLogger
  registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
    register(protocol: string, topology: Topology): Promise<string>
    unregister(id: string): void
  }
  peerStore: {
    merge(peer: PeerId, data: { tags: Record<string, { value?: number } | undefined> }): Promise<unknown>
  }
  connectionManager: {
    getConnections(peerId?: PeerId): Connection[]
    openStream(peer: PeerId, protocol: string, options?: AbortOptions): Promise<Stream>
  }
}

export type MergeVia = 'push' | 'session'
