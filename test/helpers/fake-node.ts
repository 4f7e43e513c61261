/**
 * A node made of plain maps, implementing EngramNodePort: no store, no libp2p, no gossip. It
 * lets the API, the metrics and the CLI's output be tested against exactly the port, and shows
 * that nothing else of a node is needed. Tests script its peers, counts and sync answers.
 */
import { TypedEventEmitter } from '@libp2p/interface'
import { emptyReport } from '../../src/gossip/types.js'
import { watchFeed } from '../../src/node/change-stream.js'
import type {
  BulkWriteResult, ChangeRecord, ChangesOptions,
  EngramNodeEvents, EngramNodePort, ListOptions, NodeCounts, NodeLogger, NodeStatus, OpenReport, PatternRecord, PeerInfo, RoundReport,
  SyncOptions, WriteOp
} from '../../src/node/types.js'

export const FAKE_PEER_ID = '12D3KooWFakeNodeFakeNodeFakeNodeFakeNodeFakeNode'

/** What a scripted sync does: answer a report, throw, or report progress first. */
export type SyncScript = (peer: string | undefined, options: SyncOptions) => Promise<RoundReport>

export function fakeReport (peer: string, fields: Partial<RoundReport> = {}): RoundReport {
  return { ...emptyReport(peer, 'initiator'), outcome: 'synced', ms: 3, roundTrips: 1, ...fields }
}

class PatternNotFoundError extends Error {
  override name = 'PatternNotFoundError'
}

const silent: NodeLogger = Object.assign(() => {}, { error: () => {}, trace: () => {} })

export class FakeNode extends TypedEventEmitter<EngramNodeEvents> implements EngramNodePort {
  readonly patterns = new Map<string, PatternRecord>()
  peerList: PeerInfo[] = []
  counters: Omit<NodeCounts, 'patterns'> = { connectedPeers: 0, gossipPeers: 0, peersInSync: {} }
  rounds: RoundReport[] = []
  sync: SyncScript = async () => { throw new Error('no sync scripted') }
  /** every syncNow call, as the API made it */
  readonly syncCalls: Array<{ peer: string | undefined, options: SyncOptions }> = []
  readonly openReport: OpenReport = { rebuilt: false, quarantined: [], counterLost: false, indexFrom: 'records' }
  started = false
  lastSeq = 0
  private feed: ChangeRecord[] = []
  private readonly feedListeners = new Set<() => void>()

  async start (): Promise<void> { this.started = true }
  async stop (): Promise<void> { this.started = false }
  logger (): NodeLogger { return silent }
  writesHeldMs (): number { return 0 }

  async put (key: string, op: WriteOp): Promise<PatternRecord> {
    return this.write(key, op)
  }

  async putMany (items: ReadonlyArray<{ key: string, op: WriteOp }>): Promise<BulkWriteResult> {
    for (const { key, op } of items) this.write(key, op)
    return { patterns: new Set(items.map(i => i.key)).size, root: this.root() }
  }

  async get (key: string): Promise<PatternRecord | undefined> {
    return this.patterns.get(key)
  }

  async list (options: ListOptions = {}): Promise<PatternRecord[]> {
    return [...this.patterns.values()]
      .filter(p => p.key.startsWith(options.prefix ?? '') && (options.after === undefined || p.key > options.after))
      .sort((a, b) => a.key < b.key ? -1 : 1)
      .slice(0, options.limit ?? 100)
  }

  async delete (key: string): Promise<PatternRecord> {
    const old = this.patterns.get(key)
    if (old === undefined) throw new PatternNotFoundError(`pattern ${JSON.stringify(key)} does not exist`)
    return this.save({ ...old, deleted: true, episodes: [], summary: null })
  }

  async status (): Promise<NodeStatus> {
    return {
      peerId: FAKE_PEER_ID,
      lastChange: this.lastSeq,
      addresses: ['/ip4/127.0.0.1/tcp/4001'],
      root: this.root(),
      patterns: this.patterns.size,
      gossipPeers: this.peerList.filter(p => p.gossip).map(p => p.peerId),
      connectedPeers: this.peerList.map(p => p.peerId),
      peersInSync: this.counters.peersInSync,
      lastRounds: [...this.rounds]
    }
  }

  async peers (): Promise<PeerInfo[]> {
    return this.peerList
  }

  async counts (): Promise<NodeCounts> {
    return { patterns: this.patterns.size, ...this.counters }
  }

  async syncNow (peer?: string, options: SyncOptions = {}): Promise<RoundReport> {
    this.syncCalls.push({ peer, options })
    return await this.sync(peer, options)
  }

  /** A root that changes with every write: enough to tell states apart. */
  root (): string {
    let sum = 0
    for (const p of this.patterns.values()) sum += p.clock[FAKE_PEER_ID] ?? 0
    return sum.toString(16).padStart(64, '0')
  }

  private write (key: string, op: WriteOp): PatternRecord {
    const old = this.patterns.get(key)
    const episodes = new Set(old?.deleted === false ? old.episodes : [])
    for (const e of op.addEpisodes ?? []) episodes.add(e)
    for (const e of op.removeEpisodes ?? []) episodes.delete(e)
    return this.save({
      key,
      episodes: [...episodes].sort(),
      confidence: op.confidence ?? old?.confidence ?? 0,
      summary: op.summary === undefined ? old?.summary ?? null : op.summary,
      deleted: false,
      versions: 1,
      versionsWithoutContent: 0,
      clock: {},
      digest: ''
    })
  }

  /** The change feed of the fake: the same watch as a real node's, over a list in memory. */
  changes (options?: ChangesOptions): AsyncGenerator<ChangeRecord> {
    return watchFeed({
      lastSeq: this.lastSeq,
      changes: async (since, { prefix, limit }) => {
        const after = this.feed.filter(c => c.seq > since && c.key.startsWith(prefix ?? ''))
        const changes = after.slice(0, limit)
        const more = changes.length < after.length
        return { changes, last: more ? (changes[changes.length - 1]?.seq ?? since) : this.lastSeq, more }
      },
      onChange: listener => { this.feedListeners.add(listener); return () => this.feedListeners.delete(listener) }
    }, options)
  }

  private save (record: PatternRecord): PatternRecord {
    const counter = (this.patterns.get(record.key)?.clock[FAKE_PEER_ID] ?? 0) + 1
    const saved = { ...record, clock: { [FAKE_PEER_ID]: counter }, digest: counter.toString(16).padStart(64, '0') }
    this.patterns.set(record.key, saved)
    this.feed = this.feed.filter(c => c.key !== record.key)
    this.feed.push({ seq: ++this.lastSeq, key: record.key, origin: 'local', peer: null, pattern: saved })
    for (const l of this.feedListeners) l()
    return saved
  }
}
