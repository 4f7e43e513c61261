/**
 * The change feed at open: where its sequence goes on, and its repair. A store whose feed
 * cannot be trusted (none yet: a data dir from before the feed; or an index just rebuilt,
 * which may have quarantined patterns) gets every pattern without a valid entry a new one
 * (origin `store`), and loses every entry its key's 'h' record does not name. After a stop that
 * was not clean, the sequence goes on from the next epoch (see SEQ_EPOCH).
 */
import { keyHash } from '../core/encoding.js'
import { decodeHashEntry, encodeHashEntry, hashEntrySeq, hashKey, META_SEQ, metaKey, P_HASH, range } from './layout.js'
import { changeKey, decodeEntry, decodeSeq, encodeEntry, encodeSeq, entryHead, P_CHANGE, SEQ_EPOCH } from './change-feed.js'
import type { RawDb } from './recovery.js'

const CHUNK = 1024

type Op = { type: 'put', key: Uint8Array, value: Uint8Array } | { type: 'del', key: Uint8Array }

export interface FeedOpenReport {
  /** the last seq handed out: the next change gets the one after it */
  lastSeq: number
  /** entries added for patterns that had none, and entries dropped */
  repaired?: { added: number, dropped: number }
}

async function lastEntrySeq (db: RawDb): Promise<number> {
  const [last] = await db.keys({ ...range(P_CHANGE), reverse: true, limit: 1 }).all()
  return last === undefined ? 0 : decodeSeq(last.subarray(1)) ?? 0
}

/**
 * Reads (and if needed repairs) the feed's state and stores where its sequence goes on, durably.
 * `unclean`: the store's open mark was found (level-store.ts), so the last stop was not clean: the
 * sequence goes on from the next epoch.
 */
export async function openFeed (db: RawDb, sync: boolean, mustRepair: boolean, enabled: boolean, unclean: boolean): Promise<FeedOpenReport> {
  if (!enabled) {
    // changes made now get no entries: the next open with the feed must rebuild it
    await db.del(metaKey(META_SEQ), { sync: true })
    return { lastSeq: 0 }
  }
  const stored = decodeSeq(await db.get(metaKey(META_SEQ)))
  let lastSeq = Math.max(stored ?? 0, await lastEntrySeq(db))
  if (unclean) lastSeq = (Math.floor(lastSeq / SEQ_EPOCH) + 1) * SEQ_EPOCH
  let repaired: FeedOpenReport['repaired']
  if (stored === undefined || mustRepair) {
    repaired = await repairFeed(db, sync, () => ++lastSeq)
  }
  await db.put(metaKey(META_SEQ), encodeSeq(lastSeq), { sync: true })
  return { lastSeq, ...(repaired !== undefined ? { repaired } : {}) }
}

async function repairFeed (db: RawDb, sync: boolean, nextSeq: () => number): Promise<{ added: number, dropped: number }> {
  let ops: Op[] = []
  let added = 0
  let dropped = 0
  const flush = async (force = false): Promise<void> => {
    if (ops.length === 0 || (!force && ops.length < CHUNK)) return
    await db.batch(ops, { sync })
    ops = []
  }
  // 1. an entry stays only if its key is stored and the key's 'h' record names it
  for await (const [k, v] of db.iterator(range(P_CHANGE))) {
    const entry = decodeEntry(k, v)
    if (entry === undefined || hashEntrySeq(await db.get(hashKey(keyHash(entry.key)))) !== entry.seq) {
      ops.push({ type: 'del', key: k })
      dropped++
    }
    await flush()
  }
  await flush(true)
  // 2. every stored key whose 'h' record names no entry of its own gets one
  for await (const [k, v] of db.iterator(range(P_HASH))) {
    const h = decodeHashEntry(k, v)
    if (h === undefined) continue
    const named = h.seq === undefined ? undefined : await db.get(changeKey(h.seq))
    if (named !== undefined && decodeEntry(changeKey(h.seq as number), named)?.key === h.key) continue
    const next = nextSeq()
    ops.push({ type: 'put', key: changeKey(next), value: encodeEntry(h.key, entryHead('store', 0)) },
      { type: 'put', key: k, value: encodeHashEntry(h.digest, h.key, next) })
    added++
    await flush()
  }
  await flush(true)
  return { added, dropped }
}
