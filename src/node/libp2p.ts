/**
 * The Engram libp2p stack: TCP + Noise + Yamux, identify, ping, a server-mode Kad-DHT on the
 * cluster's own protocol, cluster discovery, and optionally a private-network protector and
 * mDNS. Deliberately absent: public bootstrap lists, UPnP, autoNAT, relay — the node sends
 * nothing to anyone it was not told about.
 */
import './polyfill.js'
import { createHash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, identifyPush } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { fixXSalsa20Memory } from './pnet-memory-fix.js'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { DEFAULT_CLUSTER, DHT_PROTOCOL } from '../discovery/constants.js'
import { discovery } from '../discovery/discovery.js'
import { parseSwarmKey } from './swarm-key.js'
import type { DiscoveryInit, DiscoveryService } from '../discovery/discovery.js'
import type { Identify, IdentifyPush } from '@libp2p/identify'
import type { Libp2p, PeerDiscovery, PrivateKey, ServiceMap } from '@libp2p/interface'
import type { KadDHT, KadDHTInit } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Libp2pOptions, ServiceFactoryMap } from 'libp2p'

export { generateSwarmKey, parseSwarmKey, readSwarmKeyFile, writeSwarmKeyFile, SwarmKeyError } from './swarm-key.js'

export interface EngramServices extends ServiceMap {
  identify: Identify
  identifyPush: IdentifyPush
  ping: Ping
  dht: KadDHT
  discovery: DiscoveryService
}

/**
 * libp2p's start/stop are async but its interface inherits `void | Promise<void>` from Startable;
 * listed first so these signatures win overload resolution.
 */
export type EngramLibp2p<T extends ServiceMap = ServiceMap> = {
  start(): Promise<void>
  stop(): Promise<void>
} & Libp2p<EngramServices & T>

export interface EngramLibp2pOptions<T extends ServiceMap = ServiceMap> {
  privateKey: PrivateKey
  /** Listen multiaddrs, e.g. /ip4/0.0.0.0/tcp/4001 (tests: /ip4/127.0.0.1/tcp/0). */
  listen: string[]
  /** Addresses to tell peers instead of the listen ones (NAT, containers). */
  announce?: string[]
  /** Contents of a swarm key file: only nodes with the same key can connect. */
  swarmKey?: Uint8Array
  /** Multicast DNS discovery on the LAN. Default false: it talks to the whole segment. */
  mdns?: boolean
  /** Default DHT_PROTOCOL: the cluster's own DHT, never the public IPFS one. */
  dhtProtocol?: string
  /** Cluster name (rendezvous CID, mDNS service tag). Default DEFAULT_CLUSTER. */
  cluster?: string
  /** Join addresses, known-peer store, intervals. */
  discovery?: Omit<DiscoveryInit, 'cluster' | 'dhtProtocol' | 'dhtServiceName'>
  /** DHT tuning; tests shorten the self-query intervals. */
  dht?: Pick<KadDHTInit, 'initialQuerySelfInterval' | 'querySelfInterval' | 'kBucketSize' | 'alpha' | 'networkDialTimeout'>
  /** Extra services (e.g. gossip), created after ours so they can use them. */
  services?: ServiceFactoryMap<T>
  /** Start listening and discovering right away. Default true. */
  start?: boolean
}

/** mDNS finds every libp2p node on the segment; a per-cluster service tag finds only ours. */
/** Re-dials of a lost gossip peer, this far apart: about ten minutes of tries at most. */
const RECONNECT_INTERVAL_MS = 2_000
const RECONNECT_RETRIES = 300

/**
 * Connection limits, set here on purpose rather than left to libp2p's defaults changing under
 * us. A node talks to its gossip peers and a DHT neighbourhood, far fewer than the cap; more
 * connections are pruned. One host may open a few connections per second (a restarting node
 * dials its remembered peers at once) and only a few may be mid-handshake, so a flood of
 * fresh identities from one address costs us little; a handshake must finish in time.
 */
export const CONNECTION_LIMITS = {
  maxConnections: 300,
  inboundConnectionThreshold: 5,
  maxIncomingPendingConnections: 10,
  inboundUpgradeTimeout: 10_000
} as const

export function mdnsServiceTag (cluster: string): string {
  return `_engram-${createHash('sha256').update(cluster).digest('hex').slice(0, 16)}._udp.local`
}

export async function createEngramLibp2p<T extends ServiceMap = ServiceMap> (opts: EngramLibp2pOptions<T>): Promise<EngramLibp2p<T>> {
  const cluster = opts.cluster ?? DEFAULT_CLUSTER
  const dhtProtocol = opts.dhtProtocol ?? DHT_PROTOCOL
  // validate here: pnet's own error is a bare "invalid psk"
  const psk = opts.swarmKey != null ? parseSwarmKey(opts.swarmKey) : undefined

  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  if (opts.mdns === true) peerDiscovery.push(mdns({ serviceTag: mdnsServiceTag(cluster) }))

  const services = {
    identify: identify(),
    // peers learn at once when a protocol (gossip) is registered after the connection opened
    identifyPush: identifyPush(),
    ping: ping(),
    dht: kadDHT({
      ...opts.dht,
      protocol: dhtProtocol,
      // server mode: LAN/loopback nodes never see a public address, so auto mode stays client
      clientMode: false,
      // the default mapper drops private addresses, and with them every peer of a LAN cluster
      peerInfoMapper: passthroughMapper
    }),
    discovery: discovery({ ...opts.discovery, cluster, dhtProtocol, dhtServiceName: 'dht' }),
    ...opts.services
  }

  const init: Libp2pOptions<EngramServices & T> = {
    privateKey: opts.privateKey,
    addresses: {
      listen: opts.listen,
      ...(opts.announce != null && opts.announce.length > 0 ? { announce: opts.announce } : {})
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    // a paused stream can receive at most one window; keep that well below the 4 MiB a
    // stream buffers before it resets (the default window may grow to 16 MiB)
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: 1024 * 1024 } })],
    peerDiscovery,
    connectionManager: {
      ...CONNECTION_LIMITS,
      // gossip peers carry a KEEP_ALIVE tag (gossip/service.ts): a lost one is re-dialled every
      // few seconds for a while, so a healed partition reconnects (and syncs) within seconds
      // instead of at the next discovery round; a peer gone for good is given up after that
      reconnectRetries: RECONNECT_RETRIES,
      reconnectRetryInterval: RECONNECT_INTERVAL_MS,
      reconnectBackoffFactor: 1
    },
    // service factories are typed per key; the merged map is what createLibp2p expects
    services: services as unknown as ServiceFactoryMap<EngramServices & T>,
    start: opts.start ?? true
  }
  if (psk != null) {
    fixXSalsa20Memory()
    init.connectionProtector = preSharedKey({ psk })
  }

  return await createLibp2p(init) as EngramLibp2p<T>
}
