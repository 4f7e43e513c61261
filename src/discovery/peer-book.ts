/**
 * Remembers peers we have been connected to, so a restarted node finds its cluster again
 * without a join address. Bounded: only the most recently seen peers are kept.
 */
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

/** The bounded, ordered list itself; MetaKnownPeerStore (known-peers-meta.ts) persists it. */
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
