/**
 * An Engram node: the Replica (LevelDB patterns), the libp2p stack with discovery and
 * the gossip service, wired together. The CLI and the library entry both use this.
 */
import './polyfill.js'
import { join } from 'node:path'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { TypedEventEmitter } from '@libp2p/interface'
import { createEngramLibp2p, type EngramLibp2p } from './libp2p.js'
import { gossip, type GossipService, type RoundReport } from '../gossip/service.js'
import { replicaGossipStore } from '../gossip/replica-store.js'
import type { Fanout } from '../gossip/push.js'
import type { MergeVia } from '../gossip/types.js'
import { MetaKnownPeerStore } from '../discovery/known-peers-meta.js'
import { loadOrCreateKey, peerIdFromKey } from './keys.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Replica } from '../store/replica.js'
import type { ListOptions } from '../store/level-store.js'
import { viewOf, type PatternState, type PatternView, type WriteOp } from '../core/pattern.js'
import { clockToObject } from '../core/vector-clock.js'
import { patternDigest } from '../core/encoding.js'
import { toHex } from '../core/merkle.js'
import type { MergeKind } from '../core/merge.js'
import type { DiscoveryInit } from '../discovery/discovery.js'
import { DEFAULT_CLUSTER, DHT_PROTOCOL } from '../gossip/constants.js'
import { checkNodeOptions } from '../settings/library-options.js'

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
  swarmKey?: Uint8Array
  mdns?: boolean
  cluster?: string
  /** discovery tuning (tests shorten intervals) */
  discovery?: Omit<DiscoveryInit, 'cluster' | 'dhtProtocol' | 'dhtServiceName' | 'join' | 'knownPeers'>
  /** DHT self-query interval for fast discovery in tests */
  dhtInitialQuerySelfInterval?: number
}

/** A pattern as the API and CLI show it. */
export interface PatternRecord extends PatternView {
  clock: Record<string, number>
  digest: string
}

export interface NodeStatus {
  peerId: string
  addresses: string[]
  root: string
  patterns: number
  gossipPeers: string[]
  connectedPeers: string[]
  peersInSync: Record<string, boolean>
  lastRounds: RoundReport[]
}

export interface EngramNodeEvents {
  /** patterns that changed by a merge from a peer */
  merged: CustomEvent<{ patterns: PatternRecord[], from: string, via: MergeVia }>
  round: CustomEvent<RoundReport>
  /** a running session's counts so far */
  progress: CustomEvent<RoundReport>
  /** how incoming states related to ours, per merged batch (for metrics) */
  merge: CustomEvent<Record<MergeKind, number>>
}

export function dhtProtocolFor (cluster: string | undefined): string {
  return cluster === undefined || cluster === DEFAULT_CLUSTER ? DHT_PROTOCOL : `/engram/${encodeURIComponent(cluster)}/kad/1.0.0`
}

export function toRecord (s: PatternState): PatternRecord {
  return { ...viewOf(s), clock: clockToObject(s.clock), digest: toHex(patternDigest(s)) }
}

export class EngramNode extends TypedEventEmitter<EngramNodeEvents> {
  private constructor (
    readonly replica: Replica,
    readonly libp2p: EngramLibp2p<{ gossip: GossipService }>
  ) {
    super()
    replica.onChange(ev => {
      if (ev.origin === 'local') this.gossip.pushLocal([...ev.states])
    })
    this.gossip.addEventListener('round', ev => this.safeDispatchEvent('round', { detail: ev.detail }))
    this.gossip.addEventListener('progress', ev => this.safeDispatchEvent('progress', { detail: ev.detail }))
    this.gossip.addEventListener('merged', ev => {
      // records cost an encode and a hash each: a bulk pull with no listener skips them
      if (this.listenerCount('merged') === 0) return
      this.safeDispatchEvent('merged', { detail: { patterns: ev.detail.states.map(toRecord), from: ev.detail.from.toString(), via: ev.detail.via } })
    })
  }

  /** Opens the store and builds the node; `start()` goes on the network. */
  static async create (opts: EngramNodeOptions): Promise<EngramNode> {
    checkNodeOptions(opts)
    const peerId = peerIdFromKey(opts.privateKey)
    const replica = await Replica.open({ dir: join(opts.dataDir, 'store'), nodeId: peerId.toString() })
    let node: EngramNode | undefined
    try {
      const libp2p = await createEngramLibp2p({
        privateKey: opts.privateKey,
        listen: opts.listen ?? ['/ip4/0.0.0.0/tcp/4001'],
        announce: opts.announce,
        swarmKey: opts.swarmKey,
        mdns: opts.mdns ?? false,
        cluster: opts.cluster,
        // a cluster of its own name gets a DHT of its own, so clusters never mix routing tables
        dhtProtocol: dhtProtocolFor(opts.cluster),
        dht: opts.dhtInitialQuerySelfInterval !== undefined ? { initialQuerySelfInterval: opts.dhtInitialQuerySelfInterval } : undefined,
        discovery: { ...opts.discovery, join: opts.join ?? [], knownPeers: new MetaKnownPeerStore(replica) },
        services: {
          gossip: gossip({
            store: replicaGossipStore(replica, kinds => node?.safeDispatchEvent('merge', { detail: kinds })),
            intervalMs: opts.intervalMs ?? 60_000,
            fanout: opts.fanout ?? 'auto'
          })
        },
        start: false
      })
      node = new EngramNode(replica, libp2p)
      return node
    } catch (err) {
      await replica.close()
      throw err
    }
  }

  get gossip (): GossipService {
    return this.libp2p.services.gossip
  }

  get peerId (): PeerId {
    return this.libp2p.peerId
  }

  async start (): Promise<void> {
    await this.libp2p.start()
  }

  /** Stops gossip and the network first, then closes the store: nothing writes after close. */
  async stop (): Promise<void> {
    await this.libp2p.stop()
    await this.replica.close()
  }

  addresses (): string[] {
    return this.libp2p.getMultiaddrs().map(String)
  }

  async put (key: string, op: WriteOp): Promise<PatternRecord> {
    return toRecord(await this.replica.write(key, op))
  }

  /** Bulk write in one atomic batch (all or none). */
  async putMany (items: ReadonlyArray<{ key: string, op: WriteOp }>): Promise<PatternRecord[]> {
    return (await this.replica.writeMany(items)).map(toRecord)
  }

  async delete (key: string): Promise<PatternRecord> {
    return toRecord(await this.replica.delete(key))
  }

  async get (key: string): Promise<PatternRecord | undefined> {
    const s = await this.replica.get(key)
    return s === undefined ? undefined : toRecord(s)
  }

  async list (options: ListOptions = {}): Promise<PatternRecord[]> {
    return (await this.replica.list(options)).map(toRecord)
  }

  /** One anti-entropy round now, with the given peer or a random gossip peer. */
  async sync (peer?: string | PeerId): Promise<RoundReport> {
    return await this.gossip.syncNow(typeof peer === 'string' ? peerIdFromString(peer) : peer)
  }

  async status (): Promise<NodeStatus> {
    return {
      peerId: this.peerId.toString(),
      addresses: this.addresses(),
      root: toHex(this.replica.root()),
      patterns: this.replica.count,
      gossipPeers: (await this.gossip.gossipPeers()).map(String),
      connectedPeers: [...new Set(this.libp2p.getConnections().map(c => c.remotePeer.toString()))],
      peersInSync: Object.fromEntries(this.gossip.peerInSync),
      lastRounds: [...this.gossip.lastRounds]
    }
  }
}

export interface CreateEngramNodeOptions extends Omit<EngramNodeOptions, 'privateKey'> {
  /** the node's identity; or give `keyFile` */
  privateKey?: PrivateKey
  /** a key file to load (created, 0600, if missing); neither given: a fresh key per run */
  keyFile?: string
}

/** The library entry: builds a node (call `start()` to go on the network). */
export async function createEngramNode (opts: CreateEngramNodeOptions): Promise<EngramNode> {
  checkNodeOptions(opts)
  let privateKey = opts.privateKey
  if (privateKey === undefined && opts.keyFile !== undefined) privateKey = (await loadOrCreateKey(opts.keyFile, { create: true })).privateKey
  privateKey ??= await generateKeyPair('Ed25519')
  return await EngramNode.create({ ...opts, privateKey })
}
