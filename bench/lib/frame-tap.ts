/**
 * Measurement only: while enabled, records every gossip frame the nodes in this process
 * write (FramedStream.writeRaw is wrapped; frames pass through unchanged), by message type
 * and by side (the initiator writes on the outbound stream). From the Patterns frames it
 * also sums the canonical pattern encodings, so metadata = payload - pattern bytes.
 */
import { FramedStream } from '../../src/gossip/framed.js'
import { Frame } from '../../src/gossip/pb/gossip.js'
import { decodePattern } from '../../src/core/encoding.js'

export type FrameType = 'hello' | 'request' | 'reply' | 'patterns' | 'other'

export interface SideTally {
  frames: Record<FrameType, number>
  /** frame bytes by type (what RoundReport counts: no length prefix) */
  bytes: Record<FrameType, number>
  /** the varint length prefixes lpStream adds */
  prefixBytes: number
  patterns: number
  /** sum of the canonical encodings carried in Patterns frames */
  patternBytes: number
  /** keys of the patterns sent (when decoding is on) */
  keys: string[]
  /** what the metadata frames carry (when decoding is on) */
  parts: MetaParts
}

export interface MetaParts {
  /** Reply.childHashes: 16 truncated hashes per descended parent */
  childHashes: number
  /** descended parents answered (each costs 16 hashes + 16 counts) */
  parents: number
  /** Reply.childCounts as varints */
  childCounts: number
  /** Request.probes entries (48 B each) */
  probeEntries: number
  /** Reply.need key hashes (32 B each) */
  need: number
  /** Hello.root */
  root: number
}

export interface Tally {
  /** written by the initiator (on its outbound stream) */
  initiator: SideTally
  /** written by the responder */
  responder: SideTally
}

const TAGS: Record<number, FrameType> = { 0x0a: 'hello', 0x12: 'request', 0x1a: 'reply', 0x22: 'patterns' }

function emptySide (): SideTally {
  const z = (): Record<FrameType, number> => ({ hello: 0, request: 0, reply: 0, patterns: 0, other: 0 })
  return {
    frames: z(),
    bytes: z(),
    prefixBytes: 0,
    patterns: 0,
    patternBytes: 0,
    keys: [],
    parts: { childHashes: 0, parents: 0, childCounts: 0, probeEntries: 0, need: 0, root: 0 }
  }
}

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 128); len++ }
  return len
}

let active: Tally | undefined
let decode = true
const original = FramedStream.prototype.writeRaw

FramedStream.prototype.writeRaw = async function (this: FramedStream, frame: Uint8Array): Promise<void> {
  if (active !== undefined) {
    const side = this.stream.direction === 'outbound' ? active.initiator : active.responder
    const type = TAGS[frame[0] ?? 0] ?? 'other'
    side.frames[type]++
    side.bytes[type] += frame.byteLength
    side.prefixBytes += varintLength(frame.byteLength)
    if (type !== 'patterns' && decode) {
      const f = Frame.decode(frame)
      side.parts.root += f.hello?.root.byteLength ?? 0
      side.parts.childHashes += f.reply?.childHashes.byteLength ?? 0
      side.parts.parents += f.reply?.parents.length ?? 0
      side.parts.childCounts += (f.reply?.childCounts ?? []).reduce((n, c) => n + varintLength(Number(c)), 0)
      side.parts.need += (f.reply?.need ?? []).reduce((n, h) => n + h.byteLength, 0)
      side.parts.probeEntries += (f.request?.probes ?? []).reduce((n, p) => n + p.entries.byteLength, 0)
    }
    if (type === 'patterns' && decode) {
      const p = Frame.decode(frame).patterns
      for (const enc of p?.patterns ?? []) {
        side.patterns++
        side.patternBytes += enc.byteLength
        side.keys.push(decodePattern(enc).key)
      }
    }
  }
  await original.call(this, frame)
}

/** Starts recording (replacing any earlier tally). Decoding (keys, metadata parts) can be turned off for bulk runs. */
export function startTap (opts: { decode?: boolean } = {}): Tally {
  decode = opts.decode ?? true
  active = { initiator: emptySide(), responder: emptySide() }
  return active
}

export function stopTap (): Tally | undefined {
  const t = active
  active = undefined
  return t
}

export function sideTotal (s: SideTally): number {
  return Object.values(s.bytes).reduce((a, b) => a + b, 0)
}

/**
 * Measurement only: the largest backlog of received-but-unread bytes any gossip stream
 * reached while tracking was on (bytes that arrived as stream 'message' events minus the
 * frames FramedStream has read). lpStream aborts a stream whose backlog exceeds 4 MiB.
 */
let backlog: { peak: number } | undefined
const originalRead = FramedStream.prototype.read
const seen = new WeakMap<FramedStream, { received: number, consumed: number }>()

FramedStream.prototype.read = async function (this: FramedStream) {
  const track = backlog
  if (track !== undefined && !seen.has(this)) {
    const s = { received: 0, consumed: 0 }
    seen.set(this, s)
    this.stream.addEventListener('message', evt => {
      s.received += evt.data.byteLength
      if (backlog !== undefined) backlog.peak = Math.max(backlog.peak, s.received - s.consumed)
    })
  }
  const msg = await originalRead.call(this)
  const s = seen.get(this)
  if (s !== undefined) s.consumed = this.bytesIn // the few bytes of length prefixes are left out
  return msg
}

export function trackBacklog (): { peak: number } {
  backlog = { peak: 0 }
  return backlog
}

export function stopBacklog (): number {
  const peak = backlog?.peak ?? 0
  backlog = undefined
  return peak
}
