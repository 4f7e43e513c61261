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
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { sha256 } from '../../src/core/hash.js'
import { mergePatterns } from '../../src/core/merge.js'
import { unprovenHeads } from '../../src/core/overwrite-proof.js'
import { applyWrite, type Head, type PatternState, type Version } from '../../src/core/pattern.js'
import { author } from '../helpers/authors.js'

const WRITERS = ['a', 'b', 'c', 'd']
const hex = (s: PatternState): string => Buffer.from(encodePattern(s)).toString('hex')

const writeArb = fc.record({
  standing: fc.boolean(),
  deps: fc.tuple(...WRITERS.map(() => fc.nat(4))),
  deleted: fc.boolean(),
  confidence: fc.constantFrom(0, 0.5, 1),
  episodes: fc.subarray(['x', 'y', 'z']),
  summary: fc.option(fc.constantFrom('s', 't'), { nil: undefined }),
  sig: fc.nat(2),
  v3: fc.boolean(),
  body: fc.nat(3)
})

/** A state from a clock and, per writer in it, a version (with deps up to the clock) or a head; undefined when it does not decode. */
const stateArb = fc.tuple(fc.tuple(...WRITERS.map(() => fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }))),
  fc.tuple(...WRITERS.map(() => writeArb))).map(([counters, writes]): PatternState | undefined => {
  const clock = new Map<string, number>()
  counters.forEach((n, i) => { if (n !== undefined) clock.set(WRITERS[i]!, n) })
  if (clock.size === 0) clock.set('a', 1)
  const versions: Version[] = []
  const heads: Head[] = []
  const last = [...clock.keys()].at(-1)
  for (const [i, node] of WRITERS.entries()) {
    const counter = clock.get(node)
    const w = writes[i]!
    if (counter === undefined) continue
    if (w.standing || (versions.length === 0 && node === last)) {
      const deps = new Map<string, number>()
      w.deps.forEach((n, j) => {
        const other = WRITERS[j]!
        const d = Math.min(n, other === node ? counter - 1 : (clock.get(other) ?? 0))
        if (d > 0) deps.set(other, d)
      })
      versions.push({
        dot: { node, counter },
        deps,
        deleted: w.deleted,
        confidence: w.deleted ? 0 : w.confidence,
        ...(w.deleted || w.summary === undefined ? {} : { summary: w.summary }),
        episodes: w.deleted ? [] : [...w.episodes].sort(),
        sig: new Uint8Array(64).fill(w.sig),
        ...(w.v3 ? { depsByDigest: true as const } : {})
      })
    } else {
      heads.push({ dot: { node, counter }, body: sha256(Uint8Array.of(w.body)), sig: new Uint8Array(64).fill(w.sig) })
    }
  }
  try {
    const s = decodePattern(encodePattern({ key: 'k', clock, versions, heads }))
    // what a node merges from a peer: a state whose overwrites are not proven is refused before
    return unprovenHeads(s).length === 0 ? s : undefined
  } catch {
    return undefined
  }
})

function stores (s: PatternState): boolean {
  try {
    return hex(decodePattern(encodePattern(s))) === hex(s)
  } catch {
    return false
  }
}

describe('the join on states hostile writers can make', () => {
  it('is commutative, associative and idempotent; what it makes stores, or heals with one write on each side', () => {
    let merges = 0
    let apart = 0
    fc.assert(fc.property(fc.array(stateArb, { minLength: 3, maxLength: 8 }), fc.nat(), fc.nat(), fc.nat(), (list, i, j, k) => {
      const pool = list.filter((s): s is PatternState => s !== undefined)
      if (pool.length === 0) return
      const a = pool[i % pool.length]!
      const b = pool[j % pool.length]!
      const c = pool[k % pool.length]!
      const ab = mergePatterns(a, b)
      assert.equal(hex(ab), hex(mergePatterns(b, a)))
      assert.equal(hex(mergePatterns(a, mergePatterns(b, c))), hex(mergePatterns(ab, c)))
      assert.equal(hex(mergePatterns(a, a)), hex(a))
      assert.equal(hex(mergePatterns(ab, b)), hex(ab))
      merges++
      if (stores(ab)) return
      apart++
      // the node holding each side writes the key; the other side merges that write, writes over it, and both agree
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
    assert.ok(apart > 0, 'no merge of contradicting claims came up')
  })
})
