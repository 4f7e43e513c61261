/**
 * The store's 8-byte big-endian numbers (change-feed seqs, the saved index's size) are the bytes
 * a BigInt encoding gives, for every safe integer, and a number past 2^53 is refused on read.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { putUint64, readUint64 } from '../../src/store/layout.js'

function reference (n: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

describe('store layout: 64-bit numbers', () => {
  it('writes and reads every safe integer as BigInt big-endian bytes, at any offset', () => {
    const edges = [0, 1, 255, 256, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 48, Number.MAX_SAFE_INTEGER]
    const number = fc.oneof(fc.constantFrom(...edges), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }))
    fc.assert(fc.property(number, fc.integer({ min: 0, max: 5 }), (n, offset) => {
      const out = new Uint8Array(offset + 8 + 3).fill(0xaa)
      putUint64(out, offset, n)
      assert.deepEqual(out.subarray(offset, offset + 8), reference(n))
      // nothing around the number is touched
      assert.ok(out.subarray(0, offset).every(b => b === 0xaa))
      assert.ok(out.subarray(offset + 8).every(b => b === 0xaa))
      assert.equal(readUint64(out, offset), n)
    }))
  })

  it('reads a number past the safe integers as undefined, and refuses a range without 8 bytes', () => {
    const big = new Uint8Array(8)
    new DataView(big.buffer).setBigUint64(0, 2n ** 53n)
    assert.equal(readUint64(big, 0), undefined)
    assert.equal(readUint64(new Uint8Array(8).fill(0xff), 0), undefined)
    assert.throws(() => readUint64(new Uint8Array(7), 0), RangeError)
    assert.throws(() => readUint64(new Uint8Array(9), 2), RangeError)
    assert.throws(() => putUint64(new Uint8Array(8), 1, 5), RangeError)
  })
})
