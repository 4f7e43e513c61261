import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  advanceClock, compareClocks, decodeClock, encodeClock, joinClocks, vectorClock
} from '../../src/core/vector-clock.js'
import { ByteWriter } from '../../src/core/bytes.js'

const arbClock = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'é'), fc.integer({ min: 0, max: 20 }))
  .map(o => vectorClock(o))

describe('vector clock', () => {
  it('compares before / after / equal / concurrent', () => {
    const a = vectorClock({ x: 1, y: 2 })
    assert.equal(compareClocks(a, vectorClock({ x: 1, y: 2 })), 'equal')
    assert.equal(compareClocks(a, vectorClock({ x: 2, y: 2 })), 'before')
    assert.equal(compareClocks(vectorClock({ x: 2, y: 2, z: 1 }), a), 'after')
    assert.equal(compareClocks(a, vectorClock({ x: 2, y: 1 })), 'concurrent')
    assert.equal(compareClocks(vectorClock({}), vectorClock({ q: 1 })), 'before')
    assert.equal(compareClocks(vectorClock({ x: 0 }), vectorClock({})), 'equal')
  })

  it('join is the pointwise max and an upper bound', () => {
    fc.assert(fc.property(arbClock, arbClock, (a, b) => {
      const j = joinClocks(a, b)
      assert.notEqual(compareClocks(j, a), 'before')
      assert.notEqual(compareClocks(j, b), 'before')
      assert.notEqual(compareClocks(j, a), 'concurrent')
      assert.deepEqual(encodeClock(j), encodeClock(joinClocks(b, a)))
    }))
  })

  it('advance refuses a counter that is not newer', () => {
    const c = advanceClock(vectorClock({}), 'n', 5)
    assert.equal(c.get('n'), 5)
    assert.throws(() => advanceClock(c, 'n', 5), RangeError)
    assert.throws(() => advanceClock(c, 'n', 0.5), RangeError)
  })

  it('round-trips its canonical encoding, equal clocks give equal bytes', () => {
    fc.assert(fc.property(arbClock, c => {
      const bytes = encodeClock(c)
      const back = decodeClock(bytes)
      assert.equal(compareClocks(back, c), 'equal')
      assert.deepEqual(encodeClock(back), bytes)
      assert.deepEqual(encodeClock(new Map([...c].reverse())), bytes)
    }))
  })

  it('rejects truncated, non-canonical and oversized encodings with named errors', () => {
    const good = encodeClock(vectorClock({ a: 300, b: 1 }))
    for (let i = 0; i < good.length; i++) {
      assert.throws(() => decodeClock(good.subarray(0, i)), { name: 'InvalidEncodingError' })
    }
    // out of order
    const w = new ByteWriter().varint(2).string('b').varint(1).string('a').varint(1)
    assert.throws(() => decodeClock(w.finish()), { name: 'InvalidEncodingError' })
    // zero counter is not canonical
    assert.throws(() => decodeClock(new ByteWriter().varint(1).string('a').varint(0).finish()), { name: 'InvalidEncodingError' })
    // a huge entry count is refused before anything is allocated
    assert.throws(() => decodeClock(new ByteWriter().varint(2 ** 40).finish()), { name: 'LimitExceededError' })
    // a count within the limit but beyond the bytes present
    assert.throws(() => decodeClock(new ByteWriter().varint(1000).finish()), { name: 'InvalidEncodingError' })
    // overlong varint and trailing bytes
    assert.throws(() => decodeClock(new Uint8Array([0x80, 0x00])), { name: 'InvalidEncodingError' })
    assert.throws(() => decodeClock(new Uint8Array([0, 0])), { name: 'InvalidEncodingError' })
    // a counter beyond 2^53
    assert.throws(() => decodeClock(new Uint8Array([1, 1, 97, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])), { name: 'InvalidEncodingError' })
  })

  it('never throws anything but named decode errors on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), bytes => {
      try {
        decodeClock(bytes)
      } catch (err: any) {
        assert.ok(['InvalidEncodingError', 'LimitExceededError'].includes(err.name), err.name)
      }
    }), { numRuns: 2000 })
  })
})
