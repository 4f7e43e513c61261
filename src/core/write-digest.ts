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

/** Canonical bytes of a body; the digest of these is what a head keeps. */
export function encodeBody (v: VersionBody): Uint8Array {
  const w = new ByteWriter()
  writeClock(w, v.deps)
  w.u8(v.deleted ? 1 : 0)
  if (!v.deleted) {
    w.f64(v.confidence === 0 ? 0 : v.confidence)
    if (v.summary !== undefined) w.u8(1).string(v.summary)
    else w.u8(0)
    w.varint(v.episodes.length)
    for (const id of v.episodes) w.string(id)
  }
  return w.finish()
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
  const w = new ByteWriter()
  w.raw(WRITE_DOMAIN).string(key).string(dot.node).varint(dot.counter).raw(body)
  return sha256(w.finish())
}
