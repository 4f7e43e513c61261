/** The change feed inside the store: entries put in a write batch, and pages read back with their patterns. */
import { type EncodedPattern, withBytes } from '../core/encoded-pattern.js'
import { keyHash } from '../core/encoding.js'
import { type ChangeSource, changeKey, encodeEntry, encodeSeq, entryHead, type FeedEntry, readFeed } from './change-feed.js'
import type { FeedPeers } from './peer-table.js'
import { hashEntrySeq, hashKey, META_SEQ, metaKey, patternKey } from './layout.js'
import type { PreparedState } from './prepare.js'
import { decodeStored } from './record.js'
import type { RawDb } from './recovery.js'

/** A feed entry with the pattern as stored now (its latest change). */
export interface StoredChange extends FeedEntry {
  pattern: EncodedPattern
}

export interface ChangesPage {
  changes: StoredChange[]
  /** the seq the read reached: the `since` of the next page */
  last: number
  /** the read stopped before the end of the feed */
  more: boolean
}

export interface ChangesOptions {
  prefix?: string
  /** most changes to return (default 1000) */
  limit?: number
}

const encoder = new TextEncoder()

/** entries looked at per returned one, at most: a prefix that matches little still ends a page soon */
const SCAN_FACTOR = 16

/**
 * Puts each state's feed entry into `batch` with seqs after `lastSeq`, dropping its key's
 * older entry (`olderSeq`, or an earlier one of this batch); returns the seqs, in order, which
 * the caller writes into the keys' 'h' records of the same batch.
 */
export function putChanges (batch: ReturnType<RawDb['batch']>, prepared: readonly PreparedState[], source: ChangeSource, lastSeq: number,
  olderSeq: (p: PreparedState) => number | undefined, peers: FeedPeers): number[] {
  if (prepared.length === 0) return []
  let seq = lastSeq
  const inBatch = new Map<string, number>()
  const { ref, record } = peers.refFor(source.peer)
  if (record !== undefined) batch.put(record[0], record[1])
  const head = entryHead(source.origin, ref)
  const seqs = prepared.map(p => {
    const key = p.state.key
    const older = inBatch.get(key) ?? olderSeq(p)
    if (older !== undefined) batch.del(changeKey(older))
    const s = ++seq
    inBatch.set(key, s)
    batch.put(changeKey(s), encodeEntry(encoder.encode(key), head))
    return s
  })
  batch.put(metaKey(META_SEQ), encodeSeq(seq))
  return seqs
}

/**
 * The feed after `since`, in seq order, each change with the pattern as stored now. An entry
 * whose key changed again since the read began is left out: its newer entry follows.
 */
export async function readChanges (db: RawDb, since: number, options: ChangesOptions, peers: FeedPeers): Promise<ChangesPage> {
  const limit = options.limit ?? 1000
  const page = await readFeed(db, since, { limit, scanLimit: limit * SCAN_FACTOR, ...(options.prefix !== undefined ? { prefix: options.prefix } : {}) })
  if (page.entries.length === 0) return { changes: [], last: page.last, more: page.more }
  // one read for the patterns and their keys' seqs: LevelDB reads them all from one snapshot
  const values = await db.getMany(page.entries.flatMap(e => [patternKey(e.key), hashKey(keyHash(e.key))]))
  const changes: StoredChange[] = []
  page.entries.forEach((e, i) => {
    const bytes = values[2 * i]
    if (bytes === undefined || hashEntrySeq(values[2 * i + 1]) !== e.seq) return
    const peer = peers.peerOf(e.peerRef)
    changes.push({ seq: e.seq, key: e.key, origin: e.origin, ...(peer !== undefined ? { peer } : {}), pattern: withBytes(decodeStored(e.key, bytes), bytes) })
  })
  return { changes, last: page.last, more: page.more }
}
