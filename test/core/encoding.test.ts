import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { decodePattern, encodePattern, keyHash, patternDigest } from '../../src/core/encoding.js'
import { applyWrite, applyDelete, episodesOf, viewOf } from '../../src/core/pattern.js'
import { mergePatterns } from '../../src/core/merge.js'
import { ByteWriter, compareUtf8 } from '../../src/core/bytes.js'
import { arbCmd, run } from '../helpers/sim.js'
import { author } from '../helpers/authors.js'

const DECODE_ERRORS = ['InvalidEncodingError', 'LimitExceededError']

describe('canonical pattern encoding', () => {
  const a = applyWrite(undefined, 'topic/é', { addEpisodes: ['e2', 'e1'], confidence: 0.9, summary: 'héllo' }, author('nodeA'), 3)
  const b = applyWrite(undefined, 'topic/é', { addEpisodes: ['e3'], confidence: 0.7 }, author('nodeB'), 1)
  const m = mergePatterns(a, b)

  it('round-trips every state and gives equal bytes and digests for equal states', () => {
    for (const s of [a, b, m, applyDelete(m, author('nodeC'), 1)]) {
      const bytes = encodePattern(s)
      const back = decodePattern(bytes)
      assert.deepEqual(encodePattern(back), bytes)
      assert.deepEqual(viewOf(back), viewOf(s))
      assert.deepEqual(patternDigest(back), patternDigest(s))
    }
    assert.deepEqual(encodePattern(mergePatterns(b, a)), encodePattern(m))
    assert.notDeepEqual(patternDigest(a), patternDigest(m))
  })

  it('round-trips random reachable states', () => {
    fc.assert(fc.property(fc.array(arbCmd(3), { maxLength: 50 }), cmds => {
      for (const r of run(3, cmds).replicas) {
        for (const s of r.states.values()) assert.deepEqual(encodePattern(decodePattern(encodePattern(s))), encodePattern(s))
      }
    }), { numRuns: 200 })
  })

  it('key hash is the sha256 of the key, independent of content', () => {
    assert.equal(Buffer.from(keyHash('abc')).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('rejects every truncation with a named error', () => {
    const bytes = encodePattern(m)
    for (let i = 0; i < bytes.length; i++) {
      assert.throws(() => decodePattern(bytes.subarray(0, i)), (err: Error) => DECODE_ERRORS.includes(err.name))
    }
    assert.throws(() => decodePattern(new Uint8Array([...bytes, 0])), { name: 'InvalidEncodingError' })
  })

  it('rejects states that are not well formed', () => {
    const base = (): ByteWriter => new ByteWriter().u8(1).string('k').varint(1).string('a').varint(2)
    // dot not covered by the clock
    assert.throws(() => decodePattern(base().varint(0).varint(1).varint(0).varint(5).u8(0).f64(0.5).finish()), { name: 'InvalidEncodingError' })
    // confidence out of range, NaN, -0
    for (const c of [1.5, Number.NaN, -0, -1]) {
      assert.throws(() => decodePattern(base().varint(0).varint(1).varint(0).varint(2).u8(0).f64(c).finish()), { name: 'InvalidEncodingError' })
    }
    // no versions
    assert.throws(() => decodePattern(base().varint(0).varint(0).finish()), { name: 'InvalidEncodingError' })
    // unknown flags, unknown format
    assert.throws(() => decodePattern(base().varint(0).varint(1).varint(0).varint(2).u8(8).finish()), { name: 'InvalidEncodingError' })
    assert.throws(() => decodePattern(new Uint8Array([2])), { name: 'InvalidEncodingError' })
    // episodes out of order
    const unordered = base().varint(2).string('b').varint(1).varint(0).varint(1).string('a').varint(1).varint(0).varint(1)
      .varint(1).varint(0).varint(2).u8(0).f64(0.5).finish()
    assert.throws(() => decodePattern(unordered), { name: 'InvalidEncodingError' })
  })

  it('refuses oversized input and huge counts before allocating', () => {
    assert.throws(() => decodePattern(new Uint8Array(2 * 1024 * 1024)), { name: 'LimitExceededError' })
    // a clock claiming 2^50 entries, an episode list claiming 10^6
    assert.throws(() => decodePattern(new ByteWriter().u8(2).string('k').varint(2 ** 50).finish()), { name: 'LimitExceededError' })
    assert.throws(() => decodePattern(new ByteWriter().u8(2).string('k').varint(1).string('a').varint(1).varint(1_000_000).finish()),
      { name: 'LimitExceededError' })
    assert.throws(() => decodePattern(new ByteWriter().u8(2).varint(1_000_000).finish()), { name: 'LimitExceededError' })
  })

  it('fuzz: random and mutated bytes only ever raise named decode errors', () => {
    const good = encodePattern(m)
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, v]) => { const x = good.slice(); x[i] = v; return x })
      ),
      bytes => {
        try {
          const s = decodePattern(bytes)
          assert.deepEqual(encodePattern(s), bytes) // anything accepted is canonical
        } catch (err: any) {
          assert.ok(DECODE_ERRORS.includes(err.name), `${err.name}: ${err.message}`)
        }
      }), { numRuns: 5000 })
  })
  it('compareUtf8 is UTF-8 byte order, surrogate pairs and lone surrogates included; keyHash hashes the UTF-8 bytes', () => {
    const units = ['a', 'z', '\u00e9', '\u0800', '\ud7ff', '\ue000', '\uffff', '\ud83d', '\ude00', '\udbff', '\udfff']
    const arbStr = fc.oneof(fc.string({ unit: fc.constantFrom(...units), maxLength: 5 }), fc.string({ unit: 'grapheme', maxLength: 5 }))
    const bytes = (s: string): Buffer => Buffer.from(new TextEncoder().encode(s))
    fc.assert(fc.property(arbStr, arbStr, fc.boolean(), (a, b, extend) => {
      const y = extend ? a + b : b
      assert.equal(Math.sign(compareUtf8(a, y)), Math.sign(Buffer.compare(bytes(a), bytes(y))))
      assert.equal(Buffer.compare(keyHash(a), createHash('sha256').update(bytes(a)).digest()), 0)
    }), { numRuns: 3000 })
  })

  it('ByteWriter.string writes the bytes TextEncoder makes, length first, for short and long, ASCII and not, lone surrogates too', () => {
    const units = ['a', '~', '\u007f', '\u0080', '\u00e9', '\u0800', '\uffff', '\ud83d', '\ude00']
    const arbStr = fc.oneof(fc.string({ unit: fc.constantFrom(...units), maxLength: 140 }), fc.string({ unit: 'grapheme', maxLength: 140 }),
      fc.string({ maxLength: 140 }))
    fc.assert(fc.property(fc.array(arbStr, { maxLength: 4 }), strings => {
      const w = new ByteWriter()
      const expected = new ByteWriter()
      for (const s of strings) {
        w.string(s)
        expected.bytes(new TextEncoder().encode(s))
      }
      assert.deepEqual(w.finish(), expected.finish())
    }), { numRuns: 3000 })
  })

  it('every well-formed text round-trips exactly (a leading U+FEFF included); a lone surrogate is refused at the write', () => {
    const units = ['a', '\uFEFF', '\u00e9', '\ud83d', '\ude00', '\uffff', '/']
    const arbText = fc.string({ unit: fc.constantFrom(...units), minLength: 1, maxLength: 6 })
    fc.assert(fc.property(arbText, arbText, arbText, (key, episode, summary) => {
      const write = (): ReturnType<typeof applyWrite> => applyWrite(undefined, key, { addEpisodes: [episode], confidence: 0.5, summary }, author('n'), 1)
      // the oracle: text whose UTF-8 round trip through Buffer is exact
      if (![key, episode, summary].every(t => Buffer.from(t, 'utf8').toString('utf8') === t)) {
        assert.throws(write, { name: 'InvalidPatternError' })
        return
      }
      const state = write()
      const back = decodePattern(encodePattern(state))
      assert.equal(back.key, key)
      assert.deepEqual(episodesOf(back), [episode])
      assert.equal(back.versions[0]?.summary, summary)
      assert.deepEqual(encodePattern(back), encodePattern(state))
    }), { numRuns: 2000 })
  })
})
