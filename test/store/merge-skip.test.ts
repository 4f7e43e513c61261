/**
 * Merges over the limits: concurrent writes whose content together is over a pattern's size are
 * merged, the largest kept without their content (the same on every node); crowds of writers over
 * what a pattern keeps merge by the writer rule; a state this node must not take is skipped and
 * reported while the rest of its set lands. The store never holds a
 * record its own decoder would refuse.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodePattern } from '../../src/core/encoding.js'
import { MAX_CLOCK_ENTRIES, MAX_COUNTER, MAX_PATTERN_BYTES, MAX_SUMMARY_BYTES, OWN_COUNTER_HEADROOM } from '../../src/core/limits.js'
import { mergePatterns } from '../../src/core/merge.js'
import { applyWrite, episodesOf, type PatternState } from '../../src/core/pattern.js'
import { Replica } from '../../src/store/replica.js'
import { replicaPerTest } from './helpers.js'
import { author } from '../helpers/authors.js'
import { mergeAll } from '../helpers/merges.js'

const ME = 'me'

/** episode ids of ~250 bytes: 2,500 of them take ~630 KB, two such sets are over 1 MiB */
const longIds = (node: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${node}-${i}-`.padEnd(250, 'x'))

/** `n` long episode ids written by `node` in one write */
function manyEpisodes (key: string, node: string, n: number): PatternState {
  return applyWrite(undefined, key, { addEpisodes: longIds(node, n), confidence: 0.5 }, author(node), 1)
}

/** a state whose clock names `n` nodes (`prefix`0 … ): `n` concurrent writes (at `counter`), merged */
function wideClock (key: string, prefix: string, n: number, counter = 1): PatternState {
  return mergeAll(Array.from({ length: n }, (_, i) => applyWrite(undefined, key, { confidence: 0.5 }, author(`${prefix}${i}`), counter)))
}

/** `n` concurrent writers with full-size summaries, merged */
function concurrentSummaries (key: string, prefix: string, n: number): PatternState {
  let s: PatternState | undefined
  for (let i = 0; i < n; i++) {
    const w = applyWrite(undefined, key, { confidence: 0.5, summary: String(i % 10).repeat(MAX_SUMMARY_BYTES) }, author(`${prefix}${i}`), 1)
    s = s === undefined ? w : mergePatterns(s, w)
  }
  return s as PatternState
}

describe('merges that break a limit', () => {
  const t = replicaPerTest(ME)

  it(`two clocks of ${MAX_CLOCK_ENTRIES} writers each: merged by the writer rule, stored, read back after a reopen`, async () => {
    const mine = wideClock('k', 'a', MAX_CLOCK_ENTRIES)
    const theirs = wideClock('k', 'b', MAX_CLOCK_ENTRIES)
    await t.replica.mergeRemote([mine])
    const other = applyWrite(undefined, 'other', { confidence: 0.25 }, author('c'), 1)
    const result = await t.replica.mergeRemote([theirs, other], [encodePattern(theirs), encodePattern(other)])
    assert.deepEqual(result.skipped, [])
    assert.deepEqual(result.changed.map(p => p.state.key).sort(), ['k', 'other'])
    const expected = encodePattern(mergePatterns(theirs, mine))
    assert.deepEqual(encodePattern(await t.replica.get('k') as PatternState), expected)
    await t.replica.close()
    t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
    assert.equal(t.replica.openReport.rebuilt, false)
    assert.deepEqual(t.replica.openReport.quarantined, [])
    assert.deepEqual(encodePattern(await t.replica.get('k') as PatternState), expected)
    assert.equal(t.replica.count, 2)
  })

  const closed: Array<[string, () => [PatternState, PatternState], number]> = [
    ['two writers of 2,500 long episode ids each (over 1 MiB together)', () => [manyEpisodes('k', 'a', 2500), manyEpisodes('k', 'b', 2500)], 2],
    ['64 concurrent writers with full summaries (over 1 MiB together)', () => [concurrentSummaries('k', 'a', 32), concurrentSummaries('k', 'b', 32)], 64]
  ]
  for (const [name, make, writers] of closed) {
    it(`${name}: merged within the limits (the largest kept without content), stored, read back after a reopen`, async () => {
      const [mine, theirs] = make()
      await t.replica.mergeRemote([mine])
      const result = await t.replica.mergeRemote([theirs], [encodePattern(theirs)])
      assert.deepEqual(result.skipped, [])
      const stored = await t.replica.get('k') as PatternState
      assert.equal(stored.versions.length, writers)
      assert.ok(stored.versions.some(v => v.stripped !== undefined))
      assert.ok(encodePattern(stored).length <= MAX_PATTERN_BYTES)
      // the same state whichever side it merged into
      assert.deepEqual(encodePattern(mergePatterns(theirs, mine)), encodePattern(stored))
      await t.replica.close()
      t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
      assert.deepEqual(t.replica.openReport.quarantined, [])
      assert.deepEqual(encodePattern(await t.replica.get('k') as PatternState), encodePattern(stored))
      // the next write saw it all: one full version again
      const next = await t.replica.write('k', { addEpisodes: ['fresh'], confidence: 0.5 })
      assert.equal(next.state.versions.length, 1)
      assert.equal(next.state.versions[0]?.stripped, undefined)
    })
  }

  it('700 writers, then 300 writing at once after a sync (their deps were over 1 MiB together): merged, stored, read back after a reopen', async () => {
    const base = wideClock('k', 'w', 700, 1_000_000)
    const writes = Array.from({ length: 300 }, (_, i) =>
      applyWrite(base, 'k', { removeEpisodes: episodesOf(base), addEpisodes: [`r${i}`], confidence: 0.5 }, author(`r${i}`), 1))
    const half = writes.slice(0, 150).reduce((a, b) => mergePatterns(a, b))
    await t.replica.mergeRemote([half])
    const rest = writes.slice(150).reduce((a, b) => mergePatterns(a, b))
    const result = await t.replica.mergeRemote([rest], [encodePattern(rest)])
    assert.deepEqual(result.skipped, [])
    const stored = await t.replica.get('k') as PatternState
    assert.equal(stored.versions.length, 300)
    assert.ok(stored.versions.every(v => v.depsOmitted !== undefined))
    assert.equal(episodesOf(stored).length, 300)
    assert.ok(encodePattern(stored).length <= MAX_PATTERN_BYTES)
    assert.deepEqual(encodePattern(mergePatterns(rest, half)), encodePattern(stored))
    await t.replica.close()
    t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
    assert.deepEqual(t.replica.openReport.quarantined, [])
    assert.deepEqual(encodePattern(await t.replica.get('k') as PatternState), encodePattern(stored))
    const next = await t.replica.write('k', { addEpisodes: ['fresh'] })
    assert.equal(next.state.versions.length, 1)
    assert.equal(next.state.versions[0]?.depsOmitted, undefined)
    assert.equal(episodesOf(next.state).length, 301)
  })

  it('two writers of 2,500 short episodes each: both versions stored and read back, 5,000 shown; a write must bring it under the limit', async () => {
    const short = (node: string): PatternState =>
      applyWrite(undefined, 'k', { addEpisodes: Array.from({ length: 2500 }, (_, i) => `${node}-${i}`), confidence: 0.5 }, author(node), 1)
    const result = await t.replica.mergeRemote([short('a'), short('b')])
    assert.deepEqual(result.skipped, [])
    await t.replica.close()
    t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
    const stored = await t.replica.get('k') as PatternState
    assert.equal(stored.versions.length, 2)
    assert.equal(episodesOf(stored).length, 5000)
    await assert.rejects(t.replica.write('k', { addEpisodes: ['more'] }), (err: Error) =>
      err.name === 'LimitExceededError' && /remove/.test(err.message))
    const fixed = await t.replica.write('k', { removeEpisodes: Array.from({ length: 1000 }, (_, i) => `a-${i}`) })
    assert.equal(episodesOf(fixed.state).length, 4000)
    assert.equal(fixed.state.versions.length, 1)
  })

  it('a state naming an event of this node near the counter limit is skipped: the node keeps writing, also after a restart', async () => {
    await t.replica.write('mine', { confidence: 0.5 })
    const forged = applyWrite(undefined, 'bait', { confidence: 0.5 }, author(ME), MAX_COUNTER)
    const other = applyWrite(undefined, 'other', { confidence: 0.5 }, author('c'), 1)
    const result = await t.replica.mergeRemote([forged, other], [encodePattern(forged), encodePattern(other)])
    assert.deepEqual(result.skipped.map(x => [x.key, x.error.name]), [['bait', 'CounterOutOfRangeError']])
    assert.deepEqual(result.changed.map(p => p.state.key), ['other'])
    assert.equal(result.counterRaised, undefined)
    assert.equal(t.replica.counter, 1)
    assert.equal((await t.replica.write('mine', { confidence: 0.6 })).state.clock.get(ME), 2)
    await t.replica.close()
    t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
    assert.equal((await t.replica.write('after-restart', { confidence: 0.6 })).state.clock.get(ME), 3)
  })

  it('a state naming a lost event of this node within range raises the counter, says so, and leaves the headroom', async () => {
    const highest = MAX_COUNTER - OWN_COUNTER_HEADROOM
    const remembered = applyWrite(undefined, 'lost', { confidence: 0.5 }, author(ME), highest)
    const result = await t.replica.mergeRemote([remembered])
    assert.deepEqual(result.skipped, [])
    assert.deepEqual(result.counterRaised, { from: 0, to: highest })
    const next = await t.replica.write('next', { confidence: 0.5 })
    assert.equal(next.state.clock.get(ME), highest + 1)
    assert.ok(MAX_COUNTER - (highest + 1) >= OWN_COUNTER_HEADROOM - 1)
  })
})
