/**
 * On-disk layout of the pattern store: one LevelDB, binary keys, a one-byte prefix per
 * record kind. Keeping every codec here means the store and its recovery code cannot
 * disagree on a byte.
 *
 *   'p' + utf8 key        -> canonical pattern bytes (core/encoding.ts)
 *   'h' + keyHash (32)    -> digest (32) [+ 0xff + seq (8)] + utf8 key   (keyHash -> key, the Merkle
 *                            leaves, and the key's entry in the change feed; 0xff never starts UTF-8,
 *                            so a record from before the feed reads without a seq)
 *   'm' + utf8 name       -> meta value ('format', 'counter', 'root', or another module's)
 *   'q' + raw key bytes   -> a pattern record found undecodable, moved aside on open
 *   'i' + page (2)        -> a page of the Merkle index as of the last clean stop (index-snapshot.ts)
 *   'c', 's'              -> the change feed (change-feed.ts)
 */
import { decodeUtf8 } from '../core/bytes.js'
import { DIGEST_BYTES, keyHash } from '../core/encoding.js'
import { HASH_BYTES } from '../core/merkle.js'

export const P_PATTERN = 0x70
export const P_HASH = 0x68
export const P_META = 0x6d
export const P_QUARANTINE = 0x71
export const P_INDEX = 0x69

/** Meta names the store owns; other modules may not write them. */
export const META_FORMAT = 'format'
export const META_COUNTER = 'counter'
export const META_ROOT = 'root'
/** the change feed's last seq (feed-open.ts), and the mark of a store open in a process (set at open, cleared by a clean close) */
export const META_SEQ = 'seq'
export const META_OPEN = 'open'
/** the root and size of the index pages saved at the last clean stop */
export const META_INDEX = 'index'
export const RESERVED_META = new Set([META_FORMAT, META_COUNTER, META_ROOT, META_SEQ, META_OPEN, META_INDEX])

export const STORE_FORMAT_VERSION = 2
const FORMAT_TAG = 'engram-store/'

const encoder = new TextEncoder()
// ignoreBOM: a key that starts with U+FEFF keeps it (the default strips it, see core/bytes.ts)
const lossyDecoder = new TextDecoder('utf-8', { ignoreBOM: true })

function prefixed (prefix: number, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(rest.length + 1)
  out[0] = prefix
  out.set(rest, 1)
  return out
}

export function patternKey (key: string): Uint8Array {
  return prefixed(P_PATTERN, encoder.encode(key))
}

export function hashKey (hash: Uint8Array): Uint8Array {
  return prefixed(P_HASH, hash)
}

export function metaKey (name: string): Uint8Array {
  return prefixed(P_META, encoder.encode(name))
}

/** Quarantine keeps the raw key bytes: the key itself may be what is broken. */
export function quarantineKey (dbKey: Uint8Array): Uint8Array {
  return prefixed(P_QUARANTINE, dbKey.subarray(1))
}

/** The text after the prefix byte; undefined when it is not valid UTF-8. */
export function suffixText (dbKey: Uint8Array): string | undefined {
  try {
    return decodeUtf8(dbKey.subarray(1))
  } catch {
    return undefined
  }
}

/** For reports only: never fails, replaces bad bytes. */
export function suffixTextLossy (dbKey: Uint8Array): string {
  return lossyDecoder.decode(dbKey.subarray(1))
}

/** Smallest byte string greater than every string starting with `b` (b never all 0xff here). */
function successor (b: Uint8Array): Uint8Array {
  let end = b.length
  while (end > 0 && b[end - 1] === 0xff) end--
  const out = b.slice(0, end)
  if (end > 0) out[end - 1] = (out[end - 1] as number) + 1
  return out
}

/** Iterator bounds covering every record whose key starts with prefix byte + `rest`. */
export function range (prefix: number, rest: Uint8Array = new Uint8Array()): { gte: Uint8Array, lt: Uint8Array } {
  const gte = prefixed(prefix, rest)
  return { gte, lt: successor(gte) }
}

const SEQ_MARK = 0xff

export function encodeHashEntry (digest: Uint8Array, key: string | Uint8Array, seq?: number): Uint8Array {
  const k = typeof key === 'string' ? encoder.encode(key) : key
  const at = seq === undefined ? DIGEST_BYTES : DIGEST_BYTES + 9
  const out = new Uint8Array(at + k.length)
  out.set(digest, 0)
  if (seq !== undefined) {
    out[DIGEST_BYTES] = SEQ_MARK
    putUint64(out, DIGEST_BYTES + 1, seq)
  }
  out.set(k, at)
  return out
}

export interface HashEntry {
  keyHash: Uint8Array
  digest: Uint8Array
  key: string
  /** the seq of the key's entry in the change feed; absent in a record from before the feed */
  seq?: number
}

/** Just the seq of an 'h' record's value (undefined: none, or malformed), without checking the rest. */
export function hashEntrySeq (value: Uint8Array | undefined): number | undefined {
  if (value === undefined || value.length < DIGEST_BYTES + 9 || value[DIGEST_BYTES] !== SEQ_MARK) return undefined
  return readUint64(value, DIGEST_BYTES + 1)
}

/**
 * Parses an 'h' record; undefined when malformed. The key must hash to the record's
 * key hash, so a damaged key text cannot point the protocol at the wrong pattern.
 */
export function decodeHashEntry (dbKey: Uint8Array, value: Uint8Array): HashEntry | undefined {
  if (dbKey.length !== 1 + HASH_BYTES || value.length <= DIGEST_BYTES) return undefined
  const seq = hashEntrySeq(value)
  if (value[DIGEST_BYTES] === SEQ_MARK && seq === undefined) return undefined
  let key: string
  try {
    key = decodeUtf8(value.subarray(seq === undefined ? DIGEST_BYTES : DIGEST_BYTES + 9))
  } catch {
    return undefined
  }
  // plain copies: LevelDB hands out Buffers whose slice() is a view into shared memory
  const kh = new Uint8Array(dbKey.subarray(1))
  if (Buffer.compare(keyHash(key), kh) !== 0) return undefined
  return { keyHash: kh, digest: new Uint8Array(value.subarray(0, DIGEST_BYTES)), key, ...(seq !== undefined ? { seq } : {}) }
}

/** Writes `n` (a safe integer) as 8 bytes big-endian at `offset`: two 32-bit halves, no BigInt on the write path. */
export function putUint64 (out: Uint8Array, offset: number, n: number): Uint8Array {
  if (offset < 0 || offset + 8 > out.length) throw new RangeError(`no 8 bytes at ${offset} of ${out.length}`)
  // byte by byte: a DataView over a small array makes V8 move the array's bytes off the heap first
  putUint32(out, offset, Math.floor(n / 2 ** 32))
  putUint32(out, offset + 4, n >>> 0)
  return out
}

function putUint32 (out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24
  out[at + 1] = (n >>> 16) & 0xff
  out[at + 2] = (n >>> 8) & 0xff
  out[at + 3] = n & 0xff
}

function readUint32 (b: Uint8Array, at: number): number {
  return (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0
}

/** The 8 bytes big-endian at `offset`; undefined when it is not a safe integer. */
export function readUint64 (b: Uint8Array, offset: number): number | undefined {
  if (offset < 0 || offset + 8 > b.length) throw new RangeError(`no 8 bytes at ${offset} of ${b.length}`)
  const n = readUint32(b, offset) * 2 ** 32 + readUint32(b, offset + 4)
  return Number.isSafeInteger(n) ? n : undefined
}

export function encodeCounter (n: number): Uint8Array {
  return putUint64(new Uint8Array(8), 0, n)
}

/** undefined when the bytes are not a valid counter. */
export function decodeCounter (b: Uint8Array): number | undefined {
  return b.length === 8 ? readUint64(b, 0) : undefined
}

export function encodeFormat (version: number = STORE_FORMAT_VERSION): Uint8Array {
  return encoder.encode(FORMAT_TAG + String(version))
}

/** The version text a format marker names; undefined when it is not an Engram marker at all. */
export function decodeFormat (b: Uint8Array): string | undefined {
  const text = lossyDecoder.decode(b)
  return text.startsWith(FORMAT_TAG) ? text.slice(FORMAT_TAG.length) : undefined
}

export function checkMetaName (name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new RangeError('meta name must be a non-empty string')
  return name
}

/** A meta name another module may write: the store's own are refused. */
export function checkWritableMeta (name: string): string {
  // 'feed-peer/...': the change feed's peer table (peer-table.ts)
  if (RESERVED_META.has(checkMetaName(name)) || name.startsWith('feed-peer/')) {
    throw new RangeError(`meta name ${JSON.stringify(name)} is reserved by the store`)
  }
  return name
}
