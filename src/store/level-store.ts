/**
 * LevelPatternStore: a thin adapter from canonical pattern states to one LevelDB
 * (layout in layout.ts). It holds the live Merkle index of what is stored and keeps the
 * stored root equal to it: every write puts patterns, their key-hash records, the new
 * root and optionally the node's counter in ONE LevelDB batch, so a crash leaves either
 * all of a batch or none of it.
 */
import { mkdir } from 'node:fs/promises'
import { Level } from 'level'
import { type EncodedPattern, withBytes } from '../core/encoded-pattern.js'
import { HASH_BYTES, toHex } from '../core/merkle.js'
import type { CompactMerkleIndex } from '../core/compact-index.js'
import type { PatternState } from '../core/pattern.js'
import { StoreClosedError, StoreCorruptionError } from './errors.js'
import { ensureFormat } from './format-marker.js'
import {
  decodeCounter, decodeHashEntry, encodeCounter, encodeHashEntry,
  checkMetaName, checkWritableMeta, hashEntrySeq, hashKey, META_COUNTER, META_OPEN, META_ROOT, metaKey, patternKey
} from './layout.js'
import { listMetaEntries, listPatterns, type ListOptions, type MetaEntry } from './listing.js'
import { Mutex } from './mutex.js'
import { prepareState, type PreparedState } from './prepare.js'
import { decodeStored } from './record.js'
import { checkDirectory, type OpenReport, type RawDb } from './recovery.js'
import type { ChangeSource } from './change-feed.js'
import { type ChangesOptions, type ChangesPage, putChanges, readChanges } from './feed-batch.js'
import { openFeed } from './feed-open.js'
import { saveIndex } from './index-snapshot.js'
import { type IndexCheckReport, verifyIndex } from './index-verify.js'
import { openIndex } from './open-index.js'
import { FeedPeers } from './peer-table.js'

export type { OpenReport } from './recovery.js'
export type { ChangesOptions, ChangesPage, StoredChange } from './feed-batch.js'
export { DEFAULT_LIST_LIMIT, type ListOptions, type MetaEntry } from './listing.js'
export { prepareEncoded, prepareMerged, prepareState, type PreparedState } from './prepare.js'

export interface StoreOptions {
  /** fsync every batch (default true): the counter must survive a power cut, not only a crash */
  sync?: boolean
  /** keep the change feed (default true); a store opened without it is rebuilt the next time it is opened with it */
  changeFeed?: boolean
}

export interface WriteOptions {
  /** where the batch's changes came from, as the change feed tells it (default: local) */
  change?: ChangeSource
  /**
   * fsync this batch (default: the store's `sync`). Remote merges may skip it: a power cut
   * can lose the newest of them (never half of one), and peers still hold them.
   */
  durable?: boolean
}

export class LevelPatternStore {
  private readonly writeLock = new Mutex()
  private isClosed = false
  /** The background check of an index loaded from saved pages (index-verify.ts); undefined when it came from the records. */
  indexCheck: Promise<IndexCheckReport> | undefined

  private constructor (
    private readonly db: RawDb,
    private readonly live: CompactMerkleIndex,
    private storedCounter: number | undefined,
    private lastSeqValue: number,
    private readonly feedOn: boolean,
    private readonly peers: FeedPeers,
    private readonly sync: boolean,
    /** what open found and repaired */
    readonly openReport: OpenReport,
    readonly dir: string
  ) {}

  /** Opens (creating if needed) the store in `dir`; see OpenReport for what repair did. */
  static async open (dir: string, options: StoreOptions = {}): Promise<LevelPatternStore> {
    const sync = options.sync ?? true
    await mkdir(dir, { recursive: true })
    await checkDirectory(dir)
    const db: RawDb = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
    await db.open()
    try {
      await ensureFormat(db, dir, sync)
      const counterBytes = await db.get(metaKey(META_COUNTER))
      const counter = counterBytes === undefined ? undefined : decodeCounter(counterBytes)
      const unclean = (await db.get(metaKey(META_OPEN))) !== undefined
      const opened = await openIndex(db, sync, unclean)
      const index = opened.index
      const report: OpenReport = { ...opened.report, counterLost: counter === undefined }
      // a rebuilt index may have quarantined patterns: their feed entries go too
      const feedOn = options.changeFeed !== false
      const feed = await openFeed(db, sync, report.rebuilt, feedOn, unclean)
      if (unclean) report.uncleanStop = true
      if (feed.repaired !== undefined) report.feedRepaired = feed.repaired
      await db.put(metaKey(META_OPEN), new Uint8Array([1]), { sync: true })
      const store = new LevelPatternStore(db, index, counter, feed.lastSeq, feedOn, await FeedPeers.load(db), sync, report, dir)
      if (report.indexFrom === 'saved') store.indexCheck = verifyIndex(db, index, async fn => await store.writeLock.run(fn), () => store.isClosed, sync)
      return store
    } catch (err) {
      await db.close()
      throw err
    }
  }

  get closed (): boolean {
    return this.isClosed
  }

  /** The live index of stored patterns; changes only after a batch commits. Treat as read-only. */
  get index (): CompactMerkleIndex {
    return this.live
  }

  get count (): number {
    return this.live.size
  }

  /** The node's highest used counter as stored; undefined when it was lost (see openReport). */
  get counter (): number | undefined {
    return this.storedCounter
  }

  root (): Uint8Array {
    return this.live.root()
  }

  /** Whether this store keeps the change feed. */
  get changeFeed (): boolean { return this.feedOn }

  /** The seq of the newest change (0: none yet). */
  get lastSeq (): number {
    return this.lastSeqValue
  }

  /**
   * The feed after `since`, in seq order, each change with the pattern as stored now. An entry
   * whose key changed again since the read began is left out: its newer entry follows.
   */
  async changes (since: number, options: ChangesOptions = {}): Promise<ChangesPage> {
    this.assertOpen()
    return await readChanges(this.db, since, options, this.peers)
  }

  async get (key: string): Promise<PatternState | undefined> {
    this.assertOpen()
    const bytes = await this.db.get(patternKey(key))
    return bytes === undefined ? undefined : decodeStored(key, bytes)
  }

  /** A stored pattern with its bytes and hashes (what a record needs: no re-encode). */
  async getEncoded (key: string): Promise<EncodedPattern | undefined> {
    this.assertOpen()
    const bytes = await this.db.get(patternKey(key))
    return bytes === undefined ? undefined : withBytes(decodeStored(key, bytes), bytes)
  }

  /** Several patterns in one read (undefined where absent). */
  async getMany (keys: readonly string[]): Promise<Array<PatternState | undefined>> {
    this.assertOpen()
    if (keys.length === 0) return []
    const values = await this.db.getMany(keys.map(patternKey))
    return values.map((bytes, i) => bytes === undefined ? undefined : decodeStored(keys[i] as string, bytes))
  }

  /**
   * The stored canonical bytes at a key hash, not decoded (what gossip sends). Synchronous reads:
   * two thread-pool round trips per pattern made a bulk pull read-bound on the sending side.
   */
  async getEncodedByKeyHash (hash: Uint8Array): Promise<Uint8Array | undefined> {
    const key = this.keyOfSync(hash)
    if (key === undefined) return undefined
    const bytes = this.db.getSync(patternKey(key))
    if (bytes === undefined) throw new StoreCorruptionError(`pattern ${JSON.stringify(key)} is indexed but not stored`, { key })
    return bytes
  }

  /** The key a key hash stands for, if a pattern with that key is stored. */
  async keyOf (hash: Uint8Array): Promise<string | undefined> {
    return this.keyOfSync(hash)
  }

  private keyOfSync (hash: Uint8Array): string | undefined {
    this.assertOpen()
    if (hash.length !== HASH_BYTES || !this.live.has(hash)) return undefined
    const dbKey = hashKey(hash)
    const value = this.db.getSync(dbKey)
    // absent: a batch that indexes it is still being written (see writePrepared)
    if (value === undefined) return undefined
    const entry = decodeHashEntry(dbKey, value)
    if (entry === undefined) throw new StoreCorruptionError(`key-hash record ${toHex(hash)} is corrupt`)
    return entry.key
  }

  async getByKeyHash (hash: Uint8Array): Promise<PatternState | undefined> {
    const key = await this.keyOf(hash)
    if (key === undefined) return undefined
    const state = await this.get(key)
    if (state === undefined) throw new StoreCorruptionError(`pattern ${JSON.stringify(key)} is indexed but not stored`, { key })
    return state
  }

  /** One page of patterns in key (UTF-8 byte) order; pass the last key as `after` for the next. */
  async list (options: ListOptions = {}): Promise<PatternState[]> {
    this.assertOpen()
    return (await listPatterns(this.db, options)).map(([key, bytes]) => decodeStored(key, bytes))
  }

  /** Like list, each with its bytes and hashes. */
  async listEncoded (options: ListOptions = {}): Promise<EncodedPattern[]> {
    this.assertOpen()
    return (await listPatterns(this.db, options)).map(([key, bytes]) => withBytes(decodeStored(key, bytes), bytes))
  }

  /** Stores whole states (replacing what is stored under their keys) and the counter, if given, in one atomic batch. */
  async writeBatch (states: readonly PatternState[], counter?: number, options: WriteOptions = {}): Promise<void> {
    await this.writePrepared(states.map(s => prepareState(s)), counter, options)
  }

  /**
   * Like writeBatch, for states already encoded and hashed (see prepareState). Each state gets
   * the next seq of the change feed in the same batch; returns them, in order.
   */
  async writePrepared (prepared: readonly PreparedState[], counter?: number, options: WriteOptions = {}): Promise<number[]> {
    return await this.writeLock.run(async () => {
      this.assertOpen()
      if (counter !== undefined && (!Number.isSafeInteger(counter) || counter < (this.storedCounter ?? 0))) {
        throw new RangeError(`counter ${counter} would move the stored counter ${this.storedCounter ?? 0} backwards`)
      }
      if (prepared.length === 0 && counter === undefined) return []
      // a chained batch: the array form copies the options into every operation
      const batch = this.db.batch()
      // each state's feed entry; only a key that is stored can have an older one to drop
      const seqs = !this.feedOn
        ? []
        : putChanges(batch, prepared, options.change ?? { origin: 'local' }, this.lastSeqValue,
          p => this.live.has(p.kh) ? hashEntrySeq(this.db.getSync(hashKey(p.kh))) : undefined, this.peers)
      prepared.forEach((p, i) => {
        batch.put(patternKey(p.state.key), p.bytes)
        batch.put(hashKey(p.kh), encodeHashEntry(p.digest, p.state.key, seqs[i]))
      })
      // the live index takes the batch first (one root computation, not two); if the
      // batch fails it is rolled back. Until the batch lands, readers may see digests whose
      // records are not written yet: keyOf() treats those as absent.
      const undo = prepared.map(p => [p.kh, this.live.get(p.kh)] as const)
      this.live.setMany(prepared)
      if (prepared.length > 0) batch.put(metaKey(META_ROOT), this.live.root().slice())
      if (counter !== undefined) batch.put(metaKey(META_COUNTER), encodeCounter(counter))
      try {
        await batch.write({ sync: options.durable ?? this.sync })
      } catch (err) {
        for (let i = undo.length - 1; i >= 0; i--) {
          const [kh, old] = undo[i] as readonly [Uint8Array, Uint8Array | undefined]
          if (old === undefined) this.live.delete(kh)
          else this.live.set(kh, old)
        }
        throw err
      }
      if (counter !== undefined) this.storedCounter = counter
      if (seqs.length > 0) this.lastSeqValue = seqs[seqs.length - 1] as number
      return seqs
    })
  }

  async getMeta (name: string): Promise<Uint8Array | undefined> {
    this.assertOpen()
    const value = await this.db.get(metaKey(checkMetaName(name)))
    return value === undefined ? undefined : new Uint8Array(value)
  }

  /** Stores a small value for another module; the store's own names are refused. */
  async putMeta (name: string, value: Uint8Array): Promise<void> {
    this.assertOpen()
    await this.db.put(metaKey(checkWritableMeta(name)), value, { sync: this.sync })
  }

  async deleteMeta (name: string): Promise<void> {
    this.assertOpen()
    await this.db.del(metaKey(checkWritableMeta(name)), { sync: this.sync })
  }

  /** Meta entries whose names start with `prefix`, in name order. */
  async listMeta (prefix: string): Promise<MetaEntry[]> {
    this.assertOpen()
    return await listMetaEntries(this.db, prefix)
  }

  /** Waits for a batch in progress, then closes. Idempotent. */
  async close (): Promise<void> {
    await this.writeLock.run(async () => {
      if (this.isClosed) return
      this.isClosed = true
      // the index first: saving it clears the open mark, which is what makes the stop clean
      await saveIndex(this.db, this.live, this.openReport.indexFrom !== 'saved')
      await this.db.close()
    })
  }

  private assertOpen (): void {
    if (this.isClosed) throw new StoreClosedError(`store ${this.dir} is closed`)
  }
}
