/**
 * Two replicas on disk given the same states hostile writers can make (test/helpers/hostile-states.ts),
 * in other orders and batches, then exchanging what they hold as anti-entropy would: every key ends
 * with the same bytes on both, and no replica holds a state another would refuse. A join that
 * would not store (sides that contradict each other) or would keep heads no version saw is written
 * over by the replica that meets it (repair-write.ts). Without repairs (a node whose counter is not
 * confirmed yet), such a key stays apart until it is written again, as docs/protocol.md says
 * ("Overwrites must be proven"). Every record stored decodes and gives the stored root.
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

interface Run {
  keys: number
  apart: number
  repairs: number
}

/** One run of the property: with or without repairs, `check` judges each key the two replicas hold. */
async function exchange (repairs: boolean, runs: number, check: (x: PatternState | undefined, y: PatternState | undefined) => boolean): Promise<Run> {
  const run: Run = { keys: 0, apart: 0, repairs: 0 }
  await fc.assert(fc.asyncProperty(
    fc.array(fc.oneof(...KEYS.map(hostileStateArb)), { minLength: 4, maxLength: 24 }),
    fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.boolean(),
    async (generated, batchA, batchB, withBytes) => {
      const states = generated.filter((s): s is PatternState => s !== undefined)
      const dirs = [await tempDir(), await tempDir()]
      const [a, b] = await Promise.all(dirs.map(async (dir, i) => await Replica.open({ dir, author: author(`replica-${i}`), repairs: () => repairs })))
      const merge = async (r: Replica, part: readonly PatternState[], bytes?: Uint8Array[]): Promise<void> => {
        run.repairs += (await r.mergeRemote(part, bytes)).repaired.length
      }
      try {
        for (const [r, order, batch, bytes] of [[a!, states, batchA, withBytes], [b!, [...states].reverse(), batchB, !withBytes]] as const) {
          for (let i = 0; i < order.length; i += batch) {
            const part = order.slice(i, i + batch)
            await merge(r, part, bytes ? part.map(encodePattern) : undefined)
          }
        }
        for (let round = 0; round < EXCHANGES; round++) {
          await merge(b!, await a!.list())
          await merge(a!, await b!.list())
        }
        for (const r of [a!, b!]) {
          const held = await r.list()
          for (const s of held) assert.equal(hex(decodePattern(encodePattern(s))), hex(s))
          // with repairs, nothing held is a state another node would refuse
          if (repairs) for (const s of held) assert.deepEqual(unprovenHeads(s), [], `${s.key} keeps a head no version saw`)
          assert.deepEqual(r.root(), rootOf(held))
        }
        for (const key of KEYS) {
          const [x, y] = [await a!.get(key), await b!.get(key)]
          if (x === undefined && y === undefined) continue
          run.keys++
          if (x !== undefined && y !== undefined && hex(x) === hex(y)) continue
          run.apart++
          assert.ok(check(x, y), `${key} differs, or is held on one side only`)
        }
      } finally {
        await Promise.all([a!.close(), b!.close()])
        await Promise.all(dirs.map(removeDir))
      }
    }), { numRuns: runs })
  return run
}

describe('replicas on disk given states hostile writers can make', () => {
  it('end with the same bytes for every key, in any order and batching, each state proven: joins no node would keep are written over', async () => {
    const run = await exchange(true, 150, () => false)
    assert.ok(run.keys > 150, `only ${run.keys} keys were compared`)
    assert.ok(run.repairs > 0, 'no join had to be written over')
  })

  it('without repairs, keep apart only keys whose sides contradict or where a side is not proven', async () => {
    // a side the other refuses (its overwrites are not proven: then the other may hold nothing of the key), or sides that do not join
    const refused = (s: PatternState | undefined): boolean => s !== undefined && unprovenHeads(s).length > 0
    const run = await exchange(false, 100, (x, y) => refused(x) || refused(y) || (x !== undefined && y !== undefined && !stores(mergePatterns(x, y))))
    assert.equal(run.repairs, 0)
    // most keys are compared byte for byte (those apart are rare)
    assert.ok(run.keys - run.apart > 100, `only ${run.keys - run.apart} of ${run.keys} keys were compared`)
  })
})
