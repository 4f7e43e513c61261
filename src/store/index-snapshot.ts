/**
 * The Merkle index saved at a clean stop, so that the next open loads its pages (a few large
 * records) instead of reading and re-hashing every 'h' record. It is trusted only when the last
 * stop was clean, the pages give back the root and size they were saved with, and that root is
 * the store's; even then index-verify.ts compares it with the 'h' records in the background.
 * A stop that is not clean leaves the open mark, so a saved index is never taken after a crash.
 */
import { CompactMerkleIndex, PAGE_COUNT } from '../core/compact-index.js'
import { InvalidEncodingError } from '../core/errors.js'
import { META_INDEX, META_OPEN, metaKey, P_INDEX, putUint64, range, readUint64 } from './layout.js'
import type { RawDb } from './recovery.js'

/** pages per batch when saving: bounds a batch's memory on a store of many millions */
const SAVE_CHUNK = 256

export function indexPageKey (page: number): Uint8Array {
  return Uint8Array.of(P_INDEX, page >> 8, page & 0xff)
}

/**
 * Saves the index and marks the stop clean, in that order: only the pages changed since the last
 * save (`all`: every page, when what is saved may be stale anywhere), then the root and size.
 */
export async function saveIndex (db: RawDb, index: CompactMerkleIndex, all: boolean): Promise<void> {
  const changed = index.takeChangedPages()
  const pages = all ? Array.from({ length: PAGE_COUNT }, (_, p) => p) : changed
  // anything else under the prefix (a damaged save) would make every later load refuse the pages
  if (all) await db.clear(range(P_INDEX))
  for (let i = 0; i < pages.length; i += SAVE_CHUNK) {
    const batch = db.batch()
    for (const p of pages.slice(i, i + SAVE_CHUNK)) {
      const bytes = index.exportPage(p)
      if (bytes === undefined) batch.del(indexPageKey(p))
      else batch.put(indexPageKey(p), bytes)
    }
    await batch.write({ sync: false })
  }
  const header = new Uint8Array(40)
  header.set(index.root(), 0)
  putUint64(header, 32, index.size)
  await db.batch([
    { type: 'put', key: metaKey(META_INDEX), value: header },
    { type: 'del', key: metaKey(META_OPEN) }
  ], { sync: true })
}

export type SavedIndex = { index: CompactMerkleIndex } | { why: string }

/**
 * The saved index, or why it cannot be used. `storedRoot`: the root the store's last batch wrote;
 * `unclean`: the open mark was found (the last stop was not clean).
 */
export async function loadSavedIndex (db: RawDb, storedRoot: Uint8Array | undefined, unclean: boolean): Promise<SavedIndex> {
  if (unclean) return { why: 'the last stop was not clean' }
  const header = await db.get(metaKey(META_INDEX))
  if (header === undefined || header.length !== 40) return { why: 'no saved index' }
  if (storedRoot === undefined || Buffer.compare(header.subarray(0, 32), storedRoot) !== 0) return { why: 'the saved index is older than the store' }
  const index = new CompactMerkleIndex()
  const it = db.iterator(range(P_INDEX))
  try {
    for (let batch = await it.nextv(SAVE_CHUNK); batch.length > 0; batch = await it.nextv(SAVE_CHUNK)) {
      for (const [k, v] of batch) {
        if (k.length !== 3) return { why: 'a saved index page has a malformed key' }
        index.importPage(((k[1] as number) << 8) | (k[2] as number), v)
      }
    }
  } catch (err) {
    if (err instanceof InvalidEncodingError) return { why: `a saved index page is damaged (${err.message})` }
    throw err
  } finally {
    await it.close()
  }
  if (Buffer.compare(index.root(), header.subarray(0, 32)) !== 0 || index.size !== readUint64(header, 32)) {
    return { why: 'the saved index pages do not give back their root' }
  }
  // what is loaded is what is saved: only later changes need writing at the next stop
  index.takeChangedPages()
  return { index }
}
