/**
 * Property: merges stay within the limits. Concurrent writers with random content sizes (up to
 * several times what a pattern may hold together), merged in random orders with duplicates on
 * several replicas: every replica ends with the same bytes, and every state any merge produced
 * encodes within MAX_PATTERN_BYTES and decodes back to itself. The versions that keep their
 * content are the same everywhere and fit CONTENT_BUDGET together.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { CONTENT_BUDGET, MAX_PATTERN_BYTES } from '../../src/core/limits.js'
import { mergePatterns } from '../../src/core/merge.js'
import { applyWrite, episodesOf, type PatternState } from '../../src/core/pattern.js'
import { contentOf } from '../../src/core/write-digest.js'
import { author } from '../helpers/authors.js'
import { replicasAfterDelivery } from '../helpers/merges.js'

/** one write of about `kb` KiB of episode ids by `node`, after seeing `seen` (if any: it replaces what it saw) */
function write (node: string, kb: number, seen: PatternState | undefined, counter: number): PatternState {
  const ids = Array.from({ length: Math.max(1, Math.floor(kb * 4)) }, (_, i) => `${node}-${counter}-${i}-`.padEnd(250, 'x'))
  const removeEpisodes = seen === undefined ? [] : episodesOf(seen)
  return applyWrite(seen, 'k', { removeEpisodes, addEpisodes: ids, confidence: ((kb % 10) + 1) / 11 }, author(node), counter)
}

function checkStorable (s: PatternState): void {
  const bytes = encodePattern(s)
  assert.ok(bytes.length <= MAX_PATTERN_BYTES, `${bytes.length} bytes`)
  assert.deepEqual(encodePattern(decodePattern(bytes)), bytes)
  const kept = s.versions.filter(v => !v.deleted && v.stripped === undefined).reduce((n, v) => n + contentOf(v).bytes, 0)
  assert.ok(kept <= CONTENT_BUDGET, `${kept} content bytes kept`)
}

describe('merges stay within the limits (property)', () => {
  it('random concurrent writes of random sizes, random merge orders with duplicates: same bytes everywhere, every state storable', () => {
    let stripped = 0
    let full = 0
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 2, maxLength: 9 }),
      fc.array(fc.nat(), { minLength: 0, maxLength: 3 }),
      fc.infiniteStream(fc.nat()),
      (sizes, rewrites, rand) => {
        // concurrent first writes, then a few writers write again after seeing part of the others
        const states = sizes.map((kb, i) => write(`w${i}`, kb, undefined, 1))
        for (const [j, r] of rewrites.entries()) {
          const w = r % sizes.length
          const seen = states.slice(0, 1 + (r % states.length)).reduce((a, b) => mergePatterns(a, b))
          states.push(write(`w${w}`, sizes[(w + j + 1) % sizes.length]!, seen, 2 + j))
        }
        const finals = replicasAfterDelivery(states, rand, 3, checkStorable)
        const bytes = finals.map(s => Buffer.from(encodePattern(s)).toString('hex'))
        assert.equal(new Set(bytes).size, 1)
        for (const v of finals[0]!.versions) v.stripped === undefined ? full++ : stripped++
        // a later write that saw it all is one full version again
        const next = applyWrite(finals[0], 'k', { addEpisodes: ['next'] }, author('reader'), 1)
        assert.equal(next.versions.length, 1)
        assert.equal(next.versions[0]?.stripped, undefined)
        assert.deepEqual(episodesOf(next), [...new Set([...episodesOf(finals[0]!), 'next'])].sort())
      }), { numRuns: 25 })
    // the runs did reach the rule both ways
    assert.ok(stripped > 0 && full > 0, `${stripped} versions kept without content, ${full} with`)
  })
})
