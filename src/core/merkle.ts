/**
 * Merkle index over patterns, keyed by the SHA-256 of the pattern key (never by
 * position, so an insert moves nothing else).
 *
 * Shape: a trie of fixed fanout 16 (one hex nibble of the key hash per level) and fixed
 * depth MERKLE_DEPTH. The shape depends on nothing but these two constants, so two
 * peers with the same protocol version always agree on it, whatever they hold. Depth 4
 * gives 65,536 leaves: ~15 patterns per leaf at 1M patterns, mostly 0-1 at 10k, which
 * keeps leaf listings small while a full path is only 5 hashes to recompute.
 *
 * Node hash: empty subtree = 32 zero bytes; leaf = sha256(0x00 || sorted (keyHash||digest));
 * inner = sha256(0x01 || the 16 child hashes). Every node also carries its pattern count
 * so a reconciler may ask for a small subtree's listing instead of descending.
 * Hashes are recomputed lazily: an update marks its root-to-leaf path dirty (O(depth)).
 * Nodes are addressed by number (leaf = the first MERKLE_DEPTH nibbles of the key hash).
 */
import { compareBytes } from './bytes.js'
import { sha256 } from './encoding.js'
import { InvalidEncodingError } from './errors.js'

export const MERKLE_FANOUT = 16
export const MERKLE_DEPTH = 4
export const HASH_BYTES = 32
export const EMPTY_HASH = new Uint8Array(HASH_BYTES)

/** A prefix of a key hash in hex nibbles: '' is the root, MERKLE_DEPTH nibbles is a leaf. */
export type Prefix = string

export interface NodeSummary {
  hash: Uint8Array
  count: number
}

export interface LeafEntry {
  keyHash: Uint8Array
  digest: Uint8Array
}

const HEX = '0123456789abcdef'

export function toHex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

export function isValidPrefix (p: string): boolean {
  return p.length <= MERKLE_DEPTH && /^[0-9a-f]*$/.test(p)
}

export function childPrefixes (p: Prefix): Prefix[] {
  return [...HEX].map(c => p + c)
}

/** The first MERKLE_DEPTH nibbles of a key hash as a number: its leaf. */
function leafOf (keyHash: Uint8Array): number {
  let n = 0
  for (let i = 0; i < MERKLE_DEPTH; i++) n = n * MERKLE_FANOUT + (((keyHash[i >> 1] as number) >> ((i & 1) === 0 ? 4 : 0)) & 0xf)
  return n
}

/** A prefix's position among the nodes of its level (a valid prefix). */
function slotOf (prefix: Prefix): number {
  return prefix === '' ? 0 : parseInt(prefix, 16)
}

/** Byte order of two key hashes; inline, as Buffer.compare's native call costs more on 32 bytes that differ early. */
function compareHash (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < HASH_BYTES; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return 0
}

/** Where `keyHash` is (>= 0) or would go (-1 - position) in a sorted leaf. */
function search (entries: readonly LeafEntry[], keyHash: Uint8Array): number {
  let lo = 0
  let hi = entries.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const c = compareHash((entries[mid] as LeafEntry).keyHash, keyHash)
    if (c === 0) return mid
    if (c < 0) lo = mid + 1
    else hi = mid - 1
  }
  return -1 - lo
}

interface Leaf {
  /** sorted by key hash, so a leaf hash needs no sort and listings come out in order */
  entries: LeafEntry[]
  hash: Uint8Array
  dirty: boolean
}

/** One level of inner nodes, addressed by number: no per-node objects or string keys. */
interface Level {
  counts: Uint32Array
  hashes: Uint8Array[]
  dirty: Uint8Array
}

export class MerkleIndex {
  /** leaf number -> its entries; a Map, not a 65,536-slot array, so an index costs memory by what it holds (a simulation keeps 10,000 of them) */
  private readonly leaves = new Map<number, Leaf>()
  /** levels[d]: the MERKLE_FANOUT ** d inner nodes at depth d */
  private readonly levels: Level[] = Array.from({ length: MERKLE_DEPTH }, (_, d) => {
    const n = MERKLE_FANOUT ** d
    return { counts: new Uint32Array(n), hashes: new Array<Uint8Array>(n).fill(EMPTY_HASH), dirty: new Uint8Array(n) }
  })

  private total = 0

  get size (): number {
    return this.total
  }

  /** Sets (or replaces) the digest stored for a key hash. */
  set (keyHash: Uint8Array, digest: Uint8Array): void {
    if (keyHash.length !== HASH_BYTES || digest.length !== HASH_BYTES) throw new InvalidEncodingError('merkle: key hash and digest must be 32 bytes')
    const li = leafOf(keyHash)
    let leaf = this.leaves.get(li)
    if (leaf === undefined) {
      leaf = { entries: [], hash: EMPTY_HASH, dirty: true }
      this.leaves.set(li, leaf)
    }
    const at = search(leaf.entries, keyHash)
    if (at >= 0) {
      const old = leaf.entries[at] as LeafEntry
      if (compareBytes(old.digest, digest) === 0) return
      leaf.entries[at] = { keyHash: old.keyHash, digest: digest.slice() }
    } else {
      leaf.entries.splice(-1 - at, 0, { keyHash: keyHash.slice(), digest: digest.slice() })
    }
    leaf.dirty = true
    this.touchPath(li, at >= 0 ? 0 : 1)
  }

  delete (keyHash: Uint8Array): boolean {
    if (keyHash.length !== HASH_BYTES) return false
    const li = leafOf(keyHash)
    const leaf = this.leaves.get(li)
    const at = leaf === undefined ? -1 : search(leaf.entries, keyHash)
    if (leaf === undefined || at < 0) return false
    leaf.entries.splice(at, 1)
    leaf.dirty = true
    if (leaf.entries.length === 0) this.leaves.delete(li)
    this.touchPath(li, -1)
    return true
  }

  has (keyHash: Uint8Array): boolean { return this.get(keyHash) !== undefined }

  get (keyHash: Uint8Array): Uint8Array | undefined {
    if (keyHash.length !== HASH_BYTES) return undefined
    const leaf = this.leaves.get(leafOf(keyHash))
    if (leaf === undefined) return undefined
    const at = search(leaf.entries, keyHash)
    return at < 0 ? undefined : (leaf.entries[at] as LeafEntry).digest
  }

  private touchPath (leaf: number, delta: number): void {
    this.total += delta
    for (let d = MERKLE_DEPTH - 1; d >= 0; d--) {
      const level = this.levels[d] as Level
      const slot = Math.floor(leaf / MERKLE_FANOUT ** (MERKLE_DEPTH - d))
      level.counts[slot] = (level.counts[slot] as number) + delta
      level.dirty[slot] = 1
    }
  }

  /** Hash and pattern count of the subtree at `prefix`. */
  node (prefix: Prefix): NodeSummary {
    if (!isValidPrefix(prefix)) throw new InvalidEncodingError(`merkle: invalid prefix ${JSON.stringify(prefix)}`)
    return this.summary(prefix.length, slotOf(prefix))
  }

  private summary (depth: number, slot: number): NodeSummary {
    if (depth === MERKLE_DEPTH) return { hash: this.hashAt(depth, slot), count: this.leaves.get(slot)?.entries.length ?? 0 }
    return { hash: this.hashAt(depth, slot), count: (this.levels[depth] as Level).counts[slot] as number }
  }

  /** The node's hash, recomputing what is dirty below it (one buffer and one-shot hash per node). */
  private hashAt (depth: number, slot: number): Uint8Array {
    if (depth === MERKLE_DEPTH) {
      const leaf = this.leaves.get(slot)
      if (leaf === undefined) return EMPTY_HASH
      if (leaf.dirty) {
        const buf = new Uint8Array(1 + leaf.entries.length * 2 * HASH_BYTES) // leaf tag 0
        leaf.entries.forEach((e, i) => {
          buf.set(e.keyHash, 1 + i * 2 * HASH_BYTES)
          buf.set(e.digest, 1 + (i * 2 + 1) * HASH_BYTES)
        })
        leaf.hash = sha256(buf)
        leaf.dirty = false
      }
      return leaf.hash
    }
    const level = this.levels[depth] as Level
    if (level.counts[slot] === 0) return EMPTY_HASH
    if (level.dirty[slot] === 1) {
      const buf = new Uint8Array(1 + MERKLE_FANOUT * HASH_BYTES)
      buf[0] = 1 // inner tag
      for (let i = 0; i < MERKLE_FANOUT; i++) buf.set(this.hashAt(depth + 1, slot * MERKLE_FANOUT + i), 1 + i * HASH_BYTES)
      level.hashes[slot] = sha256(buf)
      level.dirty[slot] = 0
    }
    return level.hashes[slot] as Uint8Array
  }

  root (): Uint8Array {
    return this.hashAt(0, 0)
  }

  /** Hashes and counts of the 16 children of an inner prefix, in nibble order. */
  children (prefix: Prefix): NodeSummary[] {
    if (!isValidPrefix(prefix) || prefix.length >= MERKLE_DEPTH) throw new InvalidEncodingError(`merkle: prefix ${JSON.stringify(prefix)} has no children`)
    const first = slotOf(prefix) * MERKLE_FANOUT
    return Array.from({ length: MERKLE_FANOUT }, (_, i) => this.summary(prefix.length + 1, first + i))
  }

  /** All (keyHash, digest) entries under a prefix, sorted by key hash. */
  entries (prefix: Prefix = ''): LeafEntry[] {
    if (!isValidPrefix(prefix)) throw new InvalidEncodingError(`merkle: invalid prefix ${JSON.stringify(prefix)}`)
    // down the tree in nibble order (key hash order), only into subtrees that hold something:
    // the cost follows what is there, not the 16^depth leaf slots under the prefix
    const out: LeafEntry[] = []
    const walk = (depth: number, slot: number): void => {
      if (depth === MERKLE_DEPTH) {
        const leaf = this.leaves.get(slot)
        if (leaf !== undefined) for (const e of leaf.entries) out.push(e)
        return
      }
      if ((this.levels[depth] as Level).counts[slot] === 0) return
      for (let i = 0; i < MERKLE_FANOUT; i++) walk(depth + 1, slot * MERKLE_FANOUT + i)
    }
    walk(prefix.length, slotOf(prefix))
    return out
  }

  * keyHashes (prefix: Prefix = ''): Generator<Uint8Array> {
    for (const e of this.entries(prefix)) yield e.keyHash
  }
}

/**
 * Key hashes whose digests differ between two indexes (present on one side only, or
 * with different digests), found by descending only into subtrees whose hashes differ.
 */
/** What a diff reads of an index (the in-heap one here, or the compact one a store keeps). */
export interface DiffableIndex {
  node(prefix: Prefix): NodeSummary
  entries(prefix: Prefix): LeafEntry[]
}

export function diffIndexes (a: DiffableIndex, b: DiffableIndex): Uint8Array[] {
  const out: Uint8Array[] = []
  const walk = (prefix: Prefix): void => {
    const na = a.node(prefix)
    const nb = b.node(prefix)
    if (compareBytes(na.hash, nb.hash) === 0) return
    if (prefix.length < MERKLE_DEPTH) {
      for (const c of childPrefixes(prefix)) walk(c)
      return
    }
    out.push(...diffListings(a.entries(prefix), b.entries(prefix)))
  }
  walk('')
  return out.sort(compareBytes)
}

/**
 * Walks two listings sorted by key hash in step: `onlyA`/`onlyB` for a key hash on one
 * side, `both` for one on both sides.
 */
export function walkListings<T extends { keyHash: Uint8Array }> (a: readonly T[], b: readonly T[],
  onlyA: (x: T) => void, onlyB: (y: T) => void, both: (x: T, y: T) => void): void {
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    const x = a[i]
    const y = b[j]
    if (y === undefined || (x !== undefined && compareBytes(x.keyHash, y.keyHash) < 0)) {
      onlyA(x as T); i++
    } else if (x === undefined || compareBytes(x.keyHash, y.keyHash) > 0) {
      onlyB(y); j++
    } else {
      both(x, y)
      i++; j++
    }
  }
}

/** Key hashes that differ between two sorted leaf listings. */
export function diffListings (a: readonly LeafEntry[], b: readonly LeafEntry[]): Uint8Array[] {
  const out: Uint8Array[] = []
  walkListings(a, b, x => out.push(x.keyHash), y => out.push(y.keyHash), (x, y) => {
    if (compareBytes(x.digest, y.digest) !== 0) out.push(x.keyHash)
  })
  return out
}
