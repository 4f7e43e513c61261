/**
 * Measurement only: while enabled, records every gossip frame the nodes in this process
 * write (FramedStream.writeRaw is wrapped; frames pass through unchanged), by message type
 * and by side (the initiator writes on the outbound stream). From the Patterns frames it
 * also sums the canonical pattern encodings, so metadata = payload - pattern bytes.
 */
import { FramedStream } from '../../src/node/gossip/framed.js'
import { Frame } from '../../src/protocol/gossip.js'

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
  return { frames: z(), bytes: z(), prefixBytes: 0, patterns: 0, patternBytes: 0 }
}

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 128); len++ }
  return len
}

let active: Tally | undefined
let decodePatterns = true
const original = FramedStream.prototype.writeRaw

FramedStream.prototype.writeRaw = async function (this: FramedStream, frame: Uint8Array): Promise<void> {
  if (active !== undefined) {
    const side = this.stream.direction === 'outbound' ? active.initiator : active.responder
    const type = TAGS[frame[0] ?? 0] ?? 'other'
    side.frames[type]++
    side.bytes[type] += frame.byteLength
    side.prefixBytes += varintLength(frame.byteLength)
    if (type === 'patterns' && decodePatterns) {
      const p = Frame.decode(frame).patterns
      for (const enc of p?.patterns ?? []) {
        side.patterns++
        side.patternBytes += enc.byteLength
      }
    }
  }
  await original.call(this, frame)
}

/** Starts recording (replacing any earlier tally). Pattern decoding can be turned off for bulk runs. */
export function startTap (opts: { decodePatterns?: boolean } = {}): Tally {
  decodePatterns = opts.decodePatterns ?? true
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
