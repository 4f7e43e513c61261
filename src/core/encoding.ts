/**
 * Canonical binary form of a pattern's full state. Everything is written in one fixed
 * order (node ids and episode ids by UTF-8 bytes, dots by node then counter), and the decoder
 * refuses any other order, duplicates, dots the clock has not seen, a version another
 * version overwrote, two versions by one writer, a version kept with or without its deps or
 * content against the rules (content-rule.ts), or a clock entry without the write that backs
 * it. So equal states have equal bytes and equal digests on every node, and a decoded state is
 * always well formed.
 * (Signatures are checked apart, by the node: see src/auth.)
 *
 * Layout (v2):
 *   u8 format=2, string key, clock,
 *   varint nVersions, per version:
 *     varint nodeIndex, varint counter,
 *     deps: varint n, per entry varint nodeIndex (increasing), varint counter,
 *     u8 flags (bit0 deleted, bit1 has summary, bit2 kept without content, bit3 signed body v3,
 *       bit4 kept without deps: then no deps are listed above),
 *     if kept without deps: varint deps entries, 32 bytes deps digest,
 *     if live: f64 confidence, then [string summary], varint nEpisodes, per episode string id;
 *       or, kept without content: varint content bytes, 32 bytes content digest,
 *     64 bytes signature
 *   varint nHeads, per head: varint nodeIndex (increasing), 32 bytes body digest, 64 bytes signature
 *     (a head's counter is the clock's entry for its node)
 * nodeIndex points into the clock's sorted entries.
 *
 * Format 3 is format 2 with a table of dropped writers after the clock (varint n >= 1, node ids in
 * increasing order): writers a full clock no longer keeps (writer-rank.ts) that a kept version's
 * deps still name (its signature covers them). There, deps' nodeIndex points into the clock's and
 * the table's ids sorted together, and a state may hold no version (every standing write was a
 * dropped writer's). A state without such deps is written in format 2, so equal states keep equal bytes.
 */
import { ByteReader, ByteWriter, compareUtf8 } from './bytes.js'
import { InvalidEncodingError, LimitExceededError } from './errors.js'
import { DIGEST_BYTES, sha256 } from './hash.js'
import {
  CONTENT_BUDGET, DEPS_BUDGET, MAX_CLOCK_ENTRIES, MAX_COUNTER, MAX_EPISODE_ID_BYTES, MAX_EPISODES, MAX_KEY_BYTES, MAX_PATTERN_BYTES, MAX_SUMMARY_BYTES,
  SIGNATURE_BYTES
} from './limits.js'
import { keepsContent, keepsDeps, minDepsWeight } from './content-rule.js'
import { compareDots, type Dot, type Head, type PatternState, type Version } from './pattern.js'
import { FLAG_BODY_V3, FLAG_DELETED, FLAG_NO_DEPS, FLAG_STRIPPED, FLAG_SUMMARY, flagsOf, rememberContent, writeContent } from './write-digest.js'
import { covers, EMPTY_CLOCK, readClock, sortedNodeIds, type VectorClock, writeClock } from './vector-clock.js'
import { droppedWritersNamed, readDroppedWriters } from './dropped-writers.js'

export { DIGEST_BYTES, keyHash, sha256 } from './hash.js'

const FORMAT_V2 = 2
const FORMAT_V3 = 3

export function encodePattern (s: PatternState): Uint8Array {
  const w = new ByteWriter()
  const dropped = droppedWritersNamed(s)
  w.u8(dropped.length === 0 ? FORMAT_V2 : FORMAT_V3).string(s.key)
  writeClock(w, s.clock)
  if (dropped.length > 0) {
    w.varint(dropped.length)
    for (const id of dropped) w.string(id)
  }
  const ids = sortedNodeIds(s.clock)
  const indexer = (list: readonly string[]): (node: string) => number => {
    const index = new Map(list.map((id, i) => [id, i]))
    return node => {
      const i = index.get(node)
      if (i === undefined) throw new InvalidEncodingError(`pattern ${s.key}: node ${node} not in clock`)
      return i
    }
  }
  const nodeIndex = indexer(ids)
  const depIndex = dropped.length === 0 ? nodeIndex : indexer([...ids, ...dropped].sort(compareUtf8))
  w.varint(s.versions.length)
  for (const v of s.versions) {
    w.varint(nodeIndex(v.dot.node)).varint(v.dot.counter)
    const deps = sortedNodeIds(v.deps)
    w.varint(deps.length)
    for (const id of deps) w.varint(depIndex(id)).varint(v.deps.get(id) as number)
    writeVersionContent(w, v)
    writeSig(w, v.sig, s.key)
  }
  w.varint(s.heads.length)
  for (const h of s.heads) {
    if (h.body.length !== DIGEST_BYTES) throw new InvalidEncodingError(`pattern ${s.key}: head body digest of ${h.body.length} bytes`)
    w.varint(nodeIndex(h.dot.node)).raw(h.body)
    writeSig(w, h.sig, s.key)
  }
  return w.finish()
}

/**
 * flags, then if kept without deps: their count and digest; then if live: confidence and the
 * content, or a stripped version's content size and digest
 */
function writeVersionContent (w: ByteWriter, v: Version): void {
  w.u8(flagsOf(v) | (v.stripped !== undefined ? FLAG_STRIPPED : 0) | (v.depsByDigest === true ? FLAG_BODY_V3 : 0) |
    (v.depsOmitted !== undefined ? FLAG_NO_DEPS : 0))
  if (v.depsOmitted !== undefined) {
    if (v.depsOmitted.digest.length !== DIGEST_BYTES) throw new InvalidEncodingError('version without deps: deps digest of a wrong size')
    w.varint(v.depsOmitted.entries).raw(v.depsOmitted.digest)
  }
  if (v.deleted) return
  w.f64(v.confidence === 0 ? 0 : v.confidence)
  if (v.stripped !== undefined) {
    if (v.stripped.digest.length !== DIGEST_BYTES) throw new InvalidEncodingError('stripped version: content digest of a wrong size')
    w.varint(v.stripped.bytes).raw(v.stripped.digest)
  } else {
    writeContent(w, v)
  }
}

function writeSig (w: ByteWriter, sig: Uint8Array, key: string): void {
  if (sig.length !== SIGNATURE_BYTES) throw new InvalidEncodingError(`pattern ${key}: signature of ${sig.length} bytes, not ${SIGNATURE_BYTES}`)
  w.raw(sig)
}

export function decodePattern (bytes: Uint8Array): PatternState {
  if (bytes.length > MAX_PATTERN_BYTES) throw new LimitExceededError(`pattern encoding of ${bytes.length} bytes exceeds limit ${MAX_PATTERN_BYTES}`)
  const r = new ByteReader(bytes, 'pattern')
  const format = r.u8()
  if (format !== FORMAT_V2 && format !== FORMAT_V3) throw new InvalidEncodingError(`pattern: unknown format ${format}`)
  const key = r.string(MAX_KEY_BYTES, 'key')
  if (key.length === 0) throw new InvalidEncodingError('pattern: empty key')
  const clock = readClock(r)
  const ids = sortedNodeIds(clock)
  const dropped = format === FORMAT_V3 ? readDroppedWriters(r, key, clock) : []
  const lookup = (list: readonly string[]) => (i: number, what: string): string => {
    const node = list[i]
    if (node === undefined) throw new InvalidEncodingError(`pattern: ${what} names node #${i} not in clock`)
    return node
  }
  const nodeAt = lookup(ids)
  const depAt = dropped.length === 0 ? nodeAt : lookup([...ids, ...dropped].sort(compareUtf8))

  // a version takes at least: node, counter, deps count, flags, signature
  const nVersions = r.count(ids.length, 4 + SIGNATURE_BYTES, 'versions')
  // only dropping writers can leave a state without a version (all that stood were theirs)
  if (nVersions === 0 && ids.length < MAX_CLOCK_ENTRIES) throw new InvalidEncodingError('pattern: no versions')
  const versions: Version[] = []
  for (let i = 0; i < nVersions; i++) {
    const v = readVersion(r, clock, nodeAt, depAt)
    const prev = versions[i - 1]
    if (prev !== undefined && compareDots(prev.dot, v.dot) >= 0) throw new InvalidEncodingError('pattern: versions not in canonical order')
    // no join makes two: a state holding a node's write has a clock covering its earlier ones
    if (prev?.dot.node === v.dot.node) throw new InvalidEncodingError(`pattern: two versions by ${v.dot.node}`)
    versions.push(v)
  }
  for (const v of versions) {
    for (const u of versions) {
      if (u !== v && covers(u.deps, v.dot.node, v.dot.counter)) {
        throw new InvalidEncodingError(`pattern: version ${v.dot.counter}@${v.dot.node} was overwritten by ${u.dot.counter}@${u.dot.node}`)
      }
    }
  }

  const standing = new Set<string>()
  for (const v of versions) if (clock.get(v.dot.node) === v.dot.counter) standing.add(v.dot.node)
  const nHeads = r.count(ids.length, 1 + DIGEST_BYTES + SIGNATURE_BYTES, 'heads')
  const heads: Head[] = []
  let prevIndex = -1
  for (let i = 0; i < nHeads; i++) {
    prevIndex = readAfter(r, prevIndex, 'heads')
    const node = nodeAt(prevIndex, 'head')
    if (standing.has(node)) throw new InvalidEncodingError(`pattern: head for ${node}, whose version stands for its clock entry`)
    const body = r.raw(DIGEST_BYTES, 'head body').slice()
    heads.push({ dot: { node, counter: clock.get(node) as number }, body, sig: r.raw(SIGNATURE_BYTES, 'signature').slice() })
  }
  if (standing.size + heads.length !== ids.length) throw new InvalidEncodingError('pattern: a clock entry has neither a version nor a head')
  for (const id of dropped) {
    if (!versions.some(v => v.deps.has(id))) throw new InvalidEncodingError(`pattern: dropped writer ${id} named by no version`)
  }
  r.end()
  return { key, clock, versions, heads }
}

/** A node index that must come after `prev` (lists by node are in canonical order, without repeats). */
function readAfter (r: ByteReader, prev: number, what: string): number {
  const at = r.varint()
  if (at <= prev) throw new InvalidEncodingError(`pattern: ${what} not in canonical order`)
  return at
}

type NodeAt = (i: number, what: string) => string

function readVersion (r: ByteReader, clock: VectorClock, nodeAt: NodeAt, depAt: NodeAt): Version {
  const node = nodeAt(r.varint(), 'version')
  const counter = r.varint()
  if (counter < 1 || counter > (clock.get(node) as number)) {
    throw new InvalidEncodingError(`pattern: version dot ${counter}@${node} not covered by the clock`)
  }
  const nDeps = r.count(MAX_CLOCK_ENTRIES, 2, 'version deps')
  const deps = new Map<string, number>()
  let prevIndex = -1
  for (let i = 0; i < nDeps; i++) {
    prevIndex = readAfter(r, prevIndex, 'version deps')
    const dep = depAt(prevIndex, 'version deps')
    const c = r.varint()
    // a dropped writer's entry is past checking (its head is gone) and weighs in nothing but the signature
    if (c < 1 || c > (clock.get(dep) ?? MAX_COUNTER)) throw new InvalidEncodingError(`pattern: version deps name ${c}@${dep} beyond the clock`)
    deps.set(dep, c)
  }
  if ((deps.get(node) ?? 0) >= counter) throw new InvalidEncodingError(`pattern: version ${counter}@${node} depends on its own later write`)
  const v = readContent(r, { node, counter }, deps)
  const at = `pattern: version ${counter}@${node}`
  if (v.depsOmitted !== undefined) {
    // its concurrent writers are not known without its deps; the clock's size bounds them
    if (v.depsOmitted.entries > clock.size || clock.size * minDepsWeight(v.depsOmitted.entries) <= DEPS_BUDGET) {
      throw new InvalidEncodingError(`${at} lacks its deps (${v.depsOmitted.entries} entries) under a clock that keeps them`)
    }
  } else if (!keepsDeps(v, clock)) {
    throw new InvalidEncodingError(`${at} keeps its deps against the rule`)
  }
  if (keepsContent(v, clock) !== (v.stripped === undefined)) {
    throw new InvalidEncodingError(`${at} ${v.stripped === undefined ? 'keeps' : 'lacks'} its content against the rule`)
  }
  return v
}

/** The flags, and what goes with them (see writeVersionContent), then the signature. */
function readContent (r: ByteReader, dot: Dot, listedDeps: VectorClock): Version {
  const flags = r.u8()
  if ((flags & ~(FLAG_DELETED | FLAG_SUMMARY | FLAG_STRIPPED | FLAG_BODY_V3 | FLAG_NO_DEPS)) !== 0) {
    throw new InvalidEncodingError(`pattern: unknown version flags ${flags}`)
  }
  const isV3 = (flags & FLAG_BODY_V3) !== 0
  const v3 = isV3 ? { depsByDigest: true as const } : {}
  let deps = listedDeps
  let omitted = {}
  if ((flags & FLAG_NO_DEPS) !== 0) {
    if (!isV3 || listedDeps.size > 0) throw new InvalidEncodingError('pattern: a version without deps lists deps or has a v2 body')
    omitted = { depsOmitted: { entries: r.count(MAX_CLOCK_ENTRIES, 0, 'deps entries'), digest: r.raw(DIGEST_BYTES, 'deps digest').slice() } }
    deps = EMPTY_CLOCK
  }
  const body = (flags & ~(FLAG_BODY_V3 | FLAG_NO_DEPS))
  if ((body & FLAG_DELETED) !== 0) {
    if (body !== FLAG_DELETED) throw new InvalidEncodingError('pattern: tombstone with a summary or without content')
    return { dot, deps, deleted: true, confidence: 0, episodes: [], sig: readSig(r), ...v3, ...omitted }
  }
  const confidence = r.f64()
  if (!(confidence >= 0 && confidence <= 1) || Object.is(confidence, -0)) {
    throw new InvalidEncodingError(`pattern: confidence ${confidence} outside [0, 1]`)
  }
  const hasSummary = (flags & FLAG_SUMMARY) !== 0
  if ((flags & FLAG_STRIPPED) !== 0) {
    const bytes = r.varint()
    if (bytes < 1 || bytes > CONTENT_BUDGET) throw new InvalidEncodingError(`pattern: stripped content of ${bytes} bytes`)
    const digest = r.raw(DIGEST_BYTES, 'content digest').slice()
    return { dot, deps, deleted: false, confidence, episodes: [], sig: readSig(r), stripped: { bytes, digest, hasSummary }, ...v3, ...omitted }
  }
  const start = r.position
  const summary = hasSummary ? r.string(MAX_SUMMARY_BYTES, 'summary') : undefined
  const nEpisodes = r.count(MAX_EPISODES, 2, 'episodes')
  const episodes: string[] = []
  for (let i = 0; i < nEpisodes; i++) {
    const id = r.string(MAX_EPISODE_ID_BYTES, 'episode id')
    if (id.length === 0) throw new InvalidEncodingError('pattern: empty episode id')
    const prev = episodes[i - 1]
    if (prev !== undefined && compareUtf8(prev, id) >= 0) throw new InvalidEncodingError('pattern: episodes not in canonical order')
    episodes.push(id)
  }
  const content = r.view(start, r.position)
  if (content.length > CONTENT_BUDGET) throw new LimitExceededError(`pattern: content of ${content.length} bytes in one version`)
  const v: Version = summary === undefined
    ? { dot, deps, deleted: false, confidence, episodes, sig: readSig(r), ...v3, ...omitted }
    : { dot, deps, deleted: false, confidence, summary, episodes, sig: readSig(r), ...v3, ...omitted }
  rememberContent(v, content)
  return v
}

function readSig (r: ByteReader): Uint8Array {
  return r.raw(SIGNATURE_BYTES, 'signature').slice()
}

/** Digest of a full state: equal state <=> equal bytes <=> equal digest. */
export function patternDigest (s: PatternState | Uint8Array): Uint8Array {
  return sha256(s instanceof Uint8Array ? s : encodePattern(s))
}
