/**
 * The change feed's records: every batch that changes patterns gives each changed key the
 * next number of a per-node sequence, in the same LevelDB batch as the change itself, so the
 * feed and the data never disagree after a crash. One entry per key (its latest change), so
 * the feed is bounded by the number of keys, as CouchDB's `_changes` is.
 *
 *   'c' + seq (8, big-endian) -> origin (1) + peer length (1) + peer (utf8) + key (utf8)
 *   's' + utf8 key            -> seq (8): the key's entry, to drop it when the key changes again
 *   meta 'seq'                -> the last seq handed out (never reused, also when entries are dropped)
 */
import { decodeUtf8 } from '../core/bytes.js'
import { decodeCounter, encodeCounter, range } from './layout.js'
import type { RawDb } from './recovery.js'

export const P_CHANGE = 0x63
export const P_KEY_SEQ = 0x73

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

function prefixed (prefix: number, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(rest.length + 1)
  out[0] = prefix
  out.set(rest, 1)
  return out
}

export function changeKey (seq: number): Uint8Array {
  return prefixed(P_CHANGE, encodeCounter(seq))
}

export function keySeqKey (key: string): Uint8Array {
  return prefixed(P_KEY_SEQ, encoder.encode(key))
}

export const encodeSeq = encodeCounter

/** undefined when the bytes are not a seq */
export function decodeSeq (b: Uint8Array | undefined): number | undefined {
  return b === undefined ? undefined : decodeCounter(b)
}

export function encodeEntry (key: string, source: ChangeSource): Uint8Array {
  const peer = encoder.encode(source.peer ?? '')
  if (peer.length > 255) throw new RangeError('a peer id longer than 255 bytes')
  const k = encoder.encode(key)
  const out = new Uint8Array(2 + peer.length + k.length)
  out[0] = ORIGINS.indexOf(source.origin)
  out[1] = peer.length
  out.set(peer, 2)
  out.set(k, 2 + peer.length)
  return out
}

/** undefined when the record is malformed (a repair drops it) */
export function decodeEntry (dbKey: Uint8Array, value: Uint8Array): FeedEntry | undefined {
  if (dbKey.length !== 9 || value.length < 2) return undefined
  const seq = decodeCounter(dbKey.subarray(1))
  const origin = ORIGINS[value[0] as number]
  const peerEnd = 2 + (value[1] as number)
  if (seq === undefined || origin === undefined || value.length < peerEnd) return undefined
  try {
    const peer = decodeUtf8(value.subarray(2, peerEnd))
    const key = decodeUtf8(value.subarray(peerEnd))
    return { seq, key, origin, ...(peer !== '' ? { peer } : {}) }
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
  entries: FeedEntry[]
  /** the seq the scan reached: pass it as `since` for the next page */
  last: number
  /** false when the scan reached the end of the feed */
  more: boolean
}

/** The entries after `since`, in seq order, read off one LevelDB iterator. */
export async function readFeed (db: RawDb, since: number, options: FeedPageOptions): Promise<FeedPage> {
  const entries: FeedEntry[] = []
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
