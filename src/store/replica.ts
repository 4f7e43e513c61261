/**
 * Replica: this node's copy of the patterns = the store + the core CRDT + the node's
 * own event counter. Every mutation is read-merge-write under one mutex, and persists
 * its states together with the counter it used in one store batch, so a restart (or a
 * crash) can never hand out a counter twice. Concurrent local writes share a batch
 * (write-queue.ts).
 */
import type { EncodedPattern } from '../core/encoded-pattern.js'
import { keyHash } from '../core/encoding.js'
import { InvalidPatternError } from '../core/errors.js'
import { MAX_NODE_ID_BYTES } from '../core/limits.js'
import type { CompactMerkleIndex } from '../core/compact-index.js'
import type { IndexCheckReport } from './index-verify.js'
import { applyDelete, applyWrite, type Author, highestCounterOf, isDeleted, type PatternState, type WriteOp } from '../core/pattern.js'
import type { NodeId } from '../core/vector-clock.js'
import { PatternNotFoundError } from './errors.js'
import {
  type ListOptions, LevelPatternStore, prepareState, type PreparedState, type MetaEntry, type OpenReport, type StoreOptions
} from './level-store.js'
import { mergeSet, sameAsStored } from './merge-set.js'
import { Mutex } from './mutex.js'
import { highestOwnCounter } from './own-counter.js'
import { type Outcome, WriteQueue } from './write-queue.js'
import type { ChangeEvent, ChangeListener, MergeResult, RemoteSource, WriteBase } from './replica-types.js'
import type { ChangeSource } from './change-feed.js'
import type { ChangesOptions, ChangesPage } from './feed-batch.js'

export type { ChangeEvent, ChangeListener, ChangeOrigin, MergeResult, RemoteSource } from './replica-types.js'

export interface ReplicaOptions extends StoreOptions {
  dir: string
  /** this node as a writer: the node id its dots name and the key that signs its writes */
  author: Author
  /** gets errors thrown by change listeners; by default they are rethrown asynchronously */
  onListenerError?: (err: unknown) => void
  /** whether a merge may write over a join it would not keep (repair-write.ts); by default it may */
  repairs?: () => boolean
}

/** One local write waiting for its batch: the new state, made from the current one and the write's counter. */
interface LocalWrite {
  key: string
  make: (current: PatternState | undefined, counter: number) => PatternState
}

export class Replica {
  private readonly lock = new Mutex()
  private readonly listeners = new Set<ChangeListener>()
  private readonly writes = new WriteQueue<LocalWrite, EncodedPattern>(this.lock, async items => await this.writeBatch(items))

  readonly nodeId: NodeId

  private constructor (
    private readonly author: Author,
    private readonly store: LevelPatternStore,
    private counterValue: number,
    private readonly hooks: { onListenerError: (err: unknown) => void, repairs: () => boolean }
  ) {
    this.nodeId = author.node
  }

  static async open (options: ReplicaOptions): Promise<Replica> {
    const { dir, author } = options
    const nodeId = author?.node
    if (typeof nodeId !== 'string' || nodeId.length === 0 || Buffer.byteLength(nodeId) > MAX_NODE_ID_BYTES) {
      throw new InvalidPatternError(`node id must be a non-empty string of at most ${MAX_NODE_ID_BYTES} bytes`)
    }
    const store = await LevelPatternStore.open(dir, {
      ...(options.sync !== undefined ? { sync: options.sync } : {}),
      ...(options.changeFeed !== undefined ? { changeFeed: options.changeFeed } : {})
    })
    try {
      let counter = store.counter
      if (counter === undefined) {
        // the stored counter is gone: our own dots in stored clocks are the best lower bound
        counter = await highestOwnCounter(store, nodeId)
        await store.writeBatch([], counter)
      }
      const onListenerError = options.onListenerError ?? ((err: unknown) => { queueMicrotask(() => { throw err }) })
      return new Replica(author, store, counter, { onListenerError, repairs: options.repairs ?? (() => true) })
    } catch (err) {
      await store.close()
      throw err
    }
  }

  /** The highest event counter this node has used (or seen named after it). */
  get counter (): number {
    return this.counterValue
  }

  get openReport (): OpenReport { return this.store.openReport }

  /** The background check of an index loaded from its saved pages (LevelPatternStore.indexCheck). */
  get indexCheck (): Promise<IndexCheckReport> | undefined { return this.store.indexCheck }

  get count (): number { return this.store.count }

  /** Live Merkle index of the stored patterns; read-only for callers. */
  get index (): CompactMerkleIndex {
    return this.store.index
  }

  root (): Uint8Array { return this.store.root() }

  async get (key: string): Promise<PatternState | undefined> {
    return await this.store.get(key)
  }

  async getByKeyHash (hash: Uint8Array): Promise<PatternState | undefined> {
    return await this.store.getByKeyHash(hash)
  }

  async list (options?: ListOptions): Promise<PatternState[]> {
    return await this.store.list(options)
  }

  /** A stored pattern with its bytes and hashes (for records: no re-encode). */
  async getEncoded (key: string): Promise<EncodedPattern | undefined> {
    return await this.store.getEncoded(key)
  }

  async listEncoded (options?: ListOptions): Promise<EncodedPattern[]> {
    return await this.store.listEncoded(options)
  }

  /**
   * A local create or update, answered once it is on disk; the new state comes back with the
   * bytes the store wrote (with any write to the same key that shared its batch).
   */
  async write (key: string, op: WriteOp): Promise<EncodedPattern> {
    return await this.writes.add({ key, make: (current, counter) => applyWrite(current, key, op, this.author, counter) })
  }

  /**
   * Several local writes as one atomic batch (bulk import): either all of them are
   * applied and stored, or, if any is invalid, none is. Each write is its own event.
   */
  async writeMany (items: ReadonlyArray<{ key: string, op: WriteOp }>): Promise<EncodedPattern[]> {
    return await this.lock.run(async () => {
      const { current, counter: from, khs } = await this.readForWrites(items)
      let counter = from
      for (const { key, op } of items) current.set(key, applyWrite(current.get(key), key, op, this.author, ++counter))
      const states = [...current.keys()].map(k => prepareState(current.get(k) as PatternState, khs.get(k)))
      return states.length > 0 ? await this.commit(states, counter) : []
    })
  }

  /** A local delete; the pattern must exist and not be deleted already. */
  async delete (key: string): Promise<EncodedPattern> {
    return await this.writes.add({
      key,
      make: (current, counter) => {
        if (current === undefined || isDeleted(current)) throw new PatternNotFoundError(key)
        return applyDelete(current, this.author, counter)
      }
    })
  }

  /**
   * Merges a set of remote states and persists every changed one in one batch (states that
   * change nothing are not rewritten). `encoded[i]`: the bytes states[i] was decoded from;
   * `keyHashes[i]`: keyHash(states[i].key), both optional. A state naming an event of this node
   * above our counter (we lost data and a peer remembers) moves the counter past it. A join this
   * node would not keep is written over (repair-write.ts) where `repairs` allows; a state that
   * still cannot be merged is skipped and reported, and never stops the others.
   */
  async mergeRemote (states: readonly PatternState[], encoded?: readonly Uint8Array[], keyHashes?: readonly Uint8Array[],
    source: RemoteSource = { origin: 'session' }): Promise<MergeResult> {
    if (keyHashes !== undefined && keyHashes.length !== states.length) throw new RangeError('one key hash per state')
    return await this.lock.run(async () => {
      // a caller that checked the key hashes already (gossip) hands them in: SHA-256 once per pattern
      const khs = keyHashes ?? states.map(s => keyHash(s.key))
      const index = this.store.index
      const same = sameAsStored(index, khs, encoded)
      // read only what the index says is stored, all in one go
      const unique = [...new Set(states.filter((_, n) => !same[n] && index.has(khs[n] as Uint8Array)).map(s => s.key))]
      const values = await this.store.getMany(unique)
      const stored = new Map(unique.map((k, i) => [k, values[i]]))
      const repairAs = this.hooks.repairs() ? this.author : undefined
      const { changed, kinds, skipped, counter, named, equivocations, doubleSigned, dropped, repaired } =
        mergeSet({ states, encoded, khs, same, index, nodeId: this.nodeId, counter: this.counterValue, stored, repairAs })
      const from = this.counterValue
      const counterMoved = counter > from
      if (changed.length > 0 || counterMoved) {
        // durable only when our own counter moves: lost remote merges come back from peers
        const seqs = await this.store.writePrepared(changed, counterMoved ? counter : undefined, { durable: counterMoved, change: source })
        if (counterMoved) this.counterValue = counter
        this.emit(changed, seqs, source)
      }
      return { changed, kinds, skipped, equivocations, doubleSigned, dropped, repaired, ...(named > from ? { counterRaised: { from, to: named } } : {}) }
    })
  }

  /** Whether this replica keeps the change feed. */
  get changeFeed (): boolean {
    return this.store.changeFeed
  }

  /** The seq of the newest change in the change feed (0: none yet). */
  get lastSeq (): number {
    return this.store.lastSeq
  }

  /** A page of the change feed after `since` (see LevelPatternStore.changes). */
  async changes (since: number, options?: ChangesOptions): Promise<ChangesPage> {
    return await this.store.changes(since, options)
  }

  /** Stored canonical bytes at a key hash (for gossip: no decode/encode round trip). */
  async getEncodedByKeyHash (hash: Uint8Array): Promise<Uint8Array | undefined> {
    return await this.store.getEncodedByKeyHash(hash)
  }

  /** Calls `listener` after each committed change, in commit order; returns an unsubscribe. */
  onChange (listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async getMeta (name: string): Promise<Uint8Array | undefined> {
    return await this.store.getMeta(name)
  }

  async putMeta (name: string, value: Uint8Array): Promise<void> {
    await this.store.putMeta(name, value)
  }

  async deleteMeta (name: string): Promise<void> {
    await this.store.deleteMeta(name)
  }

  async listMeta (prefix: string): Promise<MetaEntry[]> {
    return await this.store.listMeta(prefix)
  }

  /** Waits for the mutation in progress, then closes the store. */
  async close (): Promise<void> {
    await this.lock.run(async () => {
      this.listeners.clear()
      await this.store.close()
    })
  }

  /**
   * The writes that waited, in order, as one batch (under the lock): each its own event above
   * our counter and any dot of ours the states hold; one that is refused (or would not store)
   * fails alone and leaves its key as it was.
   */
  private async writeBatch (items: LocalWrite[]): Promise<Array<Outcome<EncodedPattern>>> {
    const { current, counter: from, khs } = await this.readForWrites(items)
    let counter = from
    const latest = new Map<string, PreparedState>()
    const refused = items.map((w): { err: unknown } | undefined => {
      try {
        const p = prepareState(w.make(current.get(w.key), counter + 1), khs.get(w.key))
        counter++
        current.set(w.key, p.state)
        latest.set(w.key, p)
        return undefined
      } catch (err) {
        return { err }
      }
    })
    if (latest.size > 0) await this.commit([...latest.values()], counter)
    return items.map((w, i) => refused[i] ?? { ok: latest.get(w.key)! })
  }

  /** The stored states of the writes' keys, and the counter their events start above (ours, and any dot of ours they hold). */
  private async readForWrites (items: ReadonlyArray<{ key: string }>): Promise<WriteBase> {
    const khs = new Map(items.map(i => [i.key, keyHash(i.key)]))
    // only what the index holds is read (a new key costs no lookup); the key hashes are kept for the index
    const keys = [...khs].filter(([, kh]) => this.store.index.has(kh)).map(([k]) => k)
    const stored = await this.store.getMany(keys)
    let counter = this.counterValue
    for (const s of stored) if (s !== undefined) counter = Math.max(counter, highestCounterOf(s, this.nodeId))
    return { current: new Map(keys.map((k, i) => [k, stored[i]])), counter, khs }
  }

  /** Stores local states (encoded and hashed once) with the counter they used. */
  private async commit (prepared: PreparedState[], counter: number): Promise<PreparedState[]> {
    const seqs = await this.store.writePrepared(prepared, counter)
    this.counterValue = counter
    this.emit(prepared, seqs, { origin: 'local' })
    return prepared
  }

  private emit (patterns: EncodedPattern[], seqs: number[], source: ChangeSource): void {
    if (patterns.length === 0) return
    const event: ChangeEvent = { origin: source.origin === 'local' ? 'local' : 'remote', source, patterns, seqs }
    for (const listener of [...this.listeners]) {
      try {
        listener(event)
      } catch (err) {
        this.hooks.onListenerError(err)
      }
    }
  }
}
