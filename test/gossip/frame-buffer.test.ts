/**
 * The frame cutter of gossip streams (sans-IO): frames across and within chunks, limits
 * refused from the prefix alone, and chunks of many tiny pieces kept as one array each, so a
 * peer writing tiny frames cannot make the heap grow tens of times faster than its bytes.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Uint8ArrayList } from 'uint8arraylist'
import { FrameBuffer } from '../../src/gossip/frame-buffer.js'
import { ByteWriter } from '../../src/core/bytes.js'

const varint = (n: number): Uint8Array => new ByteWriter().varint(n).finish()
const framed = (body: Uint8Array): Uint8Array => new Uint8Array([...varint(body.length), ...body])

describe('FrameBuffer', () => {
  it('cuts frames that lie in one chunk, span chunks, or are still incomplete', () => {
    const fb = new FrameBuffer(1000)
    assert.equal(fb.take(), undefined, 'nothing yet')
    const a = framed(new Uint8Array([1, 2, 3]))
    const b = framed(new Uint8Array(300).fill(7))
    const both = new Uint8Array([...a, ...b])
    fb.append(both.subarray(0, 5)) // all of a, and the first byte of b's two-byte prefix
    assert.deepEqual(fb.take(), new Uint8Array([1, 2, 3]))
    assert.equal(fb.take(), undefined, 'b is cut inside its prefix')
    fb.append(both.subarray(5, 100))
    assert.equal(fb.take(), undefined, 'b is incomplete')
    fb.append(both.subarray(100))
    assert.deepEqual(fb.take(), new Uint8Array(300).fill(7))
    assert.equal(fb.byteLength, 0)
    fb.append(framed(new Uint8Array(0)))
    assert.deepEqual(fb.take(), new Uint8Array(0), 'an empty frame is a frame')
  })

  it('refuses a length over the limit, or a prefix longer than the limit\'s, before any of the frame comes', () => {
    const over = new FrameBuffer(1000)
    over.append(varint(1001))
    assert.throws(() => over.take(), { name: 'InvalidMessageError', message: /frame of 1001 bytes, over the limit of 1000/ })
    const long = new FrameBuffer(1000)
    long.append(new Uint8Array([0x80, 0x80, 0x80]))
    assert.throws(() => long.take(), { name: 'InvalidMessageError', message: /prefix longer than 2 bytes/ })
  })

  it('keeps a chunk of many tiny pieces as one array, and large pieces as they came', () => {
    const fb = new FrameBuffer(1000)
    const pieces = new Uint8ArrayList()
    for (let i = 0; i < 1000; i++) pieces.append(framed(new Uint8Array([i & 0xff])))
    const partsOf = (l: Uint8ArrayList): number => (l as unknown as { bufs: Uint8Array[] }).bufs.length
    assert.equal(partsOf(pieces), 1000)
    fb.append(pieces)
    const list = (fb as unknown as { list: Uint8ArrayList }).list
    assert.equal(partsOf(list), 1, 'one contiguous copy')
    for (let i = 0; i < 1000; i++) assert.deepEqual(fb.take(), new Uint8Array([i & 0xff]))
    assert.equal(fb.take(), undefined)
    // large pieces are kept as they came: no copy of a bulk transfer
    const roomy = new FrameBuffer(10_000)
    const big = framed(new Uint8Array(4000).fill(3))
    roomy.append(new Uint8ArrayList(big.subarray(0, 2000), big.subarray(2000)))
    assert.equal(partsOf((roomy as unknown as { list: Uint8ArrayList }).list), 2)
    assert.deepEqual(roomy.take(), new Uint8Array(4000).fill(3))
  })
})
