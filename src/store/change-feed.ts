/**
 * The change feed's records: every batch that changes patterns gives each changed key the
 * next number of a per-node sequence, in the same LevelDB batch as the change itself, so the
 * feed and the data never disagree after a crash. One entry per key (its latest change), so
 * the feed is bounded by the number of keys, as CouchDB's `_changes` is.
 *
 *   'c' + seq (8, big-endian) -> origin (1) + peer number (varint, peer-table.ts; 0: none) + key (utf8)
 *   the key's 'h' record      -> holds the seq of its entry, to drop it when the key changes again (layout.ts)
 *   meta 'seq'                -> the last seq handed out (never reused, also when entries are dropped)
 */
import { decodeUtf8 } from '../core/bytes.js'
import { decodeCounter, encodeCounter, putUint64, range } from './layout.js'
import type { RawDb } from './recovery.js'

export const P_CHANGE = 0x63

/**
 * Where a change came from: a local write, an eager push or an anti-entropy session of a peer,
 * or `store`: the pattern was in the store before the feed (an older data dir) or a repair
 * found it without an entry.
 */
export type FeedOrigin = 'local' | 'push' | 'session' | 'store'

const ORIGINS: readonly FeedOrigin[] = ['local', 'push', 'session', 'store']

/** What a batch says of its changes: their origin, and the peer they came from (push, session). */
export interface ChangeSource {
  origin: FeedOrigin
  peer?: string
}

/** One feed entry as stored. */
export interface FeedEntry {
  seq: number
  key: string
  origin: FeedOrigin
  /** the peer a push or session change came from */
  peer?: string
}

/**
 * Seqs after a restart that was not a clean stop start at the next multiple of this: remote
 * merges are written without fsync, so a power cut may lose their entries after a watcher saw
 * them, and their numbers must not be handed out again.
 */
export const SEQ_EPOCH = 2 ** 32

const encoder = new TextEncoder()

export function changeKey (seq: number): Uint8Array {
  const out = new Uint8Array(9)
  out[0] = P_CHANGE
  return putUint64(out, 1, seq)
}

export const encodeSeq = encodeCounter

/** undefined when the bytes are not a seq */
export function decodeSeq (b: Uint8Array | undefined): number | undefined {
  return b === undefined ? undefined : decodeCounter(b)
}

/**
 * The part of an entry every change of one batch shares: its origin, and its peer as a number
 * of the feed's peer table (peer-table.ts; 0: none), so an entry does not carry a 52-character
 * PeerId per pattern.
 */
export function entryHead (origin: FeedOrigin, peerRef: number): Uint8Array {
  const out: number[] = [ORIGINS.indexOf(origin)]
  let n = peerRef
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}

export function encodeEntry (key: string | Uint8Array, head: Uint8Array): Uint8Array {
  const k = typeof key === 'string' ? encoder.encode(key) : key
  const out = new Uint8Array(head.length + k.length)
  out.set(head, 0)
  out.set(k, head.length)
  return out
}

/** An entry as stored: its peer still a number of the peer table. */
export interface RawEntry {
  seq: number
  key: string
  origin: FeedOrigin
  peerRef: number
}

/** undefined when the record is malformed (a repair drops it) */
export function decodeEntry (dbKey: Uint8Array, value: Uint8Array): RawEntry | undefined {
  if (dbKey.length !== 9 || value.length < 2) return undefined
  const seq = decodeCounter(dbKey.subarray(1))
  const origin = ORIGINS[value[0] as number]
  if (seq === undefined || origin === undefined) return undefined
  let peerRef = 0
  let at = 1
  for (let shift = 1; ; shift *= 0x80) {
    const b = value[at++]
    if (b === undefined || shift > 2 ** 28) return undefined
    peerRef += (b & 0x7f) * shift
    if (b < 0x80) break
  }
  try {
    return { seq, key: decodeUtf8(value.subarray(at)), origin, peerRef }
  } catch {
    return undefined
  }
}

export interface FeedPageOptions {
  /** only keys starting with this */
  prefix?: string
  /** most entries to return */
  limit: number
  /** most entries to look at (prefix filtering skips some): bounds the work of one page */
  scanLimit: number
}

export interface FeedPage {
  entries: RawEntry[]
  /** the seq the scan reached: pass it as `since` for the next page */
  last: number
  /** false when the scan reached the end of the feed */
  more: boolean
}

/** The entries after `since`, in seq order, read off one LevelDB iterator. */
export async function readFeed (db: RawDb, since: number, options: FeedPageOptions): Promise<FeedPage> {
  const entries: RawEntry[] = []
  let last = since
  let scanned = 0
  const { prefix } = options
  for await (const [k, v] of db.iterator({ gt: changeKey(since), lt: range(P_CHANGE).lt })) {
    const entry = decodeEntry(k, v)
    scanned++
    if (entry !== undefined) {
      last = entry.seq
      if (prefix === undefined || entry.key.startsWith(prefix)) entries.push(entry)
    }
    if (entries.length >= options.limit || scanned >= options.scanLimit) return { entries, last, more: true }
  }
  return { entries, last, more: false }
}
