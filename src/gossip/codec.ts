/**
 * Wire codec of /engram/gossip: protobuf frames (gossip.proto) <-> the plain messages
 * of the sans-IO reconciler. Decoding is strict: frame size, item counts, hash sizes,
 * prefixes, sort order and every pattern (canonical decoder) are checked, and any
 * failure is an InvalidMessageError that aborts the session.
 */
import { decodePattern, encodePattern } from '../core/encoding.js'
import { MERKLE_DEPTH, MERKLE_FANOUT, isValidPrefix } from '../core/merkle.js'
import { compareBytes } from '../core/bytes.js'
import {
  CHILD_HASH_BYTES, PROBE_ENTRY_BYTES, WIRE_HASH_BYTES, type ChildHashes, type GossipMessage, type Probe, type WireEntry
} from '../core/reconcile-messages.js'
import { DEFAULT_RECONCILE_LIMITS } from '../core/reconcile.js'
import type { PatternState } from '../core/pattern.js'
import { Frame } from './pb/gossip.js'
import { InvalidMessageError } from './errors.js'
import { MAX_FRAME_BYTES, MAX_PATTERNS_PER_MESSAGE, MAX_RETRY_AFTER_MS } from './constants.js'

const L = DEFAULT_RECONCILE_LIMITS
const MAX_NEED = L.maxProbeEntries

/** Field limits handed to the protobuf decoder, so repeated fields stop growing early. */
const DECODE_LIMITS = {
  request: { descend: L.maxDescend, probes: L.maxProbeEntries, pullPrefixes: L.maxPullPrefixes },
  reply: { parents: L.maxDescend, childCounts: L.maxDescend * MERKLE_FANOUT, need: MAX_NEED },
  patterns: { patterns: MAX_PATTERNS_PER_MESSAGE }
}

function fail (msg: string): never {
  throw new InvalidMessageError(msg)
}

function checkPrefix (p: string, maxLen = MERKLE_DEPTH): string {
  if (!isValidPrefix(p) || p.length > maxLen) fail(`invalid prefix ${JSON.stringify(p.slice(0, 16))}`)
  return p
}

function splitEntries (bytes: Uint8Array): WireEntry[] {
  if (bytes.length % PROBE_ENTRY_BYTES !== 0) fail('probe entries are not whole entries')
  const out: WireEntry[] = []
  for (let o = 0; o < bytes.length; o += PROBE_ENTRY_BYTES) {
    const e = { keyHash: bytes.subarray(o, o + 32), digest: bytes.subarray(o + 32, o + PROBE_ENTRY_BYTES) }
    const prev = out[out.length - 1]
    if (prev !== undefined && compareBytes(prev.keyHash, e.keyHash) >= 0) fail('probe entries not sorted')
    out.push(e)
  }
  return out
}

function joinEntries (entries: WireEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * PROBE_ENTRY_BYTES)
  entries.forEach((e, i) => {
    out.set(e.keyHash, i * PROBE_ENTRY_BYTES)
    out.set(e.digest.subarray(0, WIRE_HASH_BYTES), i * PROBE_ENTRY_BYTES + 32)
  })
  return out
}

function toNumber (n: bigint, what: string): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} too large`)
  return Number(n)
}

export function encodeMessage (m: GossipMessage): Uint8Array {
  switch (m.type) {
    case 'hello':
      return Frame.encode({ hello: { version: m.version, root: m.root as Uint8Array<ArrayBuffer>, count: BigInt(m.count) } })
    case 'request':
      return Frame.encode({
        request: {
          descend: m.descend,
          probes: m.probes.map(p => ({ prefix: p.prefix, entries: joinEntries(p.entries) as Uint8Array<ArrayBuffer> })),
          pullPrefixes: m.pullPrefixes,
          done: m.done
        }
      })
    case 'reply': {
      const hashes = new Uint8Array(m.children.length * MERKLE_FANOUT * CHILD_HASH_BYTES)
      m.children.forEach((c, i) => c.hashes.forEach((h, j) => hashes.set(h.subarray(0, CHILD_HASH_BYTES), (i * MERKLE_FANOUT + j) * CHILD_HASH_BYTES)))
      return Frame.encode({
        reply: {
          inSync: m.inSync,
          parents: m.children.map(c => c.parent),
          childHashes: hashes,
          childCounts: m.children.flatMap(c => c.counts.map(BigInt)),
          need: m.need as Array<Uint8Array<ArrayBuffer>>,
          busy: m.busy === true,
          end: m.end === true,
          retryAfterMs: m.busy === true ? Math.min(m.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS) : 0
        }
      })
    }
    case 'patterns':
      return encodePatternsFrame(m.patterns.map(encodePattern), m.push)
  }
}

/** A patterns frame from already-encoded states (the store keeps them encoded). */
export function encodePatternsFrame (encoded: Uint8Array[], push = false): Uint8Array {
  return Frame.encode({ patterns: { patterns: encoded as Array<Uint8Array<ArrayBuffer>>, push } })
}

/** Groups encoded patterns into frames that respect the count and size limits. */
export function batchEncodedPatterns (encoded: Uint8Array[]): Uint8Array[][] {
  const budget = MAX_FRAME_BYTES - 1024
  const out: Uint8Array[][] = []
  let cur: Uint8Array[] = []
  let size = 0
  for (const e of encoded) {
    if (cur.length > 0 && (cur.length >= MAX_PATTERNS_PER_MESSAGE || size + e.length + 8 > budget)) {
      out.push(cur)
      cur = []
      size = 0
    }
    cur.push(e)
    size += e.length + 8
  }
  if (cur.length > 0) out.push(cur)
  return out
}

export function decodeMessage (bytes: Uint8Array): GossipMessage {
  if (bytes.length > MAX_FRAME_BYTES) fail(`frame of ${bytes.length} bytes exceeds ${MAX_FRAME_BYTES}`)
  let f: Frame
  try {
    f = Frame.decode(bytes, { limits: DECODE_LIMITS })
  } catch (err: any) {
    fail(`undecodable frame: ${String(err?.message ?? err)}`)
  }
  const set = [f.hello, f.request, f.reply, f.patterns].filter(x => x !== undefined).length
  if (set !== 1) fail(`a frame carries exactly one message, this one ${set}`)

  if (f.hello !== undefined) {
    if (f.hello.root.length !== 32) fail('hello root is not 32 bytes')
    return { type: 'hello', version: f.hello.version, root: f.hello.root, count: toNumber(f.hello.count, 'count') }
  }
  if (f.request !== undefined) {
    const r = f.request
    let entries = 0
    const probes: Probe[] = r.probes.map(p => {
      const list = splitEntries(p.entries)
      entries += list.length
      return { prefix: checkPrefix(p.prefix), entries: list }
    })
    if (entries > L.maxProbeEntries && probes.length > 1) fail('too many probe entries')
    return {
      type: 'request',
      descend: r.descend.map(p => checkPrefix(p, MERKLE_DEPTH - 1)),
      probes,
      pullPrefixes: r.pullPrefixes.map(p => checkPrefix(p)),
      done: r.done
    }
  }
  if (f.reply !== undefined) {
    const r = f.reply
    if (r.childHashes.length !== r.parents.length * MERKLE_FANOUT * CHILD_HASH_BYTES) fail('child hashes do not match parents')
    if (r.childCounts.length !== r.parents.length * MERKLE_FANOUT) fail('child counts do not match parents')
    const children: ChildHashes[] = r.parents.map((parent, i) => ({
      parent: checkPrefix(parent, MERKLE_DEPTH - 1),
      hashes: Array.from({ length: MERKLE_FANOUT }, (_, j) => {
        const at = (i * MERKLE_FANOUT + j) * CHILD_HASH_BYTES
        return r.childHashes.subarray(at, at + CHILD_HASH_BYTES)
      }),
      counts: r.childCounts.slice(i * MERKLE_FANOUT, (i + 1) * MERKLE_FANOUT).map(c => toNumber(c, 'child count'))
    }))
    for (const n of r.need) if (n.length !== 32) fail('needed key hash is not 32 bytes')
    if (r.retryAfterMs !== 0 && !r.busy) fail('retryAfterMs without busy')
    const retry = r.retryAfterMs !== 0 ? { retryAfterMs: Math.min(r.retryAfterMs, MAX_RETRY_AFTER_MS) } : {}
    return { type: 'reply', inSync: r.inSync, children, need: r.need, busy: r.busy, end: r.end, ...retry }
  }
  const p = f.patterns as NonNullable<Frame['patterns']>
  const patterns: PatternState[] = p.patterns.map(b => {
    try {
      return decodePattern(b)
    } catch (err: any) {
      return fail(`invalid pattern: ${String(err?.message ?? err)}`)
    }
  })
  return { type: 'patterns', patterns, push: p.push, encoded: p.patterns }
}
