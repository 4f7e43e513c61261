/**
 * The cache of verified signatures stays within its limit however many pass through it, keeps
 * the most recent, and a write verifier checks a signature it has verified once no more.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { VerifiedCache } from '../../src/auth/verified-cache.js'
import { WriteVerifier } from '../../src/auth/write-verifier.js'
import { applyWrite } from '../../src/core/pattern.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { realAuthor } from '../helpers/authors.js'

describe('verified signatures are remembered, bounded', () => {
  const sigOf = (i: number): Uint8Array => {
    const sig = new Uint8Array(64)
    new DataView(sig.buffer).setUint32(0, i, true)
    return sig
  }

  it('holds at most its limit, and every one of the last half of what went in', () => {
    const cache = new VerifiedCache(1000)
    const message = new Uint8Array(32)
    for (let i = 0; i < 10_000; i++) {
      cache.set(sigOf(i), message)
      assert.ok(cache.size <= 1000, `size ${cache.size} after ${i + 1}`)
    }
    for (let i = 9_500; i < 10_000; i++) assert.ok(cache.has(sigOf(i), message), `signature ${i}`)
    assert.equal(cache.has(sigOf(0), message), false)
    const none = new VerifiedCache(0)
    none.set(sigOf(1), message)
    assert.equal(none.has(sigOf(1), message), false)
  })

  it('a hit needs the same signature and message: a signature that shares its slot, or another message, is not one', () => {
    const cache = new VerifiedCache(1000)
    const message = new Uint8Array(32).fill(7)
    const sig = sigOf(42)
    cache.set(sig, message)
    assert.ok(cache.has(sig.slice(), message.slice()))
    // the same first bytes (the slot), another signature: a forged one must still be checked
    const forged = sig.slice()
    forged[63] = 1
    assert.equal(cache.has(forged, message), false)
    // the top bits of the fourth byte are not in the slot either
    const high = sig.slice()
    high[3] = 0xc0
    assert.equal(cache.has(high, message), false)
    assert.equal(cache.has(sig, new Uint8Array(32)), false)
    assert.equal(cache.has(sig.subarray(0, 63), message), false)
  })

  it('a write verifier checks a signature once: the same states again cost no check, other states do', async () => {
    const alice = await realAuthor()
    const write = (i: number): ReturnType<typeof applyWrite> => applyWrite(undefined, `k${i}`, { addEpisodes: ['e'], confidence: 0.5 }, alice, i + 1)
    const states = Array.from({ length: 40 }, (_, i) => decodePattern(encodePattern(write(i))))
    const verifier = new WriteVerifier('self', { threads: 1 })
    const inner = (verifier as unknown as { ed25519: { verify: (items: unknown[]) => Promise<Uint8Array> } }).ed25519
    const asked: number[] = []
    const real = inner.verify.bind(inner)
    inner.verify = async items => { asked.push(items.length); return await real(items) }
    try {
      assert.deepEqual((await verifier.check(states.slice(0, 30))).refused, Array(30).fill(undefined))
      assert.deepEqual((await verifier.check(states)).refused, Array(40).fill(undefined))
      assert.deepEqual(asked, [30, 10])
    } finally {
      verifier.close()
    }
  })
})
