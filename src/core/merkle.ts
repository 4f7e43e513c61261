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

const LEAF_TAG = new Uint8Array([0])
const HEX = '0123456789abcdef'
const HEX_DIGITS = [...HEX]

export function toHex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

export function fromHex (s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'))
}

export function isValidPrefix (p: string): boolean {
  return p.length <= MERKLE_DEPTH && /^[0-9a-f]*$/.test(p)
}

export function childPrefixes (p: Prefix): Prefix[] {
  return [...HEX].map(c => p + c)
}

interface Inner {
  hash: Uint8Array
  count: number
  dirty: boolean
}

interface Leaf {
  entries: Map<string, LeafEntry> // keyHash hex -> entry
  hash: Uint8Array
  dirty: boolean
}

export class MerkleIndex {
  private readonly leaves = new Map<Prefix, Leaf>()
  private readonly inners = new Map<Prefix, Inner>()
  private total = 0

  get size (): number {
    return this.total
  }

  /** Sets (or replaces) the digest stored for a key hash. */
  set (keyHash: Uint8Array, digest: Uint8Array): void {
    if (keyHash.length !== HASH_BYTES || digest.length !== HASH_BYTES) throw new InvalidEncodingError('merkle: key hash and digest must be 32 bytes')
    const hex = toHex(keyHash)
    const leafPrefix = hex.slice(0, MERKLE_DEPTH)
    let leaf = this.leaves.get(leafPrefix)
    if (leaf === undefined) {
      leaf = { entries: new Map(), hash: EMPTY_HASH, dirty: true }
      this.leaves.set(leafPrefix, leaf)
    }
    const old = leaf.entries.get(hex)
    if (old !== undefined && compareBytes(old.digest, digest) === 0) return
    leaf.entries.set(hex, { keyHash: keyHash.slice(), digest: digest.slice() })
    leaf.dirty = true
    this.touchPath(leafPrefix, old === undefined ? 1 : 0)
  }

  delete (keyHash: Uint8Array): boolean {
    const hex = toHex(keyHash)
    const leafPrefix = hex.slice(0, MERKLE_DEPTH)
    const leaf = this.leaves.get(leafPrefix)
    if (leaf?.entries.delete(hex) !== true) return false
    leaf.dirty = true
    if (leaf.entries.size === 0) this.leaves.delete(leafPrefix)
    this.touchPath(leafPrefix, -1)
    return true
  }

  get (keyHash: Uint8Array): Uint8Array | undefined {
    const hex = toHex(keyHash)
    return this.leaves.get(hex.slice(0, MERKLE_DEPTH))?.entries.get(hex)?.digest
  }

  private touchPath (leafPrefix: Prefix, delta: number): void {
    this.total += delta
    for (let d = MERKLE_DEPTH - 1; d >= 0; d--) {
      const p = leafPrefix.slice(0, d)
      let inner = this.inners.get(p)
      if (inner === undefined) {
        inner = { hash: EMPTY_HASH, count: 0, dirty: true }
        this.inners.set(p, inner)
      }
      inner.count += delta
      inner.dirty = true
      if (inner.count === 0 && p !== '') this.inners.delete(p)
    }
  }

  /** Hash and pattern count of the subtree at `prefix`. */
  node (prefix: Prefix): NodeSummary {
    if (!isValidPrefix(prefix)) throw new InvalidEncodingError(`merkle: invalid prefix ${JSON.stringify(prefix)}`)
    return this.summary(prefix)
  }

  /** node() without validation, for our own recursion (hot path) */
  private summary (prefix: Prefix): NodeSummary {
    if (prefix.length === MERKLE_DEPTH) {
      const leaf = this.leaves.get(prefix)
      if (leaf === undefined) return { hash: EMPTY_HASH, count: 0 }
      if (leaf.dirty) {
        const sorted = [...leaf.entries.keys()].sort()
        const parts: Uint8Array[] = [LEAF_TAG]
        for (const k of sorted) {
          const e = leaf.entries.get(k) as LeafEntry
          parts.push(e.keyHash, e.digest)
        }
        leaf.hash = sha256(...parts)
        leaf.dirty = false
      }
      return { hash: leaf.hash, count: leaf.entries.size }
    }
    const inner = this.inners.get(prefix)
    if (inner === undefined || inner.count === 0) return { hash: EMPTY_HASH, count: 0 }
    if (inner.dirty) {
      const buf = new Uint8Array(1 + MERKLE_FANOUT * HASH_BYTES)
      buf[0] = 1 // inner tag
      for (let i = 0; i < MERKLE_FANOUT; i++) buf.set(this.summary(prefix + HEX_DIGITS[i]).hash, 1 + i * HASH_BYTES)
      inner.hash = sha256(buf)
      inner.dirty = false
    }
    return { hash: inner.hash, count: inner.count }
  }

  root (): Uint8Array {
    return this.node('').hash
  }

  /** Hashes and counts of the 16 children of an inner prefix, in nibble order. */
  children (prefix: Prefix): NodeSummary[] {
    if (prefix.length >= MERKLE_DEPTH) throw new InvalidEncodingError(`merkle: prefix ${JSON.stringify(prefix)} has no children`)
    return childPrefixes(prefix).map(c => this.summary(c))
  }

  /** All (keyHash, digest) entries under a prefix, sorted by key hash. */
  entries (prefix: Prefix = ''): LeafEntry[] {
    if (!isValidPrefix(prefix)) throw new InvalidEncodingError(`merkle: invalid prefix ${JSON.stringify(prefix)}`)
    if (prefix.length === MERKLE_DEPTH) {
      return [...(this.leaves.get(prefix)?.entries.values() ?? [])].sort((a, b) => compareBytes(a.keyHash, b.keyHash))
    }
    const out: LeafEntry[] = []
    for (const [p, leaf] of this.leaves) {
      if (p.startsWith(prefix)) out.push(...leaf.entries.values())
    }
    return out.sort((a, b) => compareBytes(a.keyHash, b.keyHash))
  }
}

/**
 * Key hashes whose digests differ between two indexes (present on one side only, or
 * with different digests), found by descending only into subtrees whose hashes differ.
 */
export function diffIndexes (a: MerkleIndex, b: MerkleIndex): Uint8Array[] {
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
    if (y === undefined || (x !== undefined && compareBytes(x.keyHash, y.keyHash) < 0)) { onlyA(x as T); i++ } else if (x === undefined || compareBytes(x.keyHash, y.keyHash) > 0) { onlyB(y); j++ } else {
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
