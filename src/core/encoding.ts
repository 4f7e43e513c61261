/**
 * Canonical binary form of a pattern's full state. Everything is written in one fixed
 * order (node ids and episode ids by UTF-8 bytes, dots by node), and the decoder refuses
 * any other order, duplicates, or dots the clock has not seen. So equal states have equal
 * bytes and equal digests on every node, and a decoded state is always well formed.
 *
 * Layout (v1):
 *   u8 format=1, string key, clock,
 *   varint nEpisodes, per episode: string id, varint nDots, per dot: varint nodeIndex, varint counter
 *   varint nVersions, per version: varint nodeIndex, varint counter, u8 flags
 *     (bit0 deleted, bit1 has summary), [f64 confidence if live], [string summary]
 * nodeIndex points into the clock's sorted entries.
 */
import crypto, { createHash } from 'node:crypto'
import { ByteReader, ByteWriter, compareUtf8, utf8 } from './bytes.js'
import { InvalidEncodingError, LimitExceededError } from './errors.js'
import { MAX_EPISODE_ID_BYTES, MAX_EPISODES, MAX_KEY_BYTES, MAX_PATTERN_BYTES, MAX_SUMMARY_BYTES } from './limits.js'
import type { Dot, PatternState, Version } from './pattern.js'
import { readClock, sortedNodeIds, writeClock } from './vector-clock.js'

const FORMAT_V1 = 1
const FLAG_DELETED = 1
const FLAG_SUMMARY = 2

export function encodePattern (s: PatternState): Uint8Array {
  const w = new ByteWriter()
  w.u8(FORMAT_V1).string(s.key)
  writeClock(w, s.clock)
  const index = new Map(sortedNodeIds(s.clock).map((id, i) => [id, i]))
  const nodeIndex = (d: Dot): number => {
    const i = index.get(d.node)
    if (i === undefined) throw new InvalidEncodingError(`pattern ${s.key}: dot of ${d.node} not in clock`)
    return i
  }
  const ids = [...s.episodes.keys()].sort(compareUtf8)
  w.varint(ids.length)
  for (const id of ids) {
    const dots = s.episodes.get(id) as readonly Dot[]
    w.string(id).varint(dots.length)
    for (const d of dots) w.varint(nodeIndex(d)).varint(d.counter)
  }
  w.varint(s.versions.length)
  for (const v of s.versions) {
    const flags = (v.deleted ? FLAG_DELETED : 0) | (!v.deleted && v.summary !== undefined ? FLAG_SUMMARY : 0)
    w.varint(nodeIndex(v.dot)).varint(v.dot.counter).u8(flags)
    if (!v.deleted) w.f64(v.confidence === 0 ? 0 : v.confidence)
    if ((flags & FLAG_SUMMARY) !== 0) w.string(v.summary as string)
  }
  return w.finish()
}

export function decodePattern (bytes: Uint8Array): PatternState {
  if (bytes.length > MAX_PATTERN_BYTES) throw new LimitExceededError(`pattern encoding of ${bytes.length} bytes exceeds limit ${MAX_PATTERN_BYTES}`)
  const r = new ByteReader(bytes, 'pattern')
  const format = r.u8()
  if (format !== FORMAT_V1) throw new InvalidEncodingError(`pattern: unknown format ${format}`)
  const key = r.string(MAX_KEY_BYTES, 'key')
  if (key.length === 0) throw new InvalidEncodingError('pattern: empty key')
  const clock = readClock(r)
  const ids = sortedNodeIds(clock)

  const readDot = (what: string): Dot => {
    const i = r.varint()
    const node = ids[i]
    if (node === undefined) throw new InvalidEncodingError(`pattern: ${what} names node #${i} not in clock`)
    const counter = r.varint()
    if (counter < 1 || counter > (clock.get(node) as number)) {
      throw new InvalidEncodingError(`pattern: ${what} dot ${counter}@${node} not covered by the clock`)
    }
    return { node, counter }
  }

  const episodes = new Map<string, readonly Dot[]>()
  const nEpisodes = r.count(MAX_EPISODES, 4, 'episodes')
  let prevId: string | undefined
  for (let i = 0; i < nEpisodes; i++) {
    const id = r.string(MAX_EPISODE_ID_BYTES, 'episode id')
    if (id.length === 0) throw new InvalidEncodingError('pattern: empty episode id')
    if (prevId !== undefined && compareUtf8(prevId, id) >= 0) throw new InvalidEncodingError('pattern: episodes not in canonical order')
    prevId = id
    const nDots = r.count(ids.length, 2, 'episode dots')
    if (nDots === 0) throw new InvalidEncodingError(`pattern: episode ${id} has no dots`)
    const dots: Dot[] = []
    for (let j = 0; j < nDots; j++) {
      const d = readDot('episode')
      const prev = dots[j - 1]
      if (prev !== undefined && compareUtf8(prev.node, d.node) >= 0) throw new InvalidEncodingError('pattern: episode dots not in canonical order')
      dots.push(d)
    }
    episodes.set(id, dots)
  }

  const nVersions = r.count(ids.length, 3, 'versions')
  if (nVersions === 0) throw new InvalidEncodingError('pattern: no versions')
  const versions: Version[] = []
  for (let i = 0; i < nVersions; i++) {
    const dot = readDot('version')
    const prev = versions[i - 1]
    if (prev !== undefined && compareUtf8(prev.dot.node, dot.node) >= 0) throw new InvalidEncodingError('pattern: versions not in canonical order')
    const flags = r.u8()
    if ((flags & ~(FLAG_DELETED | FLAG_SUMMARY)) !== 0) throw new InvalidEncodingError(`pattern: unknown version flags ${flags}`)
    const deleted = (flags & FLAG_DELETED) !== 0
    if (deleted) {
      if ((flags & FLAG_SUMMARY) !== 0) throw new InvalidEncodingError('pattern: tombstone with a summary')
      versions.push({ dot, deleted, confidence: 0 })
      continue
    }
    const confidence = r.f64()
    if (!(confidence >= 0 && confidence <= 1) || Object.is(confidence, -0)) {
      throw new InvalidEncodingError(`pattern: confidence ${confidence} outside [0, 1]`)
    }
    if ((flags & FLAG_SUMMARY) !== 0) {
      versions.push({ dot, deleted, confidence, summary: r.string(MAX_SUMMARY_BYTES, 'summary') })
    } else {
      versions.push({ dot, deleted, confidence })
    }
  }
  r.end()
  return { key, clock, episodes, versions }
}

export const DIGEST_BYTES = 32

/** One-shot SHA-256 (Node >= 20.12): no Hash object per call; hashing is most of a merge's CPU. */
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash
const oneShotText = (crypto as { hash?: (alg: string, data: string, enc: 'buffer') => Buffer }).hash

export function sha256 (...parts: Uint8Array[]): Uint8Array {
  if (oneShot !== undefined && parts.length === 1) {
    const d = oneShot('sha256', parts[0] as Uint8Array, 'buffer')
    // a plain Uint8Array view: callers rely on slice() copying, which a Buffer's does not
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
  }
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** Digest of a full state: equal state <=> equal bytes <=> equal digest. */
export function patternDigest (s: PatternState | Uint8Array): Uint8Array {
  return sha256(s instanceof Uint8Array ? s : encodePattern(s))
}

/** Position of a pattern in the Merkle index: the hash of its key, never its insertion order. */
export function keyHash (key: string): Uint8Array {
  // the one-shot hash encodes the string itself (as TextEncoder does, lone surrogates as U+FFFD)
  if (oneShotText !== undefined) {
    const d = oneShotText('sha256', key, 'buffer')
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
  }
  return sha256(utf8(key))
}
