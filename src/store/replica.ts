/**
 * Replica: this node's copy of the patterns = the store + the core CRDT + the node's
 * own event counter. Every mutation is read-merge-write under one mutex, and persists
 * its states together with the counter it used in one store batch, so a restart (or a
 * crash) can never hand out a counter twice.
 */
import type { EncodedPattern } from '../core/encoded-pattern.js'
import type { Equivocation } from '../core/equivocation.js'
import { keyHash } from '../core/encoding.js'
import { InvalidPatternError } from '../core/errors.js'
import { MAX_NODE_ID_BYTES } from '../core/limits.js'
import type { MergeKind } from '../core/merge.js'
import type { MerkleIndex } from '../core/merkle.js'
import { applyDelete, applyWrite, type Author, highestCounterOf, isDeleted, type PatternState, type WriteOp } from '../core/pattern.js'
import type { NodeId } from '../core/vector-clock.js'
import { PatternNotFoundError } from './errors.js'
import {
  type ListOptions, LevelPatternStore, prepareState, type PreparedState, type MetaEntry, type OpenReport, type StoreOptions
} from './level-store.js'
import { type DroppedWriters, mergeSet, sameAsStored, type SkippedState } from './merge-set.js'
import { Mutex } from './mutex.js'

export type ChangeOrigin = 'local' | 'remote'

export interface ChangeEvent {
  origin: ChangeOrigin
  /** the new states as committed, with the bytes and hashes the store wrote */
  patterns: readonly EncodedPattern[]
}

export type ChangeListener = (event: ChangeEvent) => void

export interface MergeResult {
  /** states that changed what is stored, as now stored (with their stored bytes and hashes) */
  changed: EncodedPattern[]
  /** states left out, each with why; the rest of the set was merged */
  skipped: SkippedState[]
  /** writes received with another content than the one held here for the same dot (the join resolved them) */
  equivocations: Equivocation[]
  /** set when a state named events of this node above its counter (lost writes, or a restored backup): the counter moved past them */
  counterRaised?: { from: number, to: number }
  /** how each incoming state related to the local one */
  kinds: Record<MergeKind, number>
  /** keys whose merge left writers out by the writer rule (a key keeps at most MAX_CLOCK_ENTRIES writers) */
  dropped: DroppedWriters[]
}

export interface ReplicaOptions extends StoreOptions {
  dir: string
  /** this node as a writer: the node id its dots name and the key that signs its writes */
  author: Author
  /** gets errors thrown by change listeners; by default they are rethrown asynchronously */
  onListenerError?: (err: unknown) => void
}

const SCAN_PAGE = 1000

function rethrowLater (err: unknown): void {
  queueMicrotask(() => { throw err })
}

export class Replica {
  private readonly lock = new Mutex()
  private readonly listeners = new Set<ChangeListener>()

  readonly nodeId: NodeId

  private constructor (
    private readonly author: Author,
    private readonly store: LevelPatternStore,
    private counterValue: number,
    private readonly onListenerError: (err: unknown) => void
  ) {
    this.nodeId = author.node
  }

  static async open (options: ReplicaOptions): Promise<Replica> {
    const { dir, author } = options
    const nodeId = author?.node
    if (typeof nodeId !== 'string' || nodeId.length === 0 || Buffer.byteLength(nodeId) > MAX_NODE_ID_BYTES) {
      throw new InvalidPatternError(`node id must be a non-empty string of at most ${MAX_NODE_ID_BYTES} bytes`)
    }
    const store = await LevelPatternStore.open(dir, options.sync === undefined ? {} : { sync: options.sync })
    try {
      let counter = store.counter
      if (counter === undefined) {
        // the stored counter is gone: our own dots in stored clocks are the best lower bound
        counter = await highestOwnCounter(store, nodeId)
        await store.writeBatch([], counter)
      }
      return new Replica(author, store, counter, options.onListenerError ?? rethrowLater)
    } catch (err) {
      await store.close()
      throw err
    }
  }

  /** The highest event counter this node has used (or seen named after it). */
  get counter (): number {
    return this.counterValue
  }

  get openReport (): OpenReport {
    return this.store.openReport
  }

  get count (): number {
    return this.store.count
  }

  /** Live Merkle index of the stored patterns; read-only for callers. */
  get index (): MerkleIndex {
    return this.store.index
  }

  root (): Uint8Array {
    return this.store.root()
  }

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

  /** A local create or update; the new state comes back with the bytes the store wrote. */
  async write (key: string, op: WriteOp): Promise<EncodedPattern> {
    return await this.lock.run(async () => {
      const current = await this.store.get(key)
      const counter = this.nextCounter(current)
      const [stored] = await this.commit([applyWrite(current, key, op, this.author, counter)], counter)
      return stored as EncodedPattern
    })
  }

  /**
   * Several local writes as one atomic batch (bulk import): either all of them are
   * applied and stored, or, if any is invalid, none is. Each write is its own event.
   */
  async writeMany (items: ReadonlyArray<{ key: string, op: WriteOp }>): Promise<EncodedPattern[]> {
    return await this.lock.run(async () => {
      const keys = [...new Set(items.map(i => i.key))]
      const stored = await this.store.getMany(keys)
      const current = new Map(keys.map((k, i) => [k, stored[i]]))
      let counter = this.counterValue
      for (const s of current.values()) if (s !== undefined) counter = Math.max(counter, highestCounterOf(s, this.nodeId))
      for (const { key, op } of items) current.set(key, applyWrite(current.get(key), key, op, this.author, ++counter))
      const states = keys.map(k => current.get(k) as PatternState)
      return states.length > 0 ? await this.commit(states, counter) : []
    })
  }

  /** A local delete; the pattern must exist and not be deleted already. */
  async delete (key: string): Promise<EncodedPattern> {
    return await this.lock.run(async () => {
      const current = await this.store.get(key)
      if (current === undefined || isDeleted(current)) throw new PatternNotFoundError(key)
      const counter = this.nextCounter(current)
      const [stored] = await this.commit([applyDelete(current, this.author, counter)], counter)
      return stored as EncodedPattern
    })
  }

  /**
   * Merges a set of remote states and persists every changed one in one batch. States
   * that change nothing are not rewritten. `encoded[i]`: the bytes states[i] was decoded
   * from; `keyHashes[i]`: keyHash(states[i].key), both optional. If a state names an event of this node newer
   * than our counter (we lost data and a peer remembers), the counter jumps past it.
   * One state that cannot be merged (its merge breaks a limit or would not decode) is skipped
   * and reported; it never stops the others.
   */
  async mergeRemote (states: readonly PatternState[], encoded?: readonly Uint8Array[], keyHashes?: readonly Uint8Array[]): Promise<MergeResult> {
    if (keyHashes !== undefined && keyHashes.length !== states.length) throw new RangeError('one key hash per state')
    return await this.lock.run(async () => {
      // a caller that checked the key hashes already (gossip) hands them in: SHA-256 once per pattern
      const khs = keyHashes ?? states.map(s => keyHash(s.key))
      const index = this.store.index
      const same = sameAsStored(index, khs, encoded)
      // read only what the index says is stored, all in one go
      const unique = [...new Set(states.filter((_, n) => !same[n] && index.get(khs[n] as Uint8Array) !== undefined).map(s => s.key))]
      const values = await this.store.getMany(unique)
      const { changed, kinds, skipped, counter, equivocations, dropped } = mergeSet({
        states, encoded, khs, same, index, nodeId: this.nodeId, counter: this.counterValue, stored: new Map(unique.map((k, i) => [k, values[i]]))
      })
      const from = this.counterValue
      const counterMoved = counter > from
      if (changed.length > 0 || counterMoved) {
        // durable only when our own counter moves: lost remote merges come back from peers
        await this.store.writePrepared(changed, counterMoved ? counter : undefined, { durable: counterMoved })
        if (counterMoved) this.counterValue = counter
        this.emit(changed, 'remote')
      }
      return { changed, kinds, skipped, equivocations, dropped, ...(counterMoved ? { counterRaised: { from, to: counter } } : {}) }
    })
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

  /** Above our counter and above any dot of ours the current state holds. */
  private nextCounter (current: PatternState | undefined): number {
    return Math.max(this.counterValue, current === undefined ? 0 : highestCounterOf(current, this.nodeId)) + 1
  }

  /** Stores local states with the counter they used; each is encoded and hashed here, once. */
  private async commit (states: PatternState[], counter: number): Promise<PreparedState[]> {
    const prepared = states.map(s => prepareState(s))
    await this.store.writePrepared(prepared, counter)
    this.counterValue = counter
    this.emit(prepared, 'local')
    return prepared
  }

  private emit (patterns: EncodedPattern[], origin: ChangeOrigin): void {
    if (patterns.length === 0) return
    const event: ChangeEvent = { origin, patterns }
    for (const listener of [...this.listeners]) {
      try {
        listener(event)
      } catch (err) {
        this.onListenerError(err)
      }
    }
  }
}

async function highestOwnCounter (store: LevelPatternStore, nodeId: NodeId): Promise<number> {
  let highest = 0
  let after: string | undefined
  for (;;) {
    const page = await store.list(after === undefined ? { limit: SCAN_PAGE } : { after, limit: SCAN_PAGE })
    for (const s of page) highest = Math.max(highest, highestCounterOf(s, nodeId))
    const last = page[page.length - 1]
    if (last === undefined || page.length < SCAN_PAGE) return highest
    after = last.key
  }
}
