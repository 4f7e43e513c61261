import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { applyDelete, applyWrite, confidenceOf, episodesOf, headOf, isDeleted, summaryOf, viewOf, type PatternState } from '../../src/core/pattern.js'
import { unprovenHeads } from '../../src/core/overwrite-proof.js'
import { mergeIncoming, mergePatterns } from '../../src/core/merge.js'
import { type Equivocation, findWriterFaults } from '../../src/core/equivocation.js'
import { bodyDigest } from '../../src/core/write-digest.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { arbCmd, run } from '../helpers/sim.js'
import { author } from '../helpers/authors.js'
import { randomDelivery } from '../helpers/delivery.js'
import { assertJoinLaws } from '../helpers/merges.js'

const hex = (s: PatternState): string => Buffer.from(encodePattern(s)).toString('hex')
const PERMUTATIONS3 = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]

describe('pattern merge', () => {
  it('seed counterexample: 0.9, 0.5, 0.1 concurrent give 0.5 in all 6 orders, one state', () => {
    const versions = [0.9, 0.5, 0.1].map((c, i) => applyWrite(undefined, 'k', { addEpisodes: [`e${i}`], confidence: c }, author(`n${i}`), 1))
    const results = new Set<string>()
    for (const [a, b, c] of PERMUTATIONS3) {
      // left fold and right fold both
      const left = mergePatterns(mergePatterns(versions[a!]!, versions[b!]!), versions[c!]!)
      const right = mergePatterns(versions[a!]!, mergePatterns(versions[b!]!, versions[c!]!))
      assert.equal(confidenceOf(left), 0.5)
      assert.equal(confidenceOf(right), 0.5)
      results.add(hex(left)).add(hex(right))
    }
    assert.equal(results.size, 1)
    // naive pairwise averaging would have given 0.4 or 0.6 for some orders
  })

  it('two concurrent versions 0.9 and 0.7 give 0.8, episodes united, clocks joined', () => {
    const base = applyWrite(undefined, 'k', { addEpisodes: ['e0'], confidence: 0.5 }, author('a'), 1)
    const x = applyWrite(base, 'k', { addEpisodes: ['e1'], confidence: 0.9 }, author('a'), 2)
    const y = applyWrite(base, 'k', { addEpisodes: ['e2'], confidence: 0.7 }, author('b'), 1)
    const m = mergePatterns(x, y)
    assert.ok(Math.abs(confidenceOf(m) - 0.8) < 1e-12)
    assert.deepEqual(episodesOf(m), ['e0', 'e1', 'e2'])
    assert.deepEqual(Object.fromEntries(m.clock), { a: 2, b: 1 })
    assert.equal(mergeIncoming(x, y).kind, 'concurrent')
  })

  it('a newer version replaces an older one whole; equal changes nothing', () => {
    const v1 = applyWrite(undefined, 'k', { addEpisodes: ['e1'], confidence: 0.2, summary: 'old' }, author('a'), 1)
    const v2 = applyWrite(v1, 'k', { removeEpisodes: ['e1'], addEpisodes: ['e2'], confidence: 0.6 }, author('b'), 7)
    const out = mergeIncoming(v1, v2)
    assert.equal(out.kind, 'newer')
    assert.equal(hex(out.state), hex(v2))
    assert.equal(mergeIncoming(v2, v1).kind, 'older')
    assert.equal(hex(mergeIncoming(v2, v1).state), hex(v2))
    assert.equal(mergeIncoming(v2, v2).kind, 'equal')
    assert.equal(summaryOf(v2), 'old') // summary kept when the write did not set it
    assert.equal(mergeIncoming(undefined, v2).kind, 'new')
  })

  it('a later write by anyone collapses concurrent versions', () => {
    const a = applyWrite(undefined, 'k', { confidence: 0.9 }, author('a'), 1)
    const b = applyWrite(undefined, 'k', { confidence: 0.1 }, author('b'), 1)
    const m = mergePatterns(a, b)
    assert.equal(m.versions.length, 2)
    const w = applyWrite(m, 'k', { addEpisodes: ['e'] }, author('c'), 1)
    assert.equal(w.versions.length, 1)
    assert.equal(confidenceOf(w), 0.5)
  })

  describe('removals (concurrent versions unite their episodes)', () => {
    const base = applyWrite(undefined, 'k', { addEpisodes: ['e1', 'e2'], confidence: 0.5 }, author('a'), 1)

    it('a removal holds against stale copies, and a later write that saw it keeps it removed', () => {
      const removed = applyWrite(base, 'k', { removeEpisodes: ['e1'] }, author('b'), 1)
      for (const m of [mergePatterns(removed, base), mergePatterns(base, removed)]) assert.deepEqual(episodesOf(m), ['e2'])
      const after = applyWrite(removed, 'k', { addEpisodes: ['e3'] }, author('c'), 1)
      assert.deepEqual(episodesOf(mergePatterns(after, base)), ['e2', 'e3'])
    })

    it('a removal concurrent with another write that still holds the episode: the union keeps it (the product rule)', () => {
      const removed = applyWrite(base, 'k', { removeEpisodes: ['e1'] }, author('b'), 1)
      const other = applyWrite(base, 'k', { addEpisodes: ['e3'] }, author('c'), 1) // concurrent, still carries e1
      for (const m of [mergePatterns(removed, other), mergePatterns(other, removed)]) {
        assert.deepEqual(episodesOf(m), ['e1', 'e2', 'e3'])
        assert.equal(m.versions.length, 2)
        // the next write sees the union and can remove it for good
        const next = applyWrite(m, 'k', { removeEpisodes: ['e1'] }, author('d'), 1)
        assert.deepEqual(episodesOf(mergePatterns(next, other)), ['e2', 'e3'])
      }
    })

    it('a delete that saw the writes wins and leaves a tombstone a stale copy cannot undo', () => {
      const later = applyWrite(base, 'k', { addEpisodes: ['e3'], confidence: 0.8 }, author('b'), 1)
      const deleted = applyDelete(later, author('c'), 1)
      assert.ok(isDeleted(deleted))
      for (const stale of [base, later]) {
        const m = mergeIncoming(deleted, stale)
        assert.equal(m.kind, 'older')
        assert.ok(isDeleted(m.state))
        assert.equal(hex(m.state), hex(deleted))
        assert.ok(isDeleted(mergePatterns(stale, deleted)))
      }
      assert.deepEqual(viewOf(deleted), { key: 'k', episodes: [], confidence: 0, summary: null, deleted: true, versions: 1, versionsWithoutContent: 0 })
    })

    it('delete vs concurrent update: the update survives, with the episodes it wrote', () => {
      const deleted = applyDelete(base, author('b'), 1)
      const update = applyWrite(base, 'k', { addEpisodes: ['e3'], confidence: 0.9 }, author('c'), 1)
      for (const m of [mergePatterns(deleted, update), mergePatterns(update, deleted)]) {
        assert.equal(isDeleted(m), false)
        assert.deepEqual(episodesOf(m), ['e1', 'e2', 'e3'])
        assert.equal(confidenceOf(m), 0.9) // the tombstone carries no confidence
        assert.equal(m.versions.length, 2)
      }
    })

    it('re-creating a deleted pattern needs a confidence and starts from the tombstone clock', () => {
      const deleted = applyDelete(base, author('b'), 1)
      assert.throws(() => applyWrite(deleted, 'k', { addEpisodes: ['x'] }, author('a'), 2), { name: 'InvalidPatternError' })
      const again = applyWrite(deleted, 'k', { addEpisodes: ['x'], confidence: 0.4 }, author('a'), 2)
      assert.equal(mergeIncoming(deleted, again).kind, 'newer')
      assert.ok(!isDeleted(mergePatterns(deleted, again)))
    })
  })

  it('rejects bad local input with named errors', () => {
    assert.throws(() => applyWrite(undefined, '', { confidence: 0.5 }, author('a'), 1), { name: 'InvalidPatternError' })
    assert.throws(() => applyWrite(undefined, 'k', { confidence: 1.5 }, author('a'), 1), { name: 'InvalidPatternError' })
    assert.throws(() => applyWrite(undefined, 'k', { confidence: Number.NaN }, author('a'), 1), { name: 'InvalidPatternError' })
    assert.throws(() => applyWrite(undefined, 'x'.repeat(600), { confidence: 0.5 }, author('a'), 1), { name: 'LimitExceededError' })
    assert.throws(() => applyWrite(undefined, 'k', { confidence: 0.5, addEpisodes: [''] }, author('a'), 1), { name: 'InvalidPatternError' })
    const k = applyWrite(undefined, 'k', { confidence: 0.5 }, author('a'), 1)
    const j = applyWrite(undefined, 'j', { confidence: 0.5 }, author('a'), 1)
    assert.throws(() => mergePatterns(k, j), { name: 'KeyMismatchError' })
  })
})

describe('merge is a join (property tests over random histories)', () => {
  it('replicas exchanging states in random orders with duplicates end byte-identical with equal roots', () => {
    fc.assert(fc.property(
      fc.integer({ min: 3, max: 5 }).chain(n => fc.tuple(fc.constant(n), fc.array(arbCmd(n), { maxLength: 80 }), fc.infiniteStream(fc.nat()))),
      ([n, cmds, rand]) => {
        const { replicas } = run(n, cmds)
        // final anti-entropy: every replica receives every replica's final states in its own
        // random order, each possibly twice
        const all = replicas.flatMap(r => [...r.states.values()])
        const finals = replicas.map(r => {
          const order = randomDelivery(all, rand)
          for (const s of order) r.receive(s)
          return r
        })
        const first = finals[0]!
        for (const r of finals) {
          assert.equal(r.bytes(), first.bytes())
          assert.deepEqual(r.index().root(), first.index().root())
        }
      }), { numRuns: 300 })
  })

  it('commutative, associative and idempotent on reachable states', () => {
    fc.assert(fc.property(
      fc.array(arbCmd(3), { minLength: 5, maxLength: 60 }),
      fc.nat(), fc.nat(), fc.nat(),
      (cmds, i, j, k) => {
        const { replicas, sent } = run(3, cmds)
        const pool = [...sent, ...replicas.flatMap(r => [...r.states.values()])].filter(s => s.key === 'k1')
        if (pool.length === 0) return
        assertJoinLaws(pool[i % pool.length]!, pool[j % pool.length]!, pool[k % pool.length]!)
      }), { numRuns: 500 })
  })

  it('commutative, associative and idempotent on any state that decodes: reachable states with bytes changed, as a hostile writer may sign them', () => {
    let mutants = 0
    fc.assert(fc.property(
      fc.array(arbCmd(3), { minLength: 5, maxLength: 60 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(3)), { minLength: 1, maxLength: 30 }),
      fc.nat(), fc.nat(), fc.nat(),
      (cmds, changes, i, j, k) => {
        const { replicas, sent } = run(3, cmds)
        const pool = [...sent, ...replicas.flatMap(r => [...r.states.values()])].filter(s => s.key === 'k1')
        if (pool.length === 0) return
        for (const [from, at, value, next] of changes) {
          const bytes = encodePattern(pool[from % pool.length]!).slice()
          const pos = at % bytes.length
          bytes[pos] = value
          if (next > 0 && pos + 1 < bytes.length) bytes[pos + 1] = (value * 7 + next) & 0xff
          let s: PatternState
          try {
            s = decodePattern(bytes)
          } catch (err: any) {
            assert.ok(['InvalidEncodingError', 'LimitExceededError'].includes(err.name), `${err.name}: ${err.message}`)
            continue
          }
          // anything accepted is canonical: a node stores a new state's bytes as they came
          assert.equal(hex(s), Buffer.from(bytes).toString('hex'))
          if (s.key !== 'k1') continue
          pool.push(s)
          mutants++
        }
        const ab = assertJoinLaws(pool[i % pool.length]!, pool[j % pool.length]!, pool[k % pool.length]!)
        // what the join makes is storable: it decodes to itself
        assert.equal(hex(decodePattern(encodePattern(ab))), hex(ab))
      }), { numRuns: 1500 })
    assert.ok(mutants > 1000, `only ${mutants} changed states decoded`)
  })
})

describe('overwrites are proven (overwrite-proof.ts)', () => {
  it('every state random honest histories reach, and every merge of two of them, has its heads seen by its versions', () => {
    let heads = 0
    fc.assert(fc.property(
      fc.array(arbCmd(4), { minLength: 5, maxLength: 60 }),
      fc.nat(), fc.nat(),
      (cmds, i, j) => {
        const { replicas, sent } = run(4, cmds)
        const pool = [...sent, ...replicas.flatMap(r => [...r.states.values()])]
        for (const s of pool) {
          assert.deepEqual(unprovenHeads(s), [])
          heads += s.heads.length
        }
        const same = pool.filter(s => s.key === pool[i % Math.max(1, pool.length)]?.key)
        if (same.length === 0) return
        const m = mergePatterns(same[i % same.length]!, same[j % same.length]!)
        assert.deepEqual(unprovenHeads(m), [])
      }), { numRuns: 300 })
    assert.ok(heads > 0, 'the histories overwrote writes')
  })

  it('a state that swaps a standing write for its head is unproven; one with a write that saw it is not', () => {
    const a = applyWrite(undefined, 'k', { confidence: 0.5, addEpisodes: ['a'] }, author('a'), 1)
    const b = applyWrite(undefined, 'k', { confidence: 0.5, addEpisodes: ['b'] }, author('b'), 1)
    const both = mergePatterns(a, b)
    assert.equal(both.versions.length, 2)
    const aVersion = both.versions.find(v => v.dot.node === 'a')!
    // a's write kept only as a head: "overwritten", by nobody
    const swapped: PatternState = { ...both, versions: both.versions.filter(v => v !== aVersion), heads: [headOf(aVersion)] }
    assert.deepEqual(unprovenHeads(swapped).map(h => h.dot), [aVersion.dot])
    // merged in, it would drop a's write everywhere
    assert.equal(mergePatterns(both, swapped).versions.length, 1)
    // a real overwrite by b names a's write in its deps
    const over = applyWrite(both, 'k', { addEpisodes: ['c'] }, author('b'), 2)
    assert.deepEqual(unprovenHeads(over), [])
  })
})

const equivocationsOf = (a: PatternState, b: PatternState): Equivocation[] => {
  const faults = findWriterFaults(a, b)
  assert.deepEqual(faults.doubleSigned, [])
  return faults.equivocations
}

describe('equivocation: two contents for one write', () => {
  const honest = applyWrite(undefined, 'k', { confidence: 0.5, summary: 's' }, author('w'), 1)
  const forged: PatternState = { ...honest, versions: [{ ...honest.versions[0]!, deleted: true, confidence: 0, episodes: [], sig: new Uint8Array(64) }] }

  it('is found with both contents\' digests, in byte order, whichever side holds which', () => {
    const one = equivocationsOf(honest, forged)
    const two = equivocationsOf(forged, honest)
    assert.equal(one.length, 1)
    assert.deepEqual(one[0]?.dot, { node: 'w', counter: 1 })
    assert.deepEqual(one, two)
    const [x, y] = one[0]!.digests
    assert.ok(Buffer.compare(x, y) < 0)
    assert.deepEqual(new Set([Buffer.from(x).toString('hex'), Buffer.from(y).toString('hex')]),
      new Set([honest.versions[0]!, forged.versions[0]!].map(v => Buffer.from(bodyDigest(v)).toString('hex'))))
  })

  it('is not reported for equal contents or for different writes', () => {
    assert.deepEqual(equivocationsOf(honest, honest), [])
    assert.deepEqual(equivocationsOf(honest, { ...honest }), [])
    const later = applyWrite(honest, 'k', { confidence: 0.7 }, author('w'), 2)
    assert.deepEqual(equivocationsOf(honest, later), [])
    const concurrent = applyWrite(undefined, 'k', { confidence: 0.9 }, author('v'), 1)
    assert.deepEqual(equivocationsOf(honest, concurrent), [])
  })

  it('is resolved the same way in any order (the join keeps one content)', () => {
    assert.deepEqual(encodePattern(mergePatterns(honest, forged)), encodePattern(mergePatterns(forged, honest)))
  })
})
