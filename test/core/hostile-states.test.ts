/**
 * The join on states no honest history makes: well-formed states built directly (any clock, any
 * versions with any deps, any heads), as writers that lie about what they saw or sign two writes
 * under one dot can make them, each passing the checks a received state gets (it decodes, its
 * overwrites are proven). The merge stays commutative, associative and idempotent on all of them.
 * Its result stores, except where the writers' claims contradict each other (a write that saw a
 * write that saw it): then the two sides stay apart until the key is written again, once on each
 * side, as docs/protocol.md says, and after that both end with the same state.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodePattern } from '../../src/core/encoding.js'
import { mergePatterns } from '../../src/core/merge.js'
import { unprovenHeads } from '../../src/core/overwrite-proof.js'
import { applyWrite, episodesOf, type PatternState } from '../../src/core/pattern.js'
import { repairWrite } from '../../src/core/repair-write.js'
import { author } from '../helpers/authors.js'
import { hostileStateArb } from '../helpers/hostile-states.js'
import { assertJoinLaws, stores } from '../helpers/merges.js'

const hex = (s: PatternState): string => Buffer.from(encodePattern(s)).toString('hex')
const stateArb = hostileStateArb('k')

describe('the join on states hostile writers can make', () => {
  it('is commutative, associative and idempotent; what it makes stores, or heals with one write on each side', () => {
    let merges = 0
    let apart = 0
    let unstorable = 0
    fc.assert(fc.property(fc.array(stateArb, { minLength: 3, maxLength: 8 }), fc.nat(), fc.nat(), fc.nat(), (list, i, j, k) => {
      const pool = list.filter((s): s is PatternState => s !== undefined)
      if (pool.length === 0) return
      const a = pool[i % pool.length]!
      const b = pool[j % pool.length]!
      const ab = assertJoinLaws(a, b, pool[k % pool.length]!)
      merges++
      if (stores(ab) && unprovenHeads(ab).length === 0) return
      apart++
      assertRepairs(a, b, ab)
      if (!stores(ab)) unstorable++
      if (stores(ab)) return
      // without a repair: the node holding each side writes the key; the other side merges that write, writes over it, and both agree
      for (const [here, there] of [[a, b], [b, a]] as const) {
        const first = applyWrite(here, 'k', { addEpisodes: ['h1'], confidence: 0.5 }, author('h1'), 1)
        const merged = mergePatterns(there, first)
        assert.equal(hex(merged), hex(mergePatterns(first, there)))
        assert.ok(stores(merged), 'a write over one side merges into the other')
        const second = applyWrite(merged, 'k', { addEpisodes: ['h2'], confidence: 0.5 }, author('h2'), 1)
        assert.deepEqual(unprovenHeads(second), [])
        assert.ok(stores(second))
        assert.equal(hex(mergePatterns(first, second)), hex(second))
        assert.equal(hex(mergePatterns(second, first)), hex(second))
      }
    }), { numRuns: 8000 })
    assert.ok(merges > 3000, `${merges} merges`)
    assert.ok(unstorable > 0, 'no merge of contradicting claims came up')
    assert.ok(apart > unstorable, 'no join with unproven heads came up')
  })
})

/**
 * What a node that holds both sides of a join it would not keep writes (repair-write.ts), checked
 * on a ⊔ b: the repair stores, proves every overwrite, and both sides take it whole; two nodes that
 * repair the same join each end, once they exchange, in one state that stores and is proven too.
 */
function assertRepairs (a: PatternState, b: PatternState, ab: PatternState): void {
  const r1 = repairWrite(ab, [a, b], author('r1'), 1)
  assert.ok(stores(r1), 'the repair stores')
  assert.deepEqual(unprovenHeads(r1), [])
  for (const side of [a, b, ab]) {
    assert.equal(hex(mergePatterns(side, r1)), hex(r1))
    assert.equal(hex(mergePatterns(r1, side)), hex(r1))
  }
  // no content is lost (these all fit): the episodes of the join's versions and of those it dropped as overwritten
  // (not the other write under an equivocated dot, which every node drops)
  const shown = new Set(episodesOf(r1))
  const held = new Set(ab.versions.map(v => `${v.dot.counter}@${v.dot.node}`))
  for (const v of [...ab.versions, ...a.versions, ...b.versions]) {
    const dropped = !held.has(`${v.dot.counter}@${v.dot.node}`)
    if (!v.deleted && (dropped || ab.versions.includes(v))) for (const e of v.episodes) assert.ok(shown.has(e), `episode ${e} kept`)
  }
  const r2 = repairWrite(mergePatterns(b, a), [b, a], author('r2'), 7)
  const both = assertJoinLaws(r1, r2, a)
  assert.ok(stores(both))
  assert.deepEqual(unprovenHeads(both), [])
  assert.equal(hex(mergePatterns(both, b)), hex(both))
}
