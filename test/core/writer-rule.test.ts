/**
 * The writer rule (src/core/writer-rank.ts): a pattern keeps the writes of its MAX_CLOCK_ENTRIES
 * lowest-ranked writers. Crowds of writers in several partitions, merged in random orders with
 * duplicates on several replicas, end in the same bytes, every state on the way stores and
 * decodes, and the kept writers are the lowest-ranked of all. A new writer of a full key writes
 * when it ranks before the last kept one, and is told why when it does not.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compareBytes } from '../../src/core/bytes.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { MAX_CLOCK_ENTRIES, MAX_PATTERN_BYTES } from '../../src/core/limits.js'
import { mergePatterns } from '../../src/core/merge.js'
import { applyDelete, applyWrite, isDeleted, type PatternState } from '../../src/core/pattern.js'
import { lastKeptWriter, writerRank } from '../../src/core/writer-rank.js'
import { author } from '../helpers/authors.js'
import { mergeAll, replicasAfterDelivery } from '../helpers/merges.js'

const KEY = 'crowded'

/** `n` concurrent first writes by `prefix`0 …, merged */
function crowd (prefix: string, n: number, key = KEY): PatternState {
  const write = (i: number): PatternState =>
    applyWrite(undefined, key, { confidence: ((i % 9) + 1) / 10, addEpisodes: [`${prefix}${i}`] }, author(`${prefix}${i}`), 1)
  return mergeAll(Array.from({ length: n }, (_, i) => write(i)))
}

function roundTrips (s: PatternState): Uint8Array {
  const bytes = encodePattern(s)
  assert.ok(bytes.length <= MAX_PATTERN_BYTES, `${bytes.length} bytes`)
  assert.deepEqual(encodePattern(decodePattern(bytes)), bytes)
  return bytes
}

/** a node id not in `clock` that ranks before (or after) its last kept writer */
function newcomer (clock: ReadonlyMap<string, number>, before: boolean): string {
  const last = lastKeptWriter(KEY, clock)
  assert.ok(last !== undefined, 'the clock is full')
  for (let i = 0; i < 100_000; i++) {
    const id = `new${i}`
    if (clock.has(id)) continue
    if ((compareBytes(writerRank(KEY, id), last.rank) < 0) === before) return id
  }
  throw new Error('no newcomer found')
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('the writer rule', () => {
  it('crowds over the limit in partitions, merged in random orders with duplicates: same bytes everywhere, the lowest-ranked kept', () => {
    let depsLeftOut = 0
    fc.assert(fc.property(
      // always more writers than a pattern keeps (at least 3 × 350), so every run drops some
      fc.array(fc.integer({ min: 350, max: 500 }), { minLength: 3, maxLength: 4 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
      fc.infiniteStream(fc.nat()),
      (sizes, rewriters, rand) => {
        const groups = sizes.map((n, g) => crowd(`g${g}w`, n))
        const states = [...groups]
        // some writers write again after seeing their partition and a neighbour's: their deps name the crowd
        for (const [j, r] of rewriters.entries()) {
          const g = r % groups.length
          const seen = mergePatterns(groups[g]!, groups[(g + 1) % groups.length]!)
          const writer = `g${g}w${r % sizes[g]!}`
          if (seen.clock.has(writer)) states.push(applyWrite(seen, KEY, { addEpisodes: [`again${j}`] }, author(writer), 2 + j))
        }
        const finals = replicasAfterDelivery(states, rand, 3, roundTrips)
        const bytes = finals.map(s => hex(encodePattern(s)))
        assert.equal(new Set(bytes).size, 1)
        const all = new Set(sizes.flatMap((n, g) => Array.from({ length: n }, (_, i) => `g${g}w${i}`)))
        const expected = [...all].sort((a, b) => compareBytes(writerRank(KEY, a), writerRank(KEY, b))).slice(0, MAX_CLOCK_ENTRIES)
        assert.deepEqual([...finals[0]!.clock.keys()].sort(), expected.sort())
        if (finals[0]!.versions.some(v => v.depsOmitted !== undefined)) depsLeftOut++
      }), { numRuns: 6 })
    // a rewriter's deps name about a thousand writers, with hundreds writing concurrently: over the deps budget
    assert.ok(depsLeftOut > 0, 'some runs kept a rewrite without its deps (keepsDeps)')
  })

  it('a new writer of a full key that ranks before the last kept one writes, and the last one is dropped; one that ranks after is told why', () => {
    const full = crowd('w', MAX_CLOCK_ENTRIES)
    assert.equal(full.clock.size, MAX_CLOCK_ENTRIES)
    const last = lastKeptWriter(KEY, full.clock)!

    const early = newcomer(full.clock, true)
    const written = applyWrite(full, KEY, { addEpisodes: ['from the newcomer'] }, author(early), 1)
    assert.equal(written.clock.size, MAX_CLOCK_ENTRIES)
    assert.ok(written.clock.has(early) && !written.clock.has(last.node))
    assert.equal(written.versions.length, 1)
    assert.ok(written.versions[0]!.deps.has(last.node), 'the write names what it saw, the dropped writer included')
    const bytes = roundTrips(written)
    assert.equal(bytes[0], 3, 'written with the dropped writers table')
    // the dropped writer's old write, arriving late, changes nothing
    const stale = applyWrite(undefined, KEY, { confidence: 0.5, addEpisodes: ['stale'] }, author(last.node), 1)
    assert.deepEqual(encodePattern(mergePatterns(written, stale)), bytes)
    assert.deepEqual(encodePattern(mergePatterns(stale, written)), bytes)
    // and it may delete it too
    const gone = applyDelete(written, author(newcomer(written.clock, true)), 1)
    assert.ok(isDeleted(gone))
    roundTrips(gone)

    const late = newcomer(full.clock, false)
    assert.throws(() => applyWrite(full, KEY, { addEpisodes: ['x'] }, author(late), 1), (err: Error) =>
      err.name === 'LimitExceededError' && /ranks after them/.test(err.message) && /README/.test(err.message))
    assert.throws(() => applyDelete(full, author(late), 1), (err: Error) => err.name === 'LimitExceededError')
    // a writer the key keeps still writes it
    const kept = [...full.clock.keys()][0]!
    assert.equal(applyWrite(full, KEY, { addEpisodes: ['kept'] }, author(kept), 2).clock.size, MAX_CLOCK_ENTRIES)
  })

  it('two full clocks of different writers merge (they were skipped before): the lowest-ranked of both, the same either way', () => {
    const a = crowd('a', MAX_CLOCK_ENTRIES)
    const b = crowd('b', MAX_CLOCK_ENTRIES)
    const ab = mergePatterns(a, b)
    assert.deepEqual(encodePattern(ab), encodePattern(mergePatterns(b, a)))
    assert.equal(ab.clock.size, MAX_CLOCK_ENTRIES)
    assert.equal(ab.versions.length, MAX_CLOCK_ENTRIES)
    roundTrips(ab)
  })

  it('when every standing write was a dropped writer\'s, the state holds no version: it reads as deleted, stores, and takes a kept writer\'s write', () => {
    const base = crowd('w', MAX_CLOCK_ENTRIES - 1)
    const baseRanks = [...base.clock.keys()].map(n => writerRank(KEY, n)).sort(compareBytes)
    const find = (prefix: string, fits: (rank: Uint8Array) => boolean): string => {
      for (let i = 0; i < 1_000_000; i++) if (fits(writerRank(KEY, `${prefix}${i}`))) return `${prefix}${i}`
      throw new Error('none found')
    }
    // one writer overwrites the whole crowd, and ranks after all of it
    const overwriter = find('z', r => compareBytes(r, baseRanks.at(-1)!) > 0)
    const over = applyWrite(base, KEY, { addEpisodes: ['only'] }, author(overwriter), 1)
    // elsewhere two newcomers that rank early write, and a writer ranked after everyone overwrites them
    const median = baseRanks[baseRanks.length >> 1]!
    const newcomers = [find('n', r => compareBytes(r, median) < 0), find('m', r => compareBytes(r, median) < 0)]
    const dropper = find('d', r => compareBytes(r, writerRank(KEY, overwriter)) > 0)
    const newcomersWrites = mergeAll(newcomers.map(n => applyWrite(undefined, KEY, { confidence: 0.5 }, author(n), 1)))
    const theirs = applyWrite(newcomersWrites, KEY, { addEpisodes: ['d'] }, author(dropper), 1)
    const merged = mergePatterns(over, theirs)
    assert.deepEqual(encodePattern(merged), encodePattern(mergePatterns(theirs, over)))
    assert.equal(merged.clock.size, MAX_CLOCK_ENTRIES)
    assert.ok(!merged.clock.has(overwriter) && !merged.clock.has(dropper))
    assert.equal(merged.versions.length, 0)
    assert.ok(isDeleted(merged))
    roundTrips(merged)
    const rewritten = applyWrite(merged, KEY, { confidence: 0.7, addEpisodes: ['back'] }, author(newcomers[0]!), 2)
    assert.equal(rewritten.versions.length, 1)
    roundTrips(rewritten)
  })
})
