/**
 * Known peers kept in the pattern store's meta space (one small JSON record), so the
 * node's whole state lives in one LevelDB and one data dir. Ordering and bounds are
 * MemoryKnownPeerStore's; this only loads and persists it.
 */
import { DEFAULT_MAX_KNOWN_PEERS, MemoryKnownPeerStore, type KnownPeer, type KnownPeerStore } from './peer-book.js'

export interface MetaSpace {
  getMeta(name: string): Promise<Uint8Array | undefined>
  putMeta(name: string, value: Uint8Array): Promise<void>
}

const META_NAME = 'known-peers'

export class MetaKnownPeerStore implements KnownPeerStore {
  private readonly mem: MemoryKnownPeerStore
  private loaded: Promise<void> | undefined

  constructor (private readonly meta: MetaSpace, maxPeers = DEFAULT_MAX_KNOWN_PEERS) {
    this.mem = new MemoryKnownPeerStore(maxPeers)
  }

  private async ensureLoaded (): Promise<void> {
    this.loaded ??= (async () => {
      const raw = await this.meta.getMeta(META_NAME)
      if (raw === undefined) return
      try {
        const peers = JSON.parse(Buffer.from(raw).toString('utf8'))
        // stored newest first: save oldest first so the newest ends up most recent
        if (Array.isArray(peers)) for (const p of [...peers].reverse()) await this.mem.save([p])
      } catch {
        // an unreadable list only costs us the remembered peers; the node still starts
      }
    })()
    await this.loaded
  }

  async load (): Promise<KnownPeer[]> {
    await this.ensureLoaded()
    return await this.mem.load()
  }

  async save (peers: KnownPeer[]): Promise<void> {
    await this.ensureLoaded()
    await this.mem.save(peers)
    await this.meta.putMeta(META_NAME, Buffer.from(JSON.stringify(await this.mem.load())))
  }
}
