/**
 * @packageDocumentation
 *
 * /engram/gossip/2.2.0 as a libp2p service, shaped like `@libp2p/ping` and `@libp2p/identify`:
 * periodic Merkle anti-entropy rounds with random gossip peers, a session with each peer that
 * connects, and eager push of local writes. The wire format is in pb/gossip.proto and
 * docs/protocol.md.
 *
 * @example
 *
 * ```typescript
 * const node = await createLibp2p({
 *   services: { gossip: gossip({ store: replicaGossipStore(replica) }) }
 * })
 * const report = await node.services.gossip.syncNow()
 * ```
 */
import type {
  AbortOptions, ComponentLogger, Connection, PeerId, Stream, StreamHandler, StreamHandlerOptions, Topology, TypedEventTarget
} from '@libp2p/interface'
import type { EncodedPattern } from '../core/encoded-pattern.js'
import { DefaultGossip } from './service.js'
import type { Fanout } from './push.js'
import type { GossipStore, MergeVia, RoundReport } from './types.js'

export interface GossipEvents {
  /** an exchange with a peer ended (session either role, push either way, refused stream) */
  round: CustomEvent<RoundReport>
  /** a session still running: counts so far (throttled to a few per second) */
  progress: CustomEvent<RoundReport>
  /** patterns from a peer changed local state; `via`: a push frame, or a reconciliation session (either role) */
  merged: CustomEvent<{ patterns: EncodedPattern[], from: PeerId, via: MergeVia }>
}

/** What the node uses of the gossip service. */
export interface Gossip extends TypedEventTarget<GossipEvents> {
  /** Connected peers that speak the gossip protocol. */
  gossipPeers(): Promise<PeerId[]>

  /**
   * One anti-entropy round now, with `peer` or a random gossip peer; a busy peer is waited out
   * a few times. Throws NoGossipPeersError when no peer is given and none is connected.
   */
  syncNow(peer?: PeerId, options?: AbortOptions): Promise<RoundReport>

  /** The last `keepRounds` finished exchanges, oldest first. */
  readonly lastRounds: readonly RoundReport[]

  /** Per connected gossip peer: were the roots equal at the last session with it. */
  readonly peerInSync: ReadonlyMap<string, boolean>

  /** Eager push of local writes (a no-op when fanout is 0 or the service is stopped). */
  pushLocal(patterns: readonly EncodedPattern[]): void
}

/** When a peer that connects gets its session (see connect-sync.ts). */
export interface GossipConnectSyncInit {
  /**
   * false leaves sessions to the timer and syncNow (tests of single sessions)
   *
   * @default true
   */
  enabled?: boolean
  /**
   * the higher PeerId of a new connection waits this long for the lower one to start
   *
   * @default 1000
   */
  graceMs?: number
  /**
   * least time between two connect syncs with one peer that both succeeded
   *
   * @default 5000
   */
  cooldownMs?: number
  /**
   * first wait after a failed or busy attempt; doubles per failure up to maxBackoffMs
   *
   * @default 500
   */
  backoffMs?: number
  /**
   * @default 4000
   */
  maxBackoffMs?: number
  /**
   * attempts per peer until one succeeds; then the timer rounds are the backstop
   *
   * @default 12
   */
  maxAttempts?: number
}

export interface GossipInit {
  /** the node's patterns (required) */
  store: GossipStore
  /**
   * mean time between anti-entropy rounds in ms; 0 turns the timer off
   *
   * @default 60000
   */
  intervalMs?: number
  /**
   * each round waits intervalMs × (1 ± jitter) so nodes' rounds drift apart (ROUND_JITTER)
   *
   * @default 0.1
   */
  jitter?: number
  /**
   * peers a local write is pushed to at once ('auto': ln(peers) + 7, see push.ts); 0 turns eager push off
   *
   * @default 'auto'
   */
  fanout?: Fanout
  /**
   * a whole session, start to end (SESSION_TIMEOUT_MS)
   *
   * @default 60000
   */
  sessionTimeoutMs?: number
  /**
   * waiting for any single message from the peer (MESSAGE_TIMEOUT_MS)
   *
   * @default 15000
   */
  messageTimeoutMs?: number
  /**
   * inbound gossip streams one peer may hold open at once (MAX_SESSIONS_PER_PEER)
   *
   * @default 3
   */
  maxSessionsPerPeer?: number
  /**
   * injected for tests and simulation
   *
   * @default Math.random
   */
  random?: () => number
  /**
   * how many finished rounds lastRounds keeps
   *
   * @default 50
   */
  keepRounds?: number
  /**
   * reconciliation sessions (in and out) this node runs at once; a Hello beyond it is
   * answered busy and a timer round waits until a session ends. Above one, one slot is kept for
   * this node's own rounds (MAX_CONCURRENT_SESSIONS)
   *
   * @default 2 (1 on a single-core machine)
   */
  maxConcurrentSessions?: number
  /**
   * while peers are being turned away busy, how long a peer waits after its last session here
   * before its next, so one peer cannot keep the slots from the others
   *
   * @default SESSION_COOLDOWN_MS (10 s), or a sixth of intervalMs if that is shorter
   */
  sessionCooldownMs?: number
  /**
   * received gossip bytes not yet read, all streams together; a stream whose data goes past it
   * is dropped (MAX_BUFFERED_INBOUND_BYTES)
   *
   * @default 67108864
   */
  maxBufferedInboundBytes?: number
  /**
   * inbound gossip streams open at once, all peers together; more are reset (MAX_INBOUND_GOSSIP_STREAMS)
   *
   * @default 256
   */
  maxInboundGossipStreams?: number
  /**
   * what one peer may push to us per minute: new keys, pattern bytes and frames; beyond the keys
   * or bytes a push frame's patterns are left out (anti-entropy still brings what is honest), and
   * a peer over any of them is not read from until it has a second's worth again
   *
   * @default { newKeysPerMinute: 10000, bytesPerMinute: 33554432, framesPerMinute: 60000 }
   */
  pushQuota?: { newKeysPerMinute: number, bytesPerMinute: number, framesPerMinute?: number }
  /**
   * how long an outbound stream is kept open after its last session (CHANNEL_IDLE_MS: 4 h)
   *
   * @default 14400000
   */
  channelIdleMs?: number
  /**
   * the session a peer gets when it connects; tests shorten it
   *
   * @default {}
   */
  connectSync?: GossipConnectSyncInit
}

/** The limits a node embedding the service may tune (README "Limits"); the rest is the node's own. */
export type GossipLimits = Pick<GossipInit, 'sessionTimeoutMs' | 'messageTimeoutMs' | 'maxSessionsPerPeer' | 'maxConcurrentSessions' |
'sessionCooldownMs' | 'maxBufferedInboundBytes' | 'maxInboundGossipStreams' | 'pushQuota' | 'channelIdleMs'>

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

export function gossip (init: GossipInit): (components: GossipComponents) => Gossip {
  return (components) => new DefaultGossip(components, init)
}

export { GOSSIP_PROTOCOL } from './constants.js'
export { NoGossipPeersError } from './errors.js'
export type { Fanout } from './push.js'
export type { GossipStore, MergeVia, RoundReport, SessionOutcome, SessionRole } from './types.js'
