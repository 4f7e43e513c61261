/**
 * The bytes a gossip stream received and we have not read, cut into length-prefixed frames
 * (unsigned LEB128 length, then the frame). Sans-IO: the stream appends, the reader takes.
 *
 * A muxer hands on data as a list of the pieces it arrived in, and a peer writing tiny frames
 * makes those pieces a few bytes each: kept as they came, every few bytes would cost a typed
 * array and a backing store (tens of times their size in heap), and consuming from a list of
 * hundreds of thousands of pieces is quadratic. A chunk of many small pieces is copied into one
 * array, so the heap stays proportional to the bytes; large pieces are kept without a copy.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { InvalidMessageError } from './errors.js'

/** unsigned LEB128, the length prefix of every frame */
export function encodeVarint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}

/** bytes the length prefix of `n` takes */
export function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 0x80); len++ }
  return len
}

/** pieces smaller than this cost more in objects than in bytes… */
const MIN_PIECE_BYTES = 1024
/** …and a chunk with more of them than this is copied into one array */
const MAX_SMALL_PIECES = 8

export class FrameBuffer {
  private readonly list = new Uint8ArrayList()
  /** a longer prefix is refused before its value is known */
  private readonly maxPrefix: number

  constructor (private readonly maxFrameBytes: number) {
    this.maxPrefix = varintLength(maxFrameBytes)
  }

  /** bytes received and not yet taken as frames */
  get byteLength (): number {
    return this.list.byteLength
  }

  append (data: Uint8Array | Uint8ArrayList): void {
    if (data.byteLength === 0) return
    if (data instanceof Uint8Array) {
      this.list.append(data)
      return
    }
    // pieces of a useful size are kept as they are (no copy); many small ones become one
    let pieces = 0
    for (const piece of data) {
      if (piece.byteLength < MIN_PIECE_BYTES && ++pieces > MAX_SMALL_PIECES) {
        this.list.append(data.subarray())
        return
      }
    }
    this.list.append(data)
  }

  /**
   * The next whole frame (without its prefix), or undefined while it is incomplete. Throws
   * InvalidMessageError for a prefix longer than the limit's or a length over the limit, as
   * soon as the prefix shows it: no byte of such a frame is waited for.
   */
  take (): Uint8Array | undefined {
    let length = 0
    let scale = 1
    let prefix = 0
    for (;;) {
      if (prefix >= this.list.byteLength) return undefined
      const b = this.list.get(prefix++)
      length += (b & 0x7f) * scale
      if (b < 0x80) break
      if (prefix >= this.maxPrefix) throw new InvalidMessageError(`frame length prefix longer than ${this.maxPrefix} bytes`)
      scale *= 0x80
    }
    if (length > this.maxFrameBytes) throw new InvalidMessageError(`frame of ${length} bytes, over the limit of ${this.maxFrameBytes}`)
    const end = prefix + length
    if (this.list.byteLength < end) return undefined
    // a view when the frame lies in one chunk, one copy when it spans several
    const frame = this.list.subarray(prefix, end)
    this.list.consume(end)
    return frame
  }
}
