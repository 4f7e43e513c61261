/**
 * Open-time checks and repair. Loading the index reads only the small 'h' records;
 * the full scan of pattern records happens only when those disagree with the stored
 * root, so a clean open stays fast and a damaged one repairs itself exactly once.
 */
import { readdir } from 'node:fs/promises'
import type { Level } from 'level'
import { keyHash, patternDigest } from '../core/encoding.js'
import { CompactMerkleIndex } from '../core/compact-index.js'
import type { PatternState } from '../core/pattern.js'
import { StoreFormatError } from './errors.js'
import { decodeStored } from './record.js'
import {
  decodeHashEntry, encodeHashEntry, hashEntrySeq, hashKey, metaKey, META_ROOT, P_HASH, P_PATTERN,
  quarantineKey, range, suffixText, suffixTextLossy
} from './layout.js'

export type RawDb = Level<Uint8Array, Uint8Array>

type Op = { type: 'put', key: Uint8Array, value: Uint8Array } | { type: 'del', key: Uint8Array }

/** Ops per repair batch: bounds memory on big stores. */
const REPAIR_CHUNK = 1024
/** 'h' records read per step of a load: large enough that each index page is rebuilt about once */
const LOAD_CHUNK = 16_384

/** What open found and did. */
export interface OpenReport {
  /** the index was rebuilt from the pattern records */
  rebuilt: boolean
  /** why it was rebuilt */
  reason?: string
  /**
   * where the index came from: the pages saved at the last clean stop (then checked against the
   * records in the background: LevelPatternStore.indexCheck), the key-hash records, or a rebuild
   */
  indexFrom: 'saved' | 'records' | 'rebuilt'
  /** why the saved pages were not used (a stop that was not clean, none saved yet, damage) */
  savedIndexUnused?: string
  /** keys of undecodable pattern records moved to the 'q' prefix */
  quarantined: string[]
  /** the stored counter was missing or unreadable (the replica recovers it) */
  counterLost: boolean
  /** the store was not closed by its last process (a crash, a kill, a power cut) */
  uncleanStop?: boolean
  /** the change feed was built or repaired: entries added for patterns without one, entries dropped */
  feedRepaired?: { added: number, dropped: number }
}

const LEVELDB_FILE = /^(CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(log|ldb|sst|dbtmp))$/

/**
 * Refuses a non-empty directory holding files LevelDB never writes, so a mistyped
 * path (a home directory, a repo) is not turned into a database.
 */
export async function checkDirectory (dir: string): Promise<void> {
  const foreign = (await readdir(dir)).filter(name => !LEVELDB_FILE.test(name))
  if (foreign.length > 0) {
    throw new StoreFormatError(`${dir} is not an Engram data directory: it holds files that are not LevelDB's (${foreign.slice(0, 3).join(', ')})`)
  }
}

export interface LoadedIndex {
  index: CompactMerkleIndex
  /** set when an 'h' record is malformed: the index cannot be trusted */
  problem?: string
}

/** Builds the index from the 'h' records alone (no pattern decoding). */
export async function loadIndex (db: RawDb): Promise<LoadedIndex> {
  const index = new CompactMerkleIndex()
  const it = db.iterator(range(P_HASH))
  try {
    for (let batch = await it.nextv(LOAD_CHUNK); batch.length > 0; batch = await it.nextv(LOAD_CHUNK)) {
      const items: Array<{ kh: Uint8Array, digest: Uint8Array }> = []
      for (const [k, v] of batch) {
        const entry = decodeHashEntry(k, v)
        if (entry === undefined) return { index, problem: 'a key-hash record is malformed' }
        items.push({ kh: entry.keyHash, digest: entry.digest })
      }
      index.setMany(items)
    }
  } finally {
    await it.close()
  }
  return { index }
}

function decodeRecord (dbKey: Uint8Array, value: Uint8Array): PatternState | undefined {
  const key = suffixText(dbKey)
  if (key === undefined) return undefined
  try {
    return decodeStored(key, value)
  } catch {
    return undefined
  }
}

/**
 * Re-derives every 'h' record and the root from the pattern records. Undecodable
 * records are moved (put + del in one batch) to quarantine, never dropped. The root is
 * written last, so a crash midway leaves it stale and the next open simply repeats this.
 */
export async function rebuildIndex (db: RawDb, sync: boolean): Promise<{ index: CompactMerkleIndex, quarantined: string[] }> {
  const index = new CompactMerkleIndex()
  // index entries go in by the thousand: a page is rebuilt once per chunk, not once per pattern
  const pending: Array<{ kh: Uint8Array, digest: Uint8Array }> = []
  const quarantined: string[] = []
  let ops: Op[] = []
  const flush = async (): Promise<void> => {
    if (ops.length === 0) return
    await db.batch(ops, { sync })
    ops = []
  }
  // LevelDB iterators read a snapshot, so the moves below do not disturb the scan
  for await (const [k, v] of db.iterator(range(P_PATTERN))) {
    const state = decodeRecord(k, v)
    if (state === undefined) {
      ops.push({ type: 'put', key: quarantineKey(k), value: v }, { type: 'del', key: k })
      quarantined.push(suffixTextLossy(k))
    } else {
      const kh = keyHash(state.key)
      const digest = patternDigest(v)
      pending.push({ kh, digest })
      if (pending.length >= LOAD_CHUNK) index.setMany(pending.splice(0))
      // the key's change feed entry stays where it was (feed-open.ts checks it next)
      const seq = hashEntrySeq(await db.get(hashKey(kh)))
      ops.push({ type: 'put', key: hashKey(kh), value: encodeHashEntry(digest, state.key, seq) })
    }
    if (ops.length >= REPAIR_CHUNK) await flush()
  }
  index.setMany(pending)
  // drop 'h' records that no longer name a stored pattern
  for await (const k of db.keys(range(P_HASH))) {
    if (k.length !== 33 || !index.has(k.subarray(1))) ops.push({ type: 'del', key: k })
    if (ops.length >= REPAIR_CHUNK) await flush()
  }
  ops.push({ type: 'put', key: metaKey(META_ROOT), value: index.root() })
  await flush()
  return { index, quarantined }
}
