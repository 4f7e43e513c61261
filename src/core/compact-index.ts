/**
 * The Merkle index of a store, compact: the same fixed-shape tree and the same hashes as the
 * in-heap MerkleIndex (merkle.ts), with the leaves packed in pages of bytes (index-page.ts)
 * instead of an object per pattern. What it holds per pattern is the entry itself (and a page's
 * little room, pageCapacity), so a store of millions of patterns fits in memory, and a page's
 * entries are what the store persists and reloads (index-snapshot.ts). Hashes are recomputed
 * lazily, as in merkle.ts: a change marks its leaf and the path above it, and only those are
 * hashed again.
 */
import { compareBytes } from './bytes.js'
import { InvalidEncodingError } from './errors.js'
import {
  ENTRY_BYTES, HASH_LEN, LEAVES_PER_PAGE, entryDigest, entryKeyHash, hasDigest, insertEntries, leafHash, removeEntry, searchLeaf, unpackPage, writeEntry
} from './index-page.js'
import { InnerLevels, PAGE_DEPTH } from './index-levels.js'
import { MERKLE_DEPTH, MERKLE_FANOUT, childPrefixes, isValidPrefix, type LeafEntry, type NodeSummary, type Prefix } from './merkle.js'

export const LEAF_COUNT = MERKLE_FANOUT ** MERKLE_DEPTH
export const PAGE_COUNT = LEAF_COUNT / LEAVES_PER_PAGE

export function leafOf (kh: Uint8Array): number {
  return ((kh[0] as number) << 8) | (kh[1] as number)
}

function slotOf (prefix: Prefix): number {
  return prefix === '' ? 0 : parseInt(prefix, 16)
}

function checkPrefix (prefix: Prefix): void {
  if (!isValidPrefix(prefix)) throw new InvalidEncodingError(`merkle: invalid prefix ${JSON.stringify(prefix)}`)
}

export class CompactMerkleIndex {
  private readonly pages: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(PAGE_COUNT).fill(undefined)
  private readonly leafCounts = new Uint32Array(LEAF_COUNT)
  /** each leaf's hash as last computed, and whether it is stale: a batch rehashes only the leaves it changed */
  private readonly leafHashes = new Uint8Array(LEAF_COUNT * HASH_LEN)
  private readonly leafDirty = new Uint8Array(LEAF_COUNT)
  /** the nodes above the leaves, down to the pages */
  private readonly inner = new InnerLevels(page => {
    this.refreshLeaves(page)
    return this.leafHashes.subarray(page * LEAVES_PER_PAGE * HASH_LEN, (page + 1) * LEAVES_PER_PAGE * HASH_LEN)
  })

  /** pages changed since takeChangedPages() last ran: what a persisted copy must rewrite */
  private readonly changed = new Uint8Array(PAGE_COUNT)
  private total = 0

  get size (): number {
    return this.total
  }

  /** First entry of a leaf within its page. */
  private leafStart (leaf: number): number {
    let at = 0
    for (let l = leaf & ~(LEAVES_PER_PAGE - 1); l < leaf; l++) at += this.leafCounts[l] as number
    return at
  }

  private find (kh: Uint8Array): { leaf: number, page: number, at: number, start: number } {
    const leaf = leafOf(kh)
    const page = leaf >> 4
    const start = this.leafStart(leaf)
    return { leaf, page, start, at: searchLeaf(this.pages[page], start, start + (this.leafCounts[leaf] as number), kh) }
  }

  /** Sets (or replaces) the digest stored for a key hash. */
  set (kh: Uint8Array, digest: Uint8Array): void {
    this.setMany([{ kh, digest }])
  }

  /**
   * Sets many digests at once (the last one wins for a key hash named twice): each page they touch
   * is rebuilt once, however many of them land in it, so a bulk load or import costs a pass over
   * the pages rather than a copy of a page per pattern.
   */
  setMany (items: ReadonlyArray<{ kh: Uint8Array, digest: Uint8Array }>): void {
    for (const { kh, digest } of items) {
      if (kh.length !== HASH_LEN || digest.length !== HASH_LEN) throw new InvalidEncodingError('merkle: key hash and digest must be 32 bytes')
    }
    // bucketed by page (no sort of the whole batch), each bucket in the items' order
    const byPage = new Map<number, Array<{ kh: Uint8Array, digest: Uint8Array, i: number }>>()
    items.forEach(({ kh, digest }, i) => {
      const page = leafOf(kh) >> 4
      const bucket = byPage.get(page)
      if (bucket === undefined) byPage.set(page, [{ kh, digest, i }])
      else bucket.push({ kh, digest, i })
    })
    for (const [page, bucket] of byPage) {
      // in key-hash order; of a key hash named twice, the last one (a stable sort keeps their order)
      bucket.sort((a, b) => compareBytes(a.kh, b.kh) || a.i - b.i)
      this.setInPage(page, bucket.filter((it, i) => i + 1 === bucket.length || compareBytes(it.kh, (bucket[i + 1] as { kh: Uint8Array }).kh) !== 0))
    }
  }

  private setInPage (page: number, items: ReadonlyArray<{ kh: Uint8Array, digest: Uint8Array }>): void {
    const inserts: Array<{ pos: number, leaf: number, kh: Uint8Array, digest: Uint8Array }> = []
    for (const { kh, digest } of items) {
      const { leaf, at } = this.find(kh)
      const bytes = this.pages[page]
      if (at < 0 || bytes === undefined) inserts.push({ pos: -1 - at, leaf, kh, digest })
      else if (!hasDigest(bytes, at, digest)) {
        writeEntry(bytes, at, kh, digest)
        this.touch(leaf, 0)
      }
    }
    if (inserts.length === 0) return
    this.pages[page] = insertEntries(this.pages[page], this.inner.count(PAGE_DEPTH, page), inserts)
    for (const ins of inserts) this.touch(ins.leaf, 1)
  }

  delete (kh: Uint8Array): boolean {
    if (kh.length !== HASH_LEN) return false
    const { leaf, page, at } = this.find(kh)
    const bytes = this.pages[page]
    if (at < 0 || bytes === undefined) return false
    this.pages[page] = removeEntry(bytes, this.inner.count(PAGE_DEPTH, page), at)
    this.touch(leaf, -1)
    return true
  }

  /** Whether a digest is held for a key hash (found in place: nothing is copied). */
  has (kh: Uint8Array): boolean {
    if (kh.length !== HASH_LEN) return false
    const { page, at } = this.find(kh)
    return at >= 0 && this.pages[page] !== undefined
  }

  /** Whether exactly `digest` is held for a key hash (compared in place: nothing is copied). */
  holds (kh: Uint8Array, digest: Uint8Array): boolean {
    if (kh.length !== HASH_LEN || digest.length !== HASH_LEN) return false
    const { page, at } = this.find(kh)
    const bytes = this.pages[page]
    return at >= 0 && bytes !== undefined && hasDigest(bytes, at, digest)
  }

  /** A copy of the digest held for a key hash. */
  get (kh: Uint8Array): Uint8Array | undefined {
    if (kh.length !== HASH_LEN) return undefined
    const { page, at } = this.find(kh)
    const bytes = this.pages[page]
    return at < 0 || bytes === undefined ? undefined : entryDigest(bytes, at)
  }

  /** The pages changed since the last call (or since the index was made), in order; clears the marks. */
  takeChangedPages (): number[] {
    const out: number[] = []
    this.changed.forEach((c, p) => { if (c === 1) out.push(p) })
    this.changed.fill(0)
    return out
  }

  private touch (leaf: number, delta: number): void {
    this.changed[leaf >> 4] = 1
    this.leafDirty[leaf] = 1
    this.total += delta
    this.leafCounts[leaf] = (this.leafCounts[leaf] as number) + delta
    this.inner.touch(leaf >> 4, delta)
  }

  /**
   * Brings the cached hashes of a page's 16 leaves up to date: only the leaves that changed are
   * hashed again, and an empty leaf's hash is EMPTY_HASH (zeros), as it is in the tree.
   */
  private refreshLeaves (page: number): void {
    const bytes = this.pages[page]
    let at = 0
    for (let leaf = page * LEAVES_PER_PAGE; leaf < (page + 1) * LEAVES_PER_PAGE; leaf++) {
      const count = this.leafCounts[leaf] as number
      if (this.leafDirty[leaf] === 1) {
        if (count === 0 || bytes === undefined) this.leafHashes.fill(0, leaf * HASH_LEN, (leaf + 1) * HASH_LEN)
        else this.leafHashes.set(leafHash(bytes, at, count, leaf), leaf * HASH_LEN)
        this.leafDirty[leaf] = 0
      }
      at += count
    }
  }

  /** The 16 leaves of a page, in order. */
  private pageLeaves (page: number): NodeSummary[] {
    this.refreshLeaves(page)
    return Array.from({ length: LEAVES_PER_PAGE }, (_, i) => this.cachedLeaf(page * LEAVES_PER_PAGE + i))
  }

  /** A leaf's hash and count as cached (its page's leaves refreshed first). */
  private cachedLeaf (leaf: number): NodeSummary {
    return { hash: this.leafHashes.slice(leaf * HASH_LEN, (leaf + 1) * HASH_LEN), count: this.leafCounts[leaf] as number }
  }

  root (): Uint8Array {
    return this.inner.hash(0, 0)
  }

  /** Hash and pattern count of the subtree at `prefix`. */
  node (prefix: Prefix): NodeSummary {
    checkPrefix(prefix)
    if (prefix.length === MERKLE_DEPTH) {
      const leaf = slotOf(prefix)
      this.refreshLeaves(leaf >> 4)
      return this.cachedLeaf(leaf)
    }
    const slot = slotOf(prefix)
    return { hash: this.inner.hash(prefix.length, slot), count: this.inner.count(prefix.length, slot) }
  }

  /** Hashes and counts of the 16 children of an inner prefix, in nibble order. */
  children (prefix: Prefix): NodeSummary[] {
    checkPrefix(prefix)
    if (prefix.length >= MERKLE_DEPTH) throw new InvalidEncodingError(`merkle: prefix ${JSON.stringify(prefix)} has no children`)
    if (prefix.length === PAGE_DEPTH) return this.pageLeaves(slotOf(prefix))
    return childPrefixes(prefix).map(p => this.node(p))
  }

  /** The (keyHash, digest) entries under a prefix in key-hash order, made as they are read. */
  * iterate (prefix: Prefix = ''): Generator<LeafEntry> {
    checkPrefix(prefix)
    const shift = (MERKLE_DEPTH - prefix.length) * 4
    const firstLeaf = slotOf(prefix) << shift
    const lastLeaf = firstLeaf + (1 << shift) - 1
    for (let page = firstLeaf >> 4; page <= lastLeaf >> 4; page++) {
      const bytes = this.pages[page]
      if (bytes === undefined) continue
      let at = 0
      for (let leaf = page * LEAVES_PER_PAGE; leaf < (page + 1) * LEAVES_PER_PAGE; leaf++) {
        const count = this.leafCounts[leaf] as number
        if (leaf >= firstLeaf && leaf <= lastLeaf) {
          for (let e = at; e < at + count; e++) yield { keyHash: entryKeyHash(bytes, e, leaf), digest: entryDigest(bytes, e) }
        }
        at += count
      }
    }
  }

  /** All entries under a prefix, sorted by key hash (a listing: meant for small subtrees). */
  entries (prefix: Prefix = ''): LeafEntry[] {
    return [...this.iterate(prefix)]
  }

  /** Key hashes under a prefix, made as they are read (a full pull never holds them all). */
  * keyHashes (prefix: Prefix = ''): Generator<Uint8Array> {
    for (const e of this.iterate(prefix)) yield e.keyHash
  }

  /** A page as persisted: its 16 leaf counts (4 bytes each, big-endian), then its entries. */
  exportPage (page: number): Uint8Array | undefined {
    const bytes = this.pages[page]
    if (bytes === undefined) return undefined
    // the page may have room beyond its entries (pageCapacity): only the entries are persisted
    const used = this.inner.count(PAGE_DEPTH, page) * ENTRY_BYTES
    const out = new Uint8Array(LEAVES_PER_PAGE * 4 + used)
    const view = new DataView(out.buffer)
    for (let i = 0; i < LEAVES_PER_PAGE; i++) view.setUint32(i * 4, this.leafCounts[page * LEAVES_PER_PAGE + i] as number)
    out.set(bytes.subarray(0, used), LEAVES_PER_PAGE * 4)
    return out
  }

  /**
   * Replaces a page with persisted bytes (exportPage's form; undefined: empty); a damaged page is
   * refused with InvalidEncodingError and changes nothing (unpackPage).
   */
  importPage (page: number, persisted: Uint8Array | undefined): void {
    if (!Number.isInteger(page) || page < 0 || page >= PAGE_COUNT) throw new InvalidEncodingError(`merkle: no page ${page}`)
    const { counts, entries } = unpackPage(page, persisted)
    for (let i = 0; i < LEAVES_PER_PAGE; i++) {
      const leaf = page * LEAVES_PER_PAGE + i
      this.touch(leaf, (counts[i] as number) - (this.leafCounts[leaf] as number))
    }
    this.pages[page] = entries
  }
}
