/**
 * An Engram node: the Replica (LevelDB patterns), the libp2p stack with discovery and
 * the gossip service, wired together. The CLI and the library entry both use this; the API,
 * the metrics and the CLI's start command see it only as an EngramNodePort (types.ts). Its
 * parts stay private (tests reach them through internals.ts).
 */
import './polyfill.js'
import { join } from 'node:path'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { TypedEventEmitter } from '@libp2p/interface'
import { createEngramLibp2p, type EngramLibp2p } from './libp2p.js'
import { gossip, type GossipService } from '../gossip/service.js'
import type { RoundReport } from '../gossip/types.js'
import { replicaGossipStore } from '../gossip/replica-store.js'
import { MetaKnownPeerStore } from '../discovery/known-peers-meta.js'
import { loadOrCreateKey, peerIdFromKey } from './keys.js'
import { authorOf } from '../auth/author.js'
import { CounterGate, type CounterGateInit } from './counter-gate.js'
import { WriteVerifier } from '../auth/write-verifier.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { type MergeResult, Replica } from '../store/replica.js'
import type { ListOptions, OpenReport } from '../store/level-store.js'
import type { WatchOptions } from './change-stream.js'
import { replicaFeed } from './replica-feed.js'
import { toRecord } from './records.js'
import type { WriteOp } from '../core/pattern.js'
import { toHex } from '../core/merkle.js'
import { dhtProtocolFor } from '../discovery/constants.js'
import { checkNodeOptions } from '../settings/library-options.js'
import { registerInternals } from './internals.js'
import type { EngramNodeOptions } from './node-options.js'
import type { IndexCheckReport } from '../store/index-verify.js'
import { chooseSyncPeer, connectedPeerIds, peerList } from './peers.js'
import type {
  BulkWriteResult, ChangeRecord, EngramNodeEvents, EngramNodePort, NodeCounts, NodeLogger, NodeStatus, PatternRecord, PeerInfo, RefusedReason, SyncOptions
} from './types.js'

export type { BulkWriteResult, EngramNodeEvents, NodeStatus, PatternRecord } from './types.js'
export type { EngramNodeOptions } from './node-options.js'

/** The write checks' errors, as the `refused` event names them. */
const REFUSED_REASONS: Record<string, RefusedReason> = {
  ForgedWriteError: 'forged',
  UnverifiableWriterError: 'unverifiable',
  UntrustedWriterError: 'untrusted',
  UnprovenOverwriteError: 'unproven'
}

export { toRecord } from './records.js'

/** Logs what the background check of a saved index found: a repair is worth an operator's eye. */
function logIndexCheck (check: Promise<IndexCheckReport> | undefined, log: NodeLogger): void {
  check?.then(r => {
    if (r.rebuilt !== undefined) {
      log.error('index check: a key-hash record was malformed; index rebuilt from the pattern records, %d quarantined', r.rebuilt.quarantined.length)
    } else if (r.repairedPages.length > 0) {
      log.error('index check: %d saved index pages differed from the key-hash records and were repaired', r.repairedPages.length)
    } else log('index check: %d saved index pages match the key-hash records', r.pagesChecked)
  }, (err: Error) => { log.error('index check failed: %s', err.message) })
}

export class EngramNode extends TypedEventEmitter<EngramNodeEvents> implements EngramNodePort {
  readonly #replica: Replica
  readonly #libp2p: EngramLibp2p<{ gossip: GossipService }>
  readonly #gossip: GossipService
  readonly #gate: CounterGate
  readonly #verifier: WriteVerifier

  private constructor (replica: Replica, libp2p: EngramLibp2p<{ gossip: GossipService }>, verifier: WriteVerifier,
    gate: Omit<CounterGateInit, 'log'>) {
    super()
    this.#verifier = verifier
    this.#replica = replica
    this.#libp2p = libp2p
    const gateInit = { ...gate, log: libp2p.logger.forComponent('engram:node') }
    logIndexCheck(replica.indexCheck, libp2p.logger.forComponent('engram:store'))
    const counterGate = this.#gate = new CounterGate(gateInit)
    const service = this.#gossip = libp2p.services.gossip
    registerInternals(this, { replica, libp2p, gossip: service })
    replica.onChange(ev => {
      if (ev.origin === 'local') service.pushLocal(ev.patterns)
    })
    service.addEventListener('round', ev => {
      const r = ev.detail
      if ((r.role === 'initiator' || r.role === 'responder') && (r.outcome === 'synced' || r.outcome === 'in-sync')) counterGate.confirm(r.peer)
      this.safeDispatchEvent('round', { detail: ev.detail })
    })
    service.addEventListener('progress', ev => this.safeDispatchEvent('progress', { detail: ev.detail }))
    service.addEventListener('merged', ev => {
      // records cost a copy of every state: a bulk pull with no listener skips them
      if (this.listenerCount('merged') === 0) return
      this.safeDispatchEvent('merged', { detail: { patterns: ev.detail.patterns.map(toRecord), from: ev.detail.from.toString(), via: ev.detail.via } })
    })
  }

  /** Events for one merged frame: how states related (metrics), equivocations, writes signed twice, repairs, writers left out, refusals. */
  #onMerged (result: MergeResult): void {
    this.safeDispatchEvent('merge', { detail: result.kinds })
    for (const e of result.equivocations) {
      const digests: [string, string] = [toHex(e.digests[0]), toHex(e.digests[1])]
      this.safeDispatchEvent('equivocation', { detail: { key: e.key, node: e.dot.node, counter: e.dot.counter, digests } })
    }
    for (const d of result.doubleSigned) this.safeDispatchEvent('double-signed', { detail: { key: d.key, node: d.dot.node, counter: d.dot.counter } })
    for (const r of result.repaired) this.safeDispatchEvent('repaired', { detail: { key: r.key, node: r.dot.node, counter: r.dot.counter } })
    for (const { key, writers } of result.dropped) this.safeDispatchEvent('writers-dropped', { detail: { key, writers } })
    for (const { key, error } of result.skipped) {
      const reason = REFUSED_REASONS[error.name]
      if (reason !== undefined) this.safeDispatchEvent('refused', { detail: { key, reason, message: error.message } })
    }
  }

  /** Opens the store and builds the node; `start()` goes on the network. */
  static async create (opts: EngramNodeOptions): Promise<EngramNode> {
    checkNodeOptions(opts)
    const peerId = peerIdFromKey(opts.privateKey)
    let node: EngramNode | undefined
    const replica = await Replica.open({
      dir: join(opts.dataDir, 'store'),
      author: authorOf(peerId, opts.privateKey),
      // a repair is a write of this node's: it waits, as local writes do, until the counter is confirmed
      repairs: () => node !== undefined && node.#gate.confirmed,
      ...(opts.changeFeed === false ? { changeFeed: false } : {})
    })
    // every received write is checked against its writer's key; only trusted writers' if a list is given
    const verifier = new WriteVerifier(replica.nodeId, opts.trustedPeers === undefined ? {} : { trusted: new Set(opts.trustedPeers) })
    const knownPeers = new MetaKnownPeerStore(replica)
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
        discovery: { ...opts.discovery, join: opts.join ?? [], knownPeers },
        services: {
          gossip: gossip({
            store: replicaGossipStore(replica, verifier, result => { if (node !== undefined) node.#onMerged(result) }),
            ...opts.gossipLimits,
            // left out: the service's defaults, which are the settings module's
            ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
            ...(opts.fanout !== undefined ? { fanout: opts.fanout } : {}),
            ...(opts.connectSync === false ? { connectSync: { enabled: false } } : {})
          })
        },
        start: false
      })
      // a node with a past waits for one session before its first local write (counter-gate.ts)
      const past = replica.counter > 0 && ((opts.join?.length ?? 0) > 0 || (await knownPeers.load()).length > 0)
      node = new EngramNode(replica, libp2p, verifier, { needed: opts.confirmCounter !== false && past, timeoutMs: opts.confirmCounterTimeoutMs ?? 30_000 })
      return node
    } catch (err) {
      verifier.close()
      await replica.close()
      throw err
    }
  }

  get peerId (): PeerId {
    return this.#libp2p.peerId
  }

  /** What opening the store found and repaired (a rebuilt index, quarantined records). */
  get openReport (): OpenReport {
    return this.#replica.openReport
  }

  async start (): Promise<void> {
    await this.#libp2p.start()
    this.#gate.start()
  }

  /** Stops gossip and the network first, then closes the store: nothing writes after close. */
  async stop (): Promise<void> {
    this.#gate.stop()
    await this.#libp2p.stop()
    this.#verifier.close()
    await this.#replica.close()
  }

  addresses (): string[] {
    return this.#libp2p.getMultiaddrs().map(String)
  }

  logger (component: string): NodeLogger {
    return this.#libp2p.logger.forComponent(component)
  }

  writesHeldMs (): number {
    return this.#gate.heldForMs()
  }

  async put (key: string, op: WriteOp): Promise<PatternRecord> {
    await this.#gate.ready()
    return toRecord(await this.#replica.write(key, op))
  }

  /** Bulk write in one atomic batch (all or none); says how many patterns it stored, not what (no records built for an import). */
  async putMany (items: ReadonlyArray<{ key: string, op: WriteOp }>): Promise<BulkWriteResult> {
    await this.#gate.ready()
    const stored = await this.#replica.writeMany(items)
    return { patterns: stored.length, root: toHex(this.#replica.root()) }
  }

  async delete (key: string): Promise<PatternRecord> {
    await this.#gate.ready()
    return toRecord(await this.#replica.delete(key))
  }

  /** The change feed after `options.since` (change-stream.ts), each change as a record. */
  changes (options: WatchOptions = {}): AsyncGenerator<ChangeRecord> {
    return replicaFeed(this.#replica, options)
  }

  async get (key: string): Promise<PatternRecord | undefined> {
    const p = await this.#replica.getEncoded(key)
    return p === undefined ? undefined : toRecord(p)
  }

  async list (options: ListOptions = {}): Promise<PatternRecord[]> {
    return (await this.#replica.listEncoded(options)).map(toRecord)
  }

  /**
   * One anti-entropy round now, with `peer` or a random gossip peer. Throws before any
   * session when there is none to sync with: InvalidPeerIdError, PeerNotConnectedError,
   * NoGossipPeersError (errors.ts). A busy peer is waited out a few times (GossipService.syncNow).
   */
  async syncNow (peer?: string | PeerId, options: SyncOptions = {}): Promise<RoundReport> {
    const target = chooseSyncPeer(peer, await this.#gossip.gossipPeers())
    const { onProgress, signal } = options
    if (onProgress === undefined) return await this.#gossip.syncNow(target, { signal })
    const key = target.toString()
    const since = Date.now()
    // this round's events only: our own initiator session with that peer, started by us
    const listener = (ev: CustomEvent<RoundReport>): void => {
      const r = ev.detail
      if (r.peer === key && r.role === 'initiator' && r.startedAt >= since) onProgress(r)
    }
    this.#gossip.addEventListener('progress', listener)
    try {
      return await this.#gossip.syncNow(target, { signal })
    } finally {
      this.#gossip.removeEventListener('progress', listener)
    }
  }

  /** Peers with an open connection, sorted by id. */
  async peers (): Promise<PeerInfo[]> {
    return peerList(this.#libp2p.getConnections(), await this.#gossip.gossipPeers(), this.#gossip.peerInSync)
  }

  async counts (): Promise<NodeCounts> {
    return {
      patterns: this.#replica.count,
      connectedPeers: connectedPeerIds(this.#libp2p.getConnections()).length,
      gossipPeers: (await this.#gossip.gossipPeers()).length,
      peersInSync: Object.fromEntries(this.#gossip.peerInSync)
    }
  }

  async status (): Promise<NodeStatus> {
    return {
      peerId: this.peerId.toString(),
      lastChange: this.#replica.lastSeq,
      addresses: this.addresses(),
      root: toHex(this.#replica.root()),
      patterns: this.#replica.count,
      gossipPeers: (await this.#gossip.gossipPeers()).map(String),
      connectedPeers: connectedPeerIds(this.#libp2p.getConnections()),
      peersInSync: Object.fromEntries(this.#gossip.peerInSync),
      lastRounds: [...this.#gossip.lastRounds]
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
