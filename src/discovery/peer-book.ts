/**
 * Remembers peers we have been connected to, so a restarted node finds its cluster again
 * without a join address. Bounded: only the most recently seen peers are kept.
 */
import type { Logger } from '@libp2p/interface'

export interface KnownPeer {
  /** PeerId, string form */
  id: string
  /** multiaddrs without the /p2p/ suffix */
  addrs: string[]
}

export interface KnownPeerStore {
  /** Remembered peers, most recently seen first. */
  load(): Promise<KnownPeer[]>
  /**
   * Records these peers as seen now (first = most recent), replacing their addresses;
   * peers not passed are kept (older) until the bound pushes them out.
   */
  save(peers: KnownPeer[]): Promise<void>
}

export const DEFAULT_MAX_KNOWN_PEERS = 256
/** A peer with dozens of addresses is noise; the first few are the useful ones. */
export const MAX_ADDRS_PER_PEER = 16
const MAX_ID_LENGTH = 128
const MAX_ADDR_LENGTH = 512

interface Entry extends KnownPeer {
  seen: number
}

function clean (peer: KnownPeer): KnownPeer | undefined {
  if (typeof peer?.id !== 'string' || peer.id.length === 0 || peer.id.length > MAX_ID_LENGTH) return undefined
  const addrs = Array.isArray(peer.addrs)
    ? [...new Set(peer.addrs.filter(a => typeof a === 'string' && a.length > 0 && a.length <= MAX_ADDR_LENGTH))]
    : []
  return { id: peer.id, addrs: addrs.slice(0, MAX_ADDRS_PER_PEER) }
}

/** Gives distinct, decreasing timestamps so the order of one save() call survives. */
function stamp (peers: KnownPeer[], now: number): Entry[] {
  const out: Entry[] = []
  const seen = new Set<string>()
  for (const p of peers) {
    const c = clean(p)
    if (c == null || seen.has(c.id)) continue
    seen.add(c.id)
    out.push({ ...c, seen: now - out.length })
  }
  return out
}

function newestFirst (a: Entry, b: Entry): number {
  return b.seen - a.seen
}

/** For tests and for nodes that run without a data directory. */
export class MemoryKnownPeerStore implements KnownPeerStore {
  private readonly entries = new Map<string, Entry>()
  private clock = 0

  constructor (private readonly maxPeers = DEFAULT_MAX_KNOWN_PEERS) {}

  async load (): Promise<KnownPeer[]> {
    return [...this.entries.values()].sort(newestFirst).map(({ id, addrs }) => ({ id, addrs: [...addrs] }))
  }

  async save (peers: KnownPeer[]): Promise<void> {
    // a logical clock: Date.now() can repeat within a millisecond and reorder peers
    this.clock = Math.max(this.clock + peers.length + 1, Date.now())
    for (const e of stamp(peers, this.clock)) this.entries.set(e.id, e)
    const sorted = [...this.entries.values()].sort(newestFirst)
    for (const e of sorted.slice(this.maxPeers)) this.entries.delete(e.id)
  }
}

/** What we use of our sublevel. */
interface PeerLevel {
  batch(ops: Array<{ type: 'put', key: string, value: Entry } | { type: 'del', key: string }>): Promise<void>
  iterator(options: { limit: number }): AsyncIterable<[string, Entry]>
}

/**
 * The database handed to us: a `level` instance or one of its sublevels. We only need
 * `sublevel`, which gives us our own key space (`!peers!<id>`) with JSON values whatever
 * encodings the parent uses.
 */
export interface LevelLike {
  sublevel(name: string, options: { keyEncoding: 'utf8', valueEncoding: 'json' }): unknown
}

export interface LevelKnownPeerStoreOptions {
  maxPeers?: number
  /** Sublevel name. Default 'peers'. */
  name?: string
  log?: Logger
}

export class LevelKnownPeerStore implements KnownPeerStore {
  private readonly db: PeerLevel
  private readonly maxPeers: number
  private readonly log?: Logger
  private clock = 0
  /** save() calls run one after the other so trimming never races a write. */
  private queue: Promise<void> = Promise.resolve()

  constructor (db: LevelLike, options: LevelKnownPeerStoreOptions = {}) {
    // abstract-level's overloaded generic types do not narrow structurally; this is its documented shape
    this.db = db.sublevel(options.name ?? 'peers', { keyEncoding: 'utf8', valueEncoding: 'json' }) as PeerLevel
    this.maxPeers = options.maxPeers ?? DEFAULT_MAX_KNOWN_PEERS
    this.log = options.log
  }

  async load (): Promise<KnownPeer[]> {
    await this.queue
    const entries = await this.readAll()
    return entries.slice(0, this.maxPeers).map(({ id, addrs }) => ({ id, addrs }))
  }

  async save (peers: KnownPeer[]): Promise<void> {
    const run = this.queue.then(async () => { await this.write(peers) })
    this.queue = run.catch(() => {})
    await run
  }

  private async write (peers: KnownPeer[]): Promise<void> {
    this.clock = Math.max(this.clock + peers.length + 1, Date.now())
    const fresh = stamp(peers, this.clock)
    if (fresh.length === 0) return
    const ids = new Set(fresh.map(e => e.id))
    const old = (await this.readAll()).filter(e => !ids.has(e.id))
    const keep = Math.max(0, this.maxPeers - fresh.length)
    await this.db.batch([
      ...fresh.slice(0, this.maxPeers).map(e => ({ type: 'put' as const, key: e.id, value: e })),
      ...fresh.slice(this.maxPeers).map(e => ({ type: 'del' as const, key: e.id })),
      ...old.slice(keep).map(e => ({ type: 'del' as const, key: e.id }))
    ])
  }

  /** Everything stored, newest first; skips entries another version or a bug left malformed. */
  private async readAll (): Promise<Entry[]> {
    const out: Entry[] = []
    // the bound is generous (trimming keeps far fewer) but never lets a huge db load fully
    for await (const [key, value] of this.db.iterator({ limit: this.maxPeers * 4 })) {
      const c = clean(value)
      if (c == null || c.id !== key || typeof value.seen !== 'number') {
        this.log?.('ignoring malformed known-peer entry %s', key)
        continue
      }
      out.push({ ...c, seen: value.seen })
    }
    return out.sort(newestFirst)
  }
}
