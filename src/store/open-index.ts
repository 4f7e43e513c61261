/**
 * Where the index comes from at open, cheapest first: the pages saved at the last clean stop
 * (index-snapshot.ts); else the 'h' records, checked against the stored root; else a rebuild from
 * the pattern records (recovery.ts).
 */
import type { CompactMerkleIndex } from '../core/compact-index.js'
import { loadSavedIndex } from './index-snapshot.js'
import { META_ROOT, metaKey } from './layout.js'
import { loadIndex, type OpenReport, type RawDb, rebuildIndex } from './recovery.js'

export interface OpenedIndex {
  index: CompactMerkleIndex
  report: Pick<OpenReport, 'rebuilt' | 'reason' | 'quarantined' | 'indexFrom' | 'savedIndexUnused'>
}

export async function openIndex (db: RawDb, sync: boolean, unclean: boolean): Promise<OpenedIndex> {
  const storedRoot = await db.get(metaKey(META_ROOT))
  const saved = await loadSavedIndex(db, storedRoot, unclean)
  if ('index' in saved) return { index: saved.index, report: { rebuilt: false, quarantined: [], indexFrom: 'saved' } }
  const loaded = await loadIndex(db)
  const reason = loaded.problem ??
    (storedRoot === undefined
      ? 'no stored root'
      : Buffer.compare(storedRoot, loaded.index.root()) !== 0 ? 'stored root does not match the key-hash records' : undefined)
  if (reason === undefined) {
    return { index: loaded.index, report: { rebuilt: false, quarantined: [], indexFrom: 'records', savedIndexUnused: saved.why } }
  }
  const rebuilt = await rebuildIndex(db, sync)
  return {
    index: rebuilt.index,
    report: { rebuilt: true, reason, quarantined: rebuilt.quarantined, indexFrom: 'rebuilt', savedIndexUnused: saved.why }
  }
}
