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
  it('holds at most its limit, and every one of the last half of what went in', () => {
    const cache = new VerifiedCache(1000)
    const message = new Uint8Array(32)
    for (let i = 0; i < 10_000; i++) {
      cache.set(`sig-${i}`, message)
      assert.ok(cache.size <= 1000, `size ${cache.size} after ${i + 1}`)
    }
    for (let i = 9_500; i < 10_000; i++) assert.equal(cache.get(`sig-${i}`), message)
    assert.equal(cache.get('sig-0'), undefined)
    const none = new VerifiedCache(0)
    none.set('x', message)
    assert.equal(none.get('x'), undefined)
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
