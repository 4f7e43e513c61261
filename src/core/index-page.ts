/**
 * A page of the compact Merkle index (compact-index.ts): the entries of the MERKLE_FANOUT
 * sibling leaves under one depth-3 node, packed into one byte array in key-hash order. An
 * entry is the key hash without its first two bytes (the leaf number is those bytes, and the
 * page's leaf counts say which leaf an entry is in) followed by the digest: no object per
 * pattern, and nothing stored twice.
 */
import { compareBytes } from './bytes.js'
import { InvalidEncodingError } from './errors.js'
import { sha256 } from './hash.js'

export const HASH_LEN = 32
/** key-hash bytes the leaf number stands for (MERKLE_DEPTH nibbles) */
export const LEAF_PREFIX_BYTES = 2
export const TAIL_BYTES = HASH_LEN - LEAF_PREFIX_BYTES
export const ENTRY_BYTES = TAIL_BYTES + HASH_LEN
export const LEAVES_PER_PAGE = 16

/** Byte order of a key hash's tail and the tail of entry `e`. */
export function compareTail (page: Uint8Array, e: number, kh: Uint8Array): number {
  const at = e * ENTRY_BYTES
  for (let i = 0; i < TAIL_BYTES; i++) {
    const d = (page[at + i] as number) - (kh[LEAF_PREFIX_BYTES + i] as number)
    if (d !== 0) return d
  }
  return 0
}

/** Where `kh` is (>= 0) or would go (-1 - position) among entries [from, to) of one leaf. */
export function searchLeaf (page: Uint8Array | undefined, from: number, to: number, kh: Uint8Array): number {
  if (page === undefined) return -1 - from
  let lo = from
  let hi = to - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const c = compareTail(page, mid, kh)
    if (c === 0) return mid
    if (c < 0) lo = mid + 1
    else hi = mid - 1
  }
  return -1 - lo
}

export function writeEntry (page: Uint8Array, e: number, kh: Uint8Array, digest: Uint8Array): void {
  page.set(kh.subarray(LEAF_PREFIX_BYTES), e * ENTRY_BYTES)
  page.set(digest, e * ENTRY_BYTES + TAIL_BYTES)
}

/**
 * Room for `entries` and a little more: an insert into a page with room moves its tail in place,
 * where an exact-size page would be copied whole, allocating and freeing a page per insert and
 * feeding the garbage collector. Small pages get none (the index of a small store stays small).
 */
export function pageCapacity (entries: number): number {
  return entries + (entries >> 5)
}

/**
 * Page `page` of `n` entries with new entries at their positions (ascending positions in the
 * page as it is, ties in the order given): in place when it has room, else in a new page with
 * some (pageCapacity). The runs between positions move once each.
 */
export function insertEntries (page: Uint8Array | undefined, n: number,
  inserts: ReadonlyArray<{ pos: number, kh: Uint8Array, digest: Uint8Array }>): Uint8Array {
  const total = n + inserts.length
  const out = page !== undefined && page.length >= total * ENTRY_BYTES ? page : new Uint8Array(pageCapacity(total) * ENTRY_BYTES)
  const move = (from: number, to: number, count: number): void => {
    if (page === undefined || count === 0) return
    // in place, copyWithin moves overlapping runs without a copy of its own (set would make one)
    if (out === page) out.copyWithin(to * ENTRY_BYTES, from * ENTRY_BYTES, (from + count) * ENTRY_BYTES)
    else out.set(page.subarray(from * ENTRY_BYTES, (from + count) * ENTRY_BYTES), to * ENTRY_BYTES)
  }
  // from the back, so that in place no entry is overwritten before it moves
  let src = n
  let dst = total
  for (let j = inserts.length - 1; j >= 0; j--) {
    const ins = inserts[j] as { pos: number, kh: Uint8Array, digest: Uint8Array }
    dst -= src - ins.pos
    move(ins.pos, dst, src - ins.pos)
    src = ins.pos
    writeEntry(out, --dst, ins.kh, ins.digest)
  }
  // the entries before the first insert stay where they are (dst === src here)
  if (out !== page) move(0, 0, src)
  return out
}

/**
 * Page `page` of `n` entries without entry `e`: in place, or, once it holds less than half of
 * what it has room for, in a new page of the right size (pages shrink as their keys go, as they
 * grow as keys come); undefined when none is left.
 */
export function removeEntry (page: Uint8Array, n: number, e: number): Uint8Array | undefined {
  if (n === 1) return undefined
  const left = n - 1
  if (left * 2 * ENTRY_BYTES < page.length) {
    const out = new Uint8Array(pageCapacity(left) * ENTRY_BYTES)
    out.set(page.subarray(0, e * ENTRY_BYTES))
    out.set(page.subarray((e + 1) * ENTRY_BYTES, n * ENTRY_BYTES), e * ENTRY_BYTES)
    return out
  }
  page.copyWithin(e * ENTRY_BYTES, (e + 1) * ENTRY_BYTES, n * ENTRY_BYTES)
  return page
}

/** The full key hash of entry `e` of leaf `leaf`. */
export function entryKeyHash (page: Uint8Array, e: number, leaf: number): Uint8Array {
  const kh = new Uint8Array(HASH_LEN)
  kh[0] = leaf >> 8
  kh[1] = leaf & 0xff
  kh.set(page.subarray(e * ENTRY_BYTES, e * ENTRY_BYTES + TAIL_BYTES), LEAF_PREFIX_BYTES)
  return kh
}

export function entryDigest (page: Uint8Array, e: number): Uint8Array {
  return page.slice(e * ENTRY_BYTES + TAIL_BYTES, (e + 1) * ENTRY_BYTES)
}

/** Whether entry `e` holds `digest` (compared in place: an update of an unchanged pattern allocates nothing). */
export function hasDigest (page: Uint8Array, e: number, digest: Uint8Array): boolean {
  const at = e * ENTRY_BYTES + TAIL_BYTES
  for (let i = 0; i < HASH_LEN; i++) if (page[at + i] !== digest[i]) return false
  return true
}

/**
 * A leaf's hash from `count` entries starting at `from`: sha256(0x00 || each keyHash || digest),
 * the same bytes as the in-heap index hashes (merkle.ts), so both give the same tree.
 */
export function leafHash (page: Uint8Array, from: number, count: number, leaf: number): Uint8Array {
  const stride = HASH_LEN * 2
  const buf = leafInput(1 + count * stride)
  buf[0] = 0 // leaf tag
  for (let i = 0; i < count; i++) {
    const at = 1 + i * stride
    buf[at] = leaf >> 8
    buf[at + 1] = leaf & 0xff
    buf.set(page.subarray((from + i) * ENTRY_BYTES, (from + i + 1) * ENTRY_BYTES), at + LEAF_PREFIX_BYTES)
  }
  return sha256(buf)
}

/** Leaf inputs up to this size share one buffer: a leaf holds a few dozen entries, unless a peer ground keys into it. */
const SHARED_INPUT_BYTES = 64 * 1024
let sharedInput = new Uint8Array(4096)

/** A buffer of exactly `bytes` to build a leaf's hash input in (reused: no allocation per leaf). */
function leafInput (bytes: number): Uint8Array {
  if (bytes > SHARED_INPUT_BYTES) return new Uint8Array(bytes)
  if (sharedInput.length < bytes) sharedInput = new Uint8Array(SHARED_INPUT_BYTES)
  return sharedInput.subarray(0, bytes)
}

/**
 * A page as a store persists it (CompactMerkleIndex.exportPage's form): its leaf counts, 4 bytes
 * big-endian each, then its entries; made here from (keyHash, digest) pairs in key-hash order, all
 * under page `page`. undefined when there are none, as an empty page is not kept.
 */
export function packPage (page: number, items: ReadonlyArray<{ keyHash: Uint8Array, digest: Uint8Array }>): Uint8Array | undefined {
  if (items.length === 0) return undefined
  const out = new Uint8Array(LEAVES_PER_PAGE * 4 + items.length * ENTRY_BYTES)
  const view = new DataView(out.buffer)
  items.forEach((it, e) => {
    const leaf = ((it.keyHash[0] as number) << 8) | (it.keyHash[1] as number)
    if (leaf >> 4 !== page) throw new RangeError(`key hash of leaf ${leaf} is not under page ${page}`)
    const slot = (leaf & (LEAVES_PER_PAGE - 1)) * 4
    view.setUint32(slot, view.getUint32(slot) + 1)
    writeEntry(out.subarray(LEAVES_PER_PAGE * 4), e, it.keyHash, it.digest)
  })
  return out
}

/**
 * A persisted page's leaf counts and entries (undefined: empty), checked: its length must match
 * its counts and entries must be in strict key-hash order within each leaf, so a damaged page is
 * refused (InvalidEncodingError) rather than turned into a tree no peer can agree with.
 */
export function unpackPage (page: number, persisted: Uint8Array | undefined): { counts: Uint32Array, entries: Uint8Array | undefined } {
  const counts = new Uint32Array(LEAVES_PER_PAGE)
  if (persisted === undefined) return { counts, entries: undefined }
  if (persisted.length < LEAVES_PER_PAGE * 4) throw new InvalidEncodingError(`merkle: page ${page} is truncated`)
  const view = new DataView(persisted.buffer, persisted.byteOffset, LEAVES_PER_PAGE * 4)
  for (let i = 0; i < LEAVES_PER_PAGE; i++) counts[i] = view.getUint32(i * 4)
  const n = counts.reduce((a, b) => a + b, 0)
  if (persisted.length !== LEAVES_PER_PAGE * 4 + n * ENTRY_BYTES) throw new InvalidEncodingError(`merkle: page ${page} has the wrong length`)
  const entries = persisted.slice(LEAVES_PER_PAGE * 4)
  let at = 0
  for (const c of counts) {
    for (let e = at + 1; e < at + c; e++) {
      const prev = entries.subarray((e - 1) * ENTRY_BYTES, (e - 1) * ENTRY_BYTES + TAIL_BYTES)
      if (compareBytes(prev, entries.subarray(e * ENTRY_BYTES, e * ENTRY_BYTES + TAIL_BYTES)) >= 0) {
        throw new InvalidEncodingError(`merkle: page ${page} is out of order`)
      }
    }
    at += c
  }
  return { counts, entries: n === 0 ? undefined : entries }
}
