/** The discovery service's options, counters and the node components it uses. */
import type { KnownPeerStore } from './peer-book.js'
import type {
  AbortOptions, ComponentLogger, Connection, ContentRouting, Libp2pEvents, PeerId, PeerStore
} from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface DiscoveryInit {
  /** Cluster name; the rendezvous CID is derived from it. Default DEFAULT_CLUSTER. */
  cluster?: string
  /** Multiaddrs to dial at start (with or without /p2p/<id>). */
  join?: string[]
  /** Where connected cluster peers are remembered across restarts. */
  knownPeers?: KnownPeerStore
  /** A peer counts as a cluster member when it speaks this (our DHT) protocol. */
  dhtProtocol?: string
  /** Name of the kad-dht service, to read its routing table. Default 'dht'. */
  dhtServiceName?: string
  /** Mean time between rendezvous lookups, ms (jittered ±20 %). Default 30 000. */
  interval?: number
  /** Time between provide() calls, ms. Default 10 × interval. */
  provideInterval?: number
  /** Bound of one provide or findProviders call, ms. Default 20 000. */
  lookupTimeout?: number
  /** Bound of one dial, ms. Default 10 000. */
  dialTimeout?: number
  /** Dials at once. Default 8. */
  dialConcurrency?: number
  /** No new dials while this many peers are connected. Default 64. */
  maxPeers?: number
  /** Dial peers that other discovery mechanisms report (kad-dht query responses, mDNS). Default true. */
  dialDiscovered?: boolean
  /** Periodic save of connected peers, ms. Default 60 000. */
  saveInterval?: number
  /** First re-dial delay of a node with no connection, ms (doubles, jittered). Default 1 000. */
  reconnectMin?: number
  /** Largest re-dial delay, ms. Default 30 000. */
  reconnectMax?: number
}

/** Counters for tests and status output; cumulative since the service was created. */
export interface DiscoveryStats {
  /** Rendezvous rounds started. */
  rounds: number
  /** Rounds that came due while the previous one still ran, and were skipped. */
  skippedRounds: number
  /** DHT calls (provide, findProviders) we stopped waiting for at their bound. */
  deadlines: number
  /** DHT calls not made because the previous one of their kind outlived its round. */
  skippedCalls: number
  /** No connection at the moment, re-dialling. */
  isolated: boolean
  /** Times the node found itself isolated and said so. */
  isolations: number
  /** Times it reconnected after that. */
  reconnects: number
  /** Re-dial attempts while isolated. */
  redials: number
}

/** What we use of the node; every field is a libp2p component. */
export interface DiscoveryComponents {
  peerId: PeerId
  peerStore: PeerStore
  contentRouting: ContentRouting
  logger: ComponentLogger
  connectionManager: {
    openConnection(peer: PeerId | Multiaddr, options?: AbortOptions): Promise<Connection>
    getConnections(peerId?: PeerId): Connection[]
  }
  events: {
    addEventListener<K extends keyof Libp2pEvents>(type: K, listener: (evt: Libp2pEvents[K]) => void): void
    removeEventListener<K extends keyof Libp2pEvents>(type: K, listener: (evt: Libp2pEvents[K]) => void): void
  }
}
