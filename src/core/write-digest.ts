/**
 * What an author signs for one write. A signature covers the pattern key, the dot (author,
 * counter) and a digest of the write's body: what the author had seen of the key before it
 * wrote (`deps`), the deleted flag, the confidence, and the size and digest of its content
 * (the summary and the full episode set). So the parts of a write stay checkable without the
 * rest: a head (a write overwritten since) keeps only the body digest, and a version kept
 * without its content (merges over the size limit, see content-rule.ts) keeps the content's size
 * and digest. Body v3 (every write this build makes) names the deps by count and digest too,
 * so a version can also be kept without its deps (keepsDeps); v2 bodies (earlier builds)
 * hold the deps themselves and are still read and checked. Every clock entry and every version
 * stays verifiable after merges, whoever relays the state.
 */
import { ByteWriter } from './bytes.js'
import { sha256 } from './hash.js'
import type { Dot, Version } from './pattern.js'
import { EMPTY_CLOCK, writeClock } from './vector-clock.js'

/** Separates Engram write signatures from any other use of a node's key. */
const WRITE_DOMAIN = new TextEncoder().encode('engram/write/2\n')
/**
 * Opens a v3 body. A v2 body opens with its deps count as a minimal varint, which never reads
 * 0x80 0x00, so no v3 body is also a v2 body and the message needs no second domain: a head
 * (digest and signature) checks the same way whichever body it names.
 */
const BODY_V3 = new Uint8Array([0x80, 0x00])

/** The part of a version its author signs besides key and dot (the version without dot and signature). */
export type VersionBody = Omit<Version, 'dot' | 'sig'>

/** Version flags in the canonical encodings (state and body). */
export const FLAG_DELETED = 1
export const FLAG_SUMMARY = 2
/** state encoding only: the version is kept without its content (never part of a signed body) */
export const FLAG_STRIPPED = 4
/** state encoding only: the version's signed body is v3 (deps by count and digest) */
export const FLAG_BODY_V3 = 8
/** state encoding only: a v3 version kept without its deps (their count and digest follow the flags) */
export const FLAG_NO_DEPS = 16

/** The size and digest of a version's content. */
export interface ContentInfo {
  readonly bytes: number
  readonly digest: Uint8Array
}

/** The count and digest of a v3 version's deps. */
export interface DepsInfo {
  readonly entries: number
  readonly digest: Uint8Array
}

const bodyDigests = new WeakMap<object, Uint8Array>()
const contents = new WeakMap<object, ContentInfo>()

/** Writers reused for the hashes below: each is written and hashed synchronously, so none overlap. */
const scratch = new ByteWriter()
const depsScratch = new ByteWriter()
const contentScratch = new ByteWriter()

export function flagsOf (v: VersionBody): number {
  const hasSummary = v.stripped !== undefined ? v.stripped.hasSummary : v.summary !== undefined
  return v.deleted ? FLAG_DELETED : hasSummary ? FLAG_SUMMARY : 0
}

/** A live version's content as the encodings write it: [string summary], varint nEpisodes, episode ids. */
export function writeContent (w: ByteWriter, v: VersionBody): void {
  if (v.summary !== undefined) w.string(v.summary)
  w.varint(v.episodes.length)
  for (const id of v.episodes) w.string(id)
}

/** Size and digest of a live version's content (memoized; a stripped version carries them). */
export function contentOf (v: VersionBody): ContentInfo {
  if (v.stripped !== undefined) return v.stripped
  let c = contents.get(v)
  if (c === undefined) {
    // writeBody calls this while `scratch` holds its body, so the content has a writer of its own
    writeContent(contentScratch.reset(), v)
    const bytes = contentScratch.view()
    c = { bytes: bytes.length, digest: sha256(bytes) }
    contents.set(v, c)
  }
  return c
}

/**
 * Records the content bytes a decoded version was read from (a view of the received
 * encoding), so its digests hash them instead of encoding the strings again.
 */
export function rememberContent (v: VersionBody, content: Uint8Array): void {
  if (!contents.has(v)) contents.set(v, { bytes: content.length, digest: sha256(content) })
}

/** `to` is `from` with dot and signature added: it has the same digests (no second encode). */
export function shareDigests (from: VersionBody, to: VersionBody): void {
  const c = contents.get(from)
  if (c !== undefined) contents.set(to, c)
  const d = bodyDigests.get(from)
  if (d !== undefined) bodyDigests.set(to, d)
}

/** The deps of a key's first write: the same digest every time, so it is hashed once. */
const NO_DEPS: DepsInfo = (() => {
  const w = new ByteWriter()
  writeClock(w, EMPTY_CLOCK)
  return { entries: 0, digest: sha256(w.view()) }
})()

/**
 * The count and digest of a version's deps (a version kept without its deps carries them). Not
 * memoized: the body digest that needs it is.
 */
export function depsOf (v: VersionBody): DepsInfo {
  if (v.depsOmitted !== undefined) return v.depsOmitted
  if (v.deps.size === 0) return NO_DEPS
  writeClock(depsScratch.reset(), v.deps)
  return { entries: v.deps.size, digest: sha256(depsScratch.view()) }
}

/**
 * Canonical bytes of a body. v2: deps (with node ids), flags, then if live: confidence, content
 * size and digest. v3: BODY_V3, the deps' count and digest, then the same from flags on.
 */
function writeBody (w: ByteWriter, v: VersionBody): void {
  if (v.depsByDigest === true) {
    // depsOf writes on its own scratch writer, not on `w`
    const d = depsOf(v)
    w.raw(BODY_V3).varint(d.entries).raw(d.digest)
  } else {
    writeClock(w, v.deps)
  }
  w.u8(flagsOf(v))
  if (v.deleted) return
  const c = contentOf(v)
  w.f64(v.confidence === 0 ? 0 : v.confidence).varint(c.bytes).raw(c.digest)
}

/** sha256 of the body (memoized per version object: versions are immutable). */
export function bodyDigest (v: VersionBody): Uint8Array {
  let d = bodyDigests.get(v)
  if (d === undefined) {
    if (!v.deleted) contentOf(v) // before the scratch writer is taken
    writeBody(scratch.reset(), v)
    d = sha256(scratch.view())
    bodyDigests.set(v, d)
  }
  return d
}

/** The 32 bytes an author signs for its write `dot` of `key` with body digest `body`. */
export function writeMessage (key: string, dot: Dot, body: Uint8Array): Uint8Array {
  return sha256(scratch.reset().raw(WRITE_DOMAIN).string(key).string(dot.node).varint(dot.counter).raw(body).view())
}
