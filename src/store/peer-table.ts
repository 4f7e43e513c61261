/**
 * The change feed's peers: each PeerId a change came from gets a number once, stored as meta
 * 'feed-peer/<n>', and entries carry the number. The table grows by one record per distinct
 * peer that ever changed a pattern here; entries stay small (a PeerId is ~52 bytes).
 */
import { decodeUtf8 } from '../core/bytes.js'
import { metaKey, P_META, range } from './layout.js'
import type { RawDb } from './recovery.js'

export const PEER_META_PREFIX = 'feed-peer/'

const encoder = new TextEncoder()

export class FeedPeers {
  private readonly refs = new Map<string, number>()
  private readonly peers: string[] = ['']

  static async load (db: RawDb): Promise<FeedPeers> {
    const table = new FeedPeers()
    for await (const [k, v] of db.iterator(range(P_META, encoder.encode(PEER_META_PREFIX)))) {
      const n = Number(decodeUtf8(k.subarray(1 + PEER_META_PREFIX.length)))
      if (!Number.isSafeInteger(n) || n < 1) continue
      try {
        const peer = decodeUtf8(v)
        table.refs.set(peer, n)
        table.peers[n] = peer
      } catch {}
    }
    return table
  }

  /**
   * The number of `peer` (0 for none) and the record that stores it: the caller puts that in
   * every batch that uses the number, so a failed batch leaves nothing half known.
   */
  refFor (peer: string | undefined): { ref: number, record?: [Uint8Array, Uint8Array] } {
    if (peer === undefined || peer === '') return { ref: 0 }
    let ref = this.refs.get(peer)
    if (ref === undefined) {
      ref = this.peers.length
      this.refs.set(peer, ref)
      this.peers[ref] = peer
    }
    return { ref, record: [metaKey(PEER_META_PREFIX + String(ref)), encoder.encode(peer)] }
  }

  peerOf (ref: number): string | undefined {
    return ref === 0 ? undefined : this.peers[ref]
  }
}
