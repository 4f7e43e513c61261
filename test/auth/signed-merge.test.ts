/**
 * Property: random histories of signed writes (real Ed25519 keys), delivered in random orders
 * with duplicates, end byte-identical on every replica, and every state any replica ever holds
 * is one whose every write checks out: merges never produce a claim no writer signed.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { WriteVerifier } from '../../src/auth/write-verifier.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { arbCmd, run } from '../helpers/sim.js'
import { realAuthor } from '../helpers/authors.js'
import { randomDelivery } from '../helpers/delivery.js'

describe('merge of signed writes (property)', async () => {
  const writers = await Promise.all(Array.from({ length: 4 }, async () => await realAuthor()))

  it('random histories, random delivery with duplicates: replicas converge, and every state they hold verifies', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 3, max: 4 }).chain(n => fc.tuple(fc.constant(n), fc.array(arbCmd(n), { maxLength: 60 }), fc.infiniteStream(fc.nat()))),
      async ([n, cmds, rand]) => {
        const { replicas, sent } = run(n, cmds, writers)
        const all = replicas.flatMap(r => [...r.states.values()])
        for (const r of replicas) {
          const order = randomDelivery(all, rand)
          for (const s of order) r.receive(s)
        }
        const first = replicas[0]!.bytes()
        for (const r of replicas) assert.equal(r.bytes(), first)
        // as received over the wire: decoded from bytes, checked with a fresh verifier (nothing remembered)
        const held = [...sent, ...replicas.flatMap(r => [...r.states.values()])].map(s => decodePattern(encodePattern(s)))
        const { refused } = await new WriteVerifier('nobody', { cacheSize: 0 }).check(held)
        assert.deepEqual(refused.filter(x => x !== undefined).map(x => x?.message), [])
      }), { numRuns: 40 })
  })
})
