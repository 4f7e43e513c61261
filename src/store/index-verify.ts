/**
 * The background check of an index loaded from its saved pages (index-snapshot.ts): every page is
 * compared with the 'h' records it stands for, a few pages at a time under the store's write
 * lock (so no batch lands between the read and the compare), and a page that differs is replaced
 * by what the records say, its new root written. The saved pages only spare the open its reading;
 * the 'h' records stay the truth.
 */
import { type CompactMerkleIndex, PAGE_COUNT } from '../core/compact-index.js'
import { packPage } from '../core/index-page.js'
import { decodeHashEntry, type HashEntry, META_ROOT, META_SEQ, metaKey, P_HASH } from './layout.js'
import { type RawDb, rebuildIndex } from './recovery.js'

/** pages compared per turn of the lock: a write waits for at most this many pages' records */
const VERIFY_CHUNK = 16

export interface IndexCheckReport {
  /** pages compared (all of them, unless the store closed first) */
  pagesChecked: number
  /** pages that differed from their records and were replaced */
  repairedPages: number[]
  /** a malformed 'h' record was found, so the index was rebuilt from the pattern records (recovery.ts) */
  rebuilt?: { quarantined: string[] }
}

/** The 'h' records of pages [from, to): key hashes whose first 12 bits are in that range. */
function pagesRange (from: number, to: number): { gte: Uint8Array, lt: Uint8Array } {
  const at = (page: number): Uint8Array => Uint8Array.of(P_HASH, page >> 4, (page & 0xf) << 4)
  return { gte: at(from), lt: to >= PAGE_COUNT ? Uint8Array.of(P_HASH + 1) : at(to) }
}

export type Locked = <T>(fn: () => Promise<T>) => Promise<T>

export async function verifyIndex (
  db: RawDb, index: CompactMerkleIndex, locked: Locked, closed: () => boolean, sync: boolean
): Promise<IndexCheckReport> {
  const report: IndexCheckReport = { pagesChecked: 0, repairedPages: [] }
  for (let from = 0; from < PAGE_COUNT; from += VERIFY_CHUNK) {
    const go = await locked(async () => {
      if (closed()) return false
      const byPage = new Map<number, HashEntry[]>()
      for (const [k, v] of await db.iterator(pagesRange(from, from + VERIFY_CHUNK)).all()) {
        const entry = decodeHashEntry(k, v)
        if (entry === undefined) {
          // the records themselves are damaged: the full repair, as an open would do it, which covers every page
          const rebuilt = await rebuildIndex(db, sync)
          for (let page = 0; page < PAGE_COUNT; page++) index.importPage(page, rebuilt.index.exportPage(page))
          // the next open repairs the feed too (entries of quarantined patterns)
          await db.del(metaKey(META_SEQ), { sync: true })
          report.rebuilt = { quarantined: rebuilt.quarantined }
          return false
        }
        const page = ((entry.keyHash[0] as number) << 4) | ((entry.keyHash[1] as number) >> 4)
        const list = byPage.get(page)
        if (list === undefined) byPage.set(page, [entry])
        else list.push(entry)
      }
      const repaired: number[] = []
      for (let page = from; page < from + VERIFY_CHUNK; page++) {
        const fromRecords = packPage(page, byPage.get(page) ?? [])
        const held = index.exportPage(page)
        if (fromRecords === undefined ? held === undefined : held !== undefined && Buffer.compare(fromRecords, held) === 0) continue
        index.importPage(page, fromRecords)
        repaired.push(page)
      }
      if (repaired.length > 0) {
        await db.put(metaKey(META_ROOT), index.root(), { sync: true })
        report.repairedPages.push(...repaired)
      }
      report.pagesChecked += VERIFY_CHUNK
      return true
    })
    if (!go) break
  }
  return report
}
