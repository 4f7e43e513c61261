/**
 * Two replicas on disk given the same states hostile writers can make (test/helpers/hostile-states.ts),
 * in other orders and batches, then exchanging what they hold as anti-entropy would: every key ends
 * with the same bytes on both, except where docs/protocol.md says a key stays apart until it is
 * written again ("Overwrites must be proven"): its two sides contradict each other (their join
 * keeps no version), or one side merged into a state whose overwrites are no longer proven, which
 * the other side refuses to take. Every record stored decodes and gives the stored root.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { mergePatterns } from '../../src/core/merge.js'
import { unprovenHeads } from '../../src/core/overwrite-proof.js'
import type { PatternState } from '../../src/core/pattern.js'
import { Replica } from '../../src/store/replica.js'
import { author } from '../helpers/authors.js'
import { hostileStateArb } from '../helpers/hostile-states.js'
import { stores } from '../helpers/merges.js'
import { removeDir, rootOf, tempDir } from './helpers.js'

const KEYS = ['k1', 'k2', 'k3']
const EXCHANGES = 4

const hex = (s: PatternState): string => Buffer.from(encodePattern(s)).toString('hex')

async function deliver (replica: Replica, states: readonly PatternState[], batch: number, withBytes: boolean): Promise<void> {
  for (let i = 0; i < states.length; i += batch) {
    const part = states.slice(i, i + batch)
    await replica.mergeRemote(part, withBytes ? part.map(encodePattern) : undefined)
  }
}

describe('replicas on disk given states hostile writers can make', () => {
  it('end with the same bytes for every key whose sides can be joined, in any order and batching', async () => {
    let apart = 0
    let keys = 0
    await fc.assert(fc.asyncProperty(
      fc.array(fc.oneof(...KEYS.map(hostileStateArb)), { minLength: 4, maxLength: 24 }),
      fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.boolean(),
      async (generated, batchA, batchB, withBytes) => {
        const states = generated.filter((s): s is PatternState => s !== undefined)
        const dirs = [await tempDir(), await tempDir()]
        const [a, b] = await Promise.all(dirs.map(async (dir, i) => await Replica.open({ dir, author: author(`replica-${i}`) })))
        try {
          await deliver(a!, states, batchA, withBytes)
          await deliver(b!, [...states].reverse(), batchB, !withBytes)
          for (let round = 0; round < EXCHANGES; round++) {
            await b!.mergeRemote(await a!.list())
            await a!.mergeRemote(await b!.list())
          }
          for (const r of [a!, b!]) {
            const held = await r.list()
            for (const s of held) assert.equal(hex(decodePattern(encodePattern(s))), hex(s))
            assert.deepEqual(r.root(), rootOf(held))
          }
          for (const key of KEYS) {
            const [x, y] = [await a!.get(key), await b!.get(key)]
            if (x === undefined && y === undefined) continue
            keys++
            assert.ok(x !== undefined && y !== undefined, `${key} is held on one side only`)
            if (hex(x) === hex(y)) continue
            apart++
            const refused = unprovenHeads(x).length > 0 || unprovenHeads(y).length > 0
            assert.ok(refused || !stores(mergePatterns(x, y)), `${key} differs though its sides join and both are proven`)
          }
        } finally {
          await Promise.all([a!.close(), b!.close()])
          await Promise.all(dirs.map(removeDir))
        }
      }), { numRuns: 150 })
    // most keys are compared byte for byte (those apart, with contradicting sides, are rare)
    assert.ok(keys - apart > 150, `only ${keys - apart} of ${keys} keys were compared`)
  })
})
