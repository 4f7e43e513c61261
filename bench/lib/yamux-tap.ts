/**
 * Measurement only: while enabled, records every Yamux frame that stream methods send
 * (data, window updates with their SYN/ACK/FIN/RST flags), by the side that sent it. With
 * Noise framing each frame costs 12 B of Yamux header + its data + 18 B of Noise (2-byte
 * length, 16-byte tag) on the wire when it goes out as a Noise message of its own, which is
 * how js-yamux writes them; the idle-round section checks that sum against the relay's count.
 */
import { YamuxStream } from '@chainsafe/libp2p-yamux/stream'

export type FrameKind = 'syn' | 'ack' | 'window-update' | 'fin' | 'rst' | 'multistream' | 'gossip'

export interface YamuxFrame {
  side: 'initiator' | 'responder'
  kind: FrameKind
  /** data bytes carried (0 for window updates) */
  length: number
}

const YAMUX_HEADER = 12
const NOISE_OVERHEAD = 18
const FLAG = { SYN: 1, ACK: 2, FIN: 4, RST: 8 }

let active: YamuxFrame[] | undefined

interface Header { type: number, flag: number, length: number }
type SendFrame = (header: Header, data?: { subarray: () => Uint8Array }) => boolean

function kindOf (h: Header, data: Uint8Array | undefined): FrameKind {
  if ((h.flag & FLAG.RST) !== 0) return 'rst'
  if ((h.flag & FLAG.SYN) !== 0) return 'syn'
  if ((h.flag & FLAG.ACK) !== 0) return 'ack'
  if ((h.flag & FLAG.FIN) !== 0 && h.type !== 0) return 'fin'
  if (h.type !== 0) return 'window-update'
  // multistream-select lines are length-prefixed "/..." strings; gossip frames start with a protobuf tag
  return data !== undefined && data[1] === 0x2f ? 'multistream' : 'gossip'
}

const proto = YamuxStream.prototype as unknown as Record<string, (...args: unknown[]) => unknown>
for (const method of ['sendData', 'sendWindowUpdate', 'sendCloseWrite', 'sendReset']) {
  const original = proto[method] as (...args: unknown[]) => unknown
  proto[method] = function (this: { sendFrame: SendFrame, direction: string }, ...args: unknown[]) {
    if (active === undefined) return original.apply(this, args)
    const frames = active
    const send = this.sendFrame
    const side = this.direction === 'outbound' ? 'initiator' : 'responder'
    this.sendFrame = (h, d) => {
      frames.push({ side, kind: kindOf(h, d?.subarray()), length: h.type === 0 ? h.length : 0 })
      return send(h, d)
    }
    try {
      return original.apply(this, args)
    } finally {
      this.sendFrame = send
    }
  }
}

export function startYamuxTap (): YamuxFrame[] {
  active = []
  return active
}

export function stopYamuxTap (): YamuxFrame[] {
  const f = active ?? []
  active = undefined
  return f
}

/** Wire bytes of a frame sent as a Noise message of its own. */
export function wireBytes (f: YamuxFrame): number {
  return YAMUX_HEADER + f.length + NOISE_OVERHEAD
}

/** Wire bytes by kind, both sides together, highest first. */
export function byKind (frames: YamuxFrame[]): Array<{ kind: FrameKind, frames: number, bytes: number }> {
  const m = new Map<FrameKind, { kind: FrameKind, frames: number, bytes: number }>()
  for (const f of frames) {
    const e = m.get(f.kind) ?? { kind: f.kind, frames: 0, bytes: 0 }
    e.frames++
    e.bytes += wireBytes(f)
    m.set(f.kind, e)
  }
  return [...m.values()].sort((a, b) => b.bytes - a.bytes)
}
