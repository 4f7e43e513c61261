/** The options of an EngramNode (the library's createEngramNode takes these, with a key file instead of a key if wanted). */
import type { PrivateKey } from '@libp2p/interface'
import type { Fanout } from '../gossip/push.js'
import type { GossipLimits } from '../gossip/index.js'
import type { DiscoveryInit } from '../discovery/discovery.js'

export interface EngramNodeOptions {
  /** the data directory: LevelDB store and node files live here */
  dataDir: string
  privateKey: PrivateKey
  listen?: string[]
  announce?: string[]
  /** any member's multiaddr(s) */
  join?: string[]
  /** anti-entropy interval, ms (default 60 s); 0 disables the timer */
  intervalMs?: number
  /** eager-push fanout (default 'auto': ln(peers) + 7); 0 disables eager push */
  fanout?: Fanout
  /** a session with each peer as soon as it connects (default true); false leaves syncing to the timer and syncNow */
  connectSync?: boolean
  swarmKey?: Uint8Array
  mdns?: boolean
  cluster?: string
  /**
   * a node with a past (its counter is not 0) and peers to sync from holds its first local
   * write until one session with a peer completed, or the timeout passed (default true, 30 s):
   * a data dir restored from a backup then cannot reuse the dots of writes it lost
   */
  confirmCounter?: boolean
  confirmCounterTimeoutMs?: number
  /** if set, only writes signed by these node ids (and this node) are merged; others are refused and counted */
  trustedPeers?: string[]
  /** keep the change feed (default true): false stores no feed entries, and `changes()` throws FeedDisabledError */
  changeFeed?: boolean
  /** the gossip service's tunable limits (README "Limits"); left out, its defaults */
  gossipLimits?: GossipLimits
  /** discovery tuning (tests shorten intervals) */
  discovery?: Omit<DiscoveryInit, 'cluster' | 'dhtProtocol' | 'dhtServiceName' | 'join' | 'knownPeers'>
  /** DHT self-query interval for fast discovery in tests */
  dhtInitialQuerySelfInterval?: number
}
