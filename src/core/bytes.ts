/**
 * Minimal canonical binary writer/reader: unsigned LEB128 varints, length-prefixed
 * UTF-8 strings, big-endian float64. The reader is strict (no overlong varints, no
 * reads past the end) and never allocates more than the bytes it was given.
 */
import { InvalidEncodingError, LimitExceededError } from './errors.js'

const textEncoder = new TextEncoder()
// ignoreBOM: keep a leading U+FEFF as the text it is; the default strips it, and a key that
// starts with one would not decode to itself
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** UTF-8 bytes as text, exactly: throws (TypeError) on invalid UTF-8 rather than substitute U+FFFD, keeps a leading U+FEFF. */
export function decodeUtf8 (b: Uint8Array): string {
  return textDecoder.decode(b)
}

export function utf8 (s: string): Uint8Array {
  return textEncoder.encode(s)
}

/**
 * Text whose UTF-8 round trip is exact: no lone surrogates (the encoder would write each as
 * U+FFFD, so the stored text would not be what was given).
 */
export function isWellFormedText (s: string): boolean {
  return !LONE_SURROGATE.test(s)
}

/** In a `u` regex a surrogate pair is one code point, so this matches only lone surrogates. */
const LONE_SURROGATE = /\p{Cs}/u

export function utf8Length (s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/**
 * Byte-wise comparison of the UTF-8 encodings: the canonical order on every node.
 * Hot (canonical encoding sorts and checks ids with it), so it compares code units and
 * encodes only in the rare cases where UTF-16 order may differ from UTF-8 byte order.
 */
export function compareUtf8 (a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // below the surrogates, code unit order is code point order, which is UTF-8 byte order
    if (x < 0xd800 && y < 0xd800) return x - y
    return compareEncoded(a, b)
  }
  // a prefix of the other, unless a trailing high surrogate encodes differently (U+FFFD alone)
  const last = n > 0 ? a.charCodeAt(n - 1) : 0
  if (last >= 0xd800 && last <= 0xdbff) return compareEncoded(a, b)
  return a.length - b.length
}

function compareEncoded (a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

/** Strings up to this many code units are checked for ASCII and copied by hand; longer ones go to the encoder. */
const ASCII_LOOP_MAX = 64

export class ByteWriter {
  private buf = new Uint8Array(256)
  private pos = 0

  private ensure (n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  u8 (v: number): this {
    this.ensure(1)
    this.buf[this.pos++] = v & 0xff
    return this
  }

  varint (v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`)
    this.ensure(8)
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.pos++] = v
    return this
  }

  bytes (b: Uint8Array): this {
    this.varint(b.length)
    return this.raw(b)
  }

  raw (b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }

  /** Writes the UTF-8 bytes in place (no encoded copy per string): ids and keys are mostly short ASCII. */
  string (s: string): this {
    const n = s.length
    if (n <= ASCII_LOOP_MAX) {
      let i = 0
      while (i < n && s.charCodeAt(i) < 0x80) i++
      if (i === n) {
        this.varint(n)
        this.ensure(n)
        for (let j = 0; j < n; j++) this.buf[this.pos++] = s.charCodeAt(j)
        return this
      }
    }
    // the same bytes TextEncoder writes (a lone surrogate as U+FFFD, which Buffer.byteLength counts alike)
    const len = Buffer.byteLength(s, 'utf8')
    this.varint(len)
    this.ensure(len)
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + len))
    if (written !== len) throw new RangeError(`utf-8 length of a string: ${written} bytes written, ${len} counted`)
    this.pos += len
    return this
  }

  f64 (v: number): this {
    this.ensure(8)
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, v, false)
    this.pos += 8
    return this
  }

  finish (): Uint8Array {
    return this.buf.slice(0, this.pos)
  }

  /** What was written, as a view (no copy): valid only until this writer writes again. */
  view (): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }

  /** Starts over, keeping the buffer: for a scratch writer that hashes what it writes at once. */
  reset (): this {
    this.pos = 0
    return this
  }
}

export class ByteReader {
  private pos = 0
  constructor (private readonly buf: Uint8Array, private readonly what = 'value') {}

  get remaining (): number {
    return this.buf.length - this.pos
  }

  private fail (msg: string): never {
    throw new InvalidEncodingError(`${this.what}: ${msg} at byte ${this.pos}`)
  }

  u8 (): number {
    if (this.pos >= this.buf.length) this.fail('truncated')
    return this.buf[this.pos++] as number
  }

  /** Canonical unsigned varint up to 2^53-1: rejects overlong forms and overflow. */
  varint (): number {
    let value = 0
    let mul = 1
    for (let i = 0; i < 8; i++) {
      const b = this.u8()
      value += (b & 0x7f) * mul
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) this.fail('overlong varint')
        if (!Number.isSafeInteger(value)) this.fail('varint overflow')
        return value
      }
      mul *= 0x80
    }
    this.fail('varint too long')
  }

  /** A count of items, each taking at least `minItemBytes`; checked against the limit and the bytes left. */
  count (max: number, minItemBytes: number, field: string): number {
    const n = this.varint()
    if (n > max) throw new LimitExceededError(`${this.what}: ${field} count ${n} exceeds limit ${max}`)
    if (n * minItemBytes > this.remaining) this.fail(`${field} count ${n} exceeds remaining bytes`)
    return n
  }

  bytes (maxLen: number, field: string): Uint8Array {
    const n = this.varint()
    if (n > maxLen) throw new LimitExceededError(`${this.what}: ${field} length ${n} exceeds limit ${maxLen}`)
    if (n > this.remaining) this.fail(`${field} truncated`)
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  raw (n: number, field: string): Uint8Array {
    if (n > this.remaining) this.fail(`${field} truncated`)
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  string (maxLen: number, field: string): string {
    const b = this.bytes(maxLen, field)
    try {
      return textDecoder.decode(b)
    } catch {
      this.fail(`${field} is not valid UTF-8`)
    }
  }

  f64 (): number {
    const b = this.raw(8, 'float64')
    return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, false)
  }

  /** bytes read so far */
  get position (): number {
    return this.pos
  }

  /** a view (no copy) of the input between two positions already read */
  view (start: number, end: number): Uint8Array {
    return this.buf.subarray(start, end)
  }

  end (): void {
    if (this.pos !== this.buf.length) this.fail(`${this.buf.length - this.pos} trailing bytes`)
  }
}
