/**
 * What an author signs for one write. A signature covers the pattern key, the dot (author,
 * counter) and a digest of the write's body: what the author had seen of the key before it
 * wrote (`deps`), the deleted flag, confidence, summary and the full episode set it wrote.
 * A head (a write overwritten since) keeps only the body digest and the signature, which is
 * enough to check that the author did make that write: so every clock entry stays
 * verifiable after merges, whoever relays the state.
 */
import { ByteWriter } from './bytes.js'
import { sha256 } from './hash.js'
import type { Dot, Version } from './pattern.js'
import { writeClock } from './vector-clock.js'

/** Separates Engram write signatures from any other use of a node's key. */
const WRITE_DOMAIN = new TextEncoder().encode('engram/write/2\n')

/** The part of a version its author signs besides key and dot (the version without dot and signature). */
export type VersionBody = Omit<Version, 'dot' | 'sig'>

const bodyDigests = new WeakMap<object, Uint8Array>()

/** Version flags in the canonical encodings (state and body). */
export const FLAG_DELETED = 1
export const FLAG_SUMMARY = 2

/**
 * A version's content as both canonical encodings write it: u8 flags (bit0 deleted, bit1 has
 * summary), then if live: f64 confidence, [string summary], varint nEpisodes, episode ids.
 */
export function writeContent (w: ByteWriter, v: VersionBody): void {
  const flags = (v.deleted ? FLAG_DELETED : 0) | (!v.deleted && v.summary !== undefined ? FLAG_SUMMARY : 0)
  w.u8(flags)
  if (v.deleted) return
  w.f64(v.confidence === 0 ? 0 : v.confidence)
  if ((flags & FLAG_SUMMARY) !== 0) w.string(v.summary as string)
  w.varint(v.episodes.length)
  for (const id of v.episodes) w.string(id)
}

/** Canonical bytes of a body: its deps (with node ids), then its content. */
export function encodeBody (v: VersionBody): Uint8Array {
  const w = new ByteWriter()
  writeClock(w, v.deps)
  writeContent(w, v)
  return w.finish()
}

/**
 * Records the content bytes a decoded version was read from (a view of the received
 * encoding), so its body digest hashes them instead of encoding the strings again.
 */
export function rememberContent (v: VersionBody, content: Uint8Array): void {
  if (!bodyDigests.has(v)) bodyDigests.set(v, sha256(encodeDeps(v), content))
}

/** One writer reused for the hashes below: each is written and hashed synchronously, so none overlap. */
const scratch = new ByteWriter()

function encodeDeps (v: VersionBody): Uint8Array {
  writeClock(scratch.reset(), v.deps)
  return scratch.view()
}

/** sha256 of the body (memoized per version object: versions are immutable). */
export function bodyDigest (v: VersionBody): Uint8Array {
  let d = bodyDigests.get(v)
  if (d === undefined) {
    d = sha256(encodeBody(v))
    bodyDigests.set(v, d)
  }
  return d
}

/** The 32 bytes an author signs for its write `dot` of `key` with body digest `body`. */
export function writeMessage (key: string, dot: Dot, body: Uint8Array): Uint8Array {
  return sha256(scratch.reset().raw(WRITE_DOMAIN).string(key).string(dot.node).varint(dot.counter).raw(body).view())
}
