/**
 * The deps rule (keepsDeps in src/core/content-rule.ts): a key many nodes wrote, then written by
 * many at once, holds one deps clock per standing version, about writers × versions entries
 * together. Such merges used to pass 1 MiB and were skipped; now the versions whose deps the
 * budget cannot hold keep only their count and digest (signed body v3), on every node alike.
 * Merged in any order with duplicates: the same bytes everywhere, every state storable, the
 * heads' proof still taken where the rule left the deps out, and still refused where it did not.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { concurrentWriters, depsWeight, keepsDeps, omitDeps, stripContent } from '../../src/core/content-rule.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { CONTENT_BUDGET, DEPS_BUDGET, MAX_PATTERN_BYTES } from '../../src/core/limits.js'
import { unprovenHeads } from '../../src/core/overwrite-proof.js'
import { applyWrite, episodesOf, headOf, type PatternState, type Version } from '../../src/core/pattern.js'
import { bodyDigest, contentOf } from '../../src/core/write-digest.js'
import { author } from '../helpers/authors.js'
import { mergeAll, replicasAfterDelivery } from '../helpers/merges.js'

const KEY = 'k'

/** `n` concurrent writes by `prefix`0 … at counter `counter` (a node that wrote much has large counters), merged */
function crowd (prefix: string, n: number, counter: number): PatternState {
  return mergeAll(Array.from({ length: n }, (_, i) =>
    applyWrite(undefined, KEY, { confidence: 0.5, addEpisodes: [`${prefix}${i}`] }, author(`${prefix}${i}`), counter)))
}

/** a write by `node` after seeing `seen`: it replaces the episodes it saw with its own */
function rewrite (seen: PatternState, node: string, counter: number, episodes = 1): PatternState {
  const addEpisodes = Array.from({ length: episodes }, (_, i) => `${node}-${counter}-${i}`)
  return applyWrite(seen, KEY, { removeEpisodes: episodesOf(seen), addEpisodes, confidence: 0.25 }, author(node), counter)
}

function checkStorable (s: PatternState): Uint8Array {
  const bytes = encodePattern(s)
  assert.ok(bytes.length <= MAX_PATTERN_BYTES, `${bytes.length} bytes`)
  assert.deepEqual(encodePattern(decodePattern(bytes)), bytes)
  const withDeps = s.versions.filter(v => v.depsOmitted === undefined)
  const depsKept = withDeps.reduce((n, v) => n + depsWeight(v, s.clock), 0)
  assert.ok(depsKept <= DEPS_BUDGET, `${depsKept} of deps kept`)
  const content = s.versions.filter(v => !v.deleted && v.stripped === undefined).reduce((n, v) => n + contentOf(v).bytes, 0)
  assert.ok(content <= CONTENT_BUDGET, `${content} content bytes kept`)
  return bytes
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('deps of many concurrent writes (the deps rule)', () => {
  it('700 writers, then 300 writing at once after a sync (their deps over 1 MiB together): merged in any order, the same bytes, storable', () => {
    const base = crowd('w', 700, 1_000_000)
    const writes = Array.from({ length: 300 }, (_, i) => rewrite(base, `r${i}`, 1))
    // each version alone keeps its deps: one write is always storable
    for (const w of writes.slice(0, 3)) assert.equal(w.versions[0]?.depsOmitted, undefined)
    const rand = (function * () { let x = 7; for (;;) { x = (x * 1103515245 + 12345) % 2147483648; yield x } })()
    const finals = replicasAfterDelivery(writes, rand, 3, (s, step) => { if (step % 37 === 0) checkStorable(s) })
    const bytes = finals.map(s => hex(checkStorable(s)))
    assert.equal(new Set(bytes).size, 1)
    const final = finals[0]!
    assert.equal(final.versions.length, 300)
    assert.equal(final.heads.length, 700)
    // the deps went, the content (one short episode each) stays: every episode is still shown
    assert.ok(final.versions.every(v => v.depsOmitted !== undefined && v.stripped === undefined))
    assert.equal(episodesOf(final).length, 300)
    // with the deps left out for sure, the heads are taken without their proof
    assert.deepEqual(unprovenHeads(final), [])
    // the next write that saw it all is one full version again
    const next = rewrite(final, 'reader', 1)
    assert.equal(next.versions.length, 1)
    assert.equal(next.versions[0]?.depsOmitted, undefined)
    assert.equal(next.versions[0]?.deps.size, 1000)
  })

  it('the largest state honest writers make fits: 1,024 PeerId-long writers with counters near the limit, all writing again at once', () => {
    const ids = Array.from({ length: 1024 }, (_, i) => `12D3KooW${String(i).padStart(44, '0')}`)
    const first = mergeAll(ids.map((id, i) => applyWrite(undefined, KEY, { confidence: 0.5 }, author(id), 2 ** 52 + i)))
    // each keeps content just under what a version without deps may hold under 1,024 writers
    const again = ids.map((id, i) => applyWrite(first, KEY, {
      addEpisodes: [0, 1, 2].map(j => `${i}-${j}-`.padEnd(250, 'x')), confidence: 0.25
    }, author(id), 2 ** 53 - 1 - i))
    const final = mergeAll(again)
    assert.equal(final.versions.length, 1024)
    assert.ok(final.versions.every(v => v.depsOmitted !== undefined && v.stripped === undefined))
    const bytes = checkStorable(final)
    assert.ok(bytes.length > 900 * 1024, `${bytes.length} bytes: near the limit`)
  })

  it('random crowds and concurrent rewrites, random merge orders with duplicates: same bytes everywhere, every state storable', () => {
    let omitted = 0
    let kept = 0
    fc.assert(fc.property(
      fc.integer({ min: 40, max: 400 }),
      fc.array(fc.record({ seen: fc.nat(), episodes: fc.integer({ min: 1, max: 400 }) }), { minLength: 2, maxLength: 40 }),
      fc.constantFrom(1, 300, 5_000_000),
      fc.infiniteStream(fc.nat()),
      (writers, rewrites, counter, rand) => {
        // the crowd in four partitions; each rewriter saw some of them
        const parts = [0, 1, 2, 3].map(p => crowd(`p${p}w`, Math.ceil(writers / 4), counter))
        const states: PatternState[] = [...parts]
        for (const [j, r] of rewrites.entries()) {
          const seen = mergeAll(parts.slice(0, 1 + (r.seen % parts.length)))
          states.push(rewrite(seen, `r${j}`, 1, r.episodes))
        }
        const finals = replicasAfterDelivery(states, rand, 3, s => {
          checkStorable(s)
          assert.deepEqual(unprovenHeads(s), [])
        })
        assert.equal(new Set(finals.map(s => hex(encodePattern(s)))).size, 1)
        for (const v of finals[0]!.versions) v.depsOmitted === undefined ? kept++ : omitted++
      }), { numRuns: 12 })
    assert.ok(omitted > 0 && kept > 0, `${omitted} versions kept without deps, ${kept} with`)
  })

  it('a version keeps the same signed body digest without its deps or content, and only v3 bodies may leave their deps out', () => {
    const s = rewrite(crowd('w', 5, 9), 'r', 1)
    const v = s.versions[0]!
    const header = stripContent(omitDeps(v))
    assert.deepEqual(header.deps.size, 0)
    assert.equal(header.depsOmitted?.entries, 5)
    assert.deepEqual(bodyDigest(header), bodyDigest(v))
    assert.deepEqual(headOf(header), headOf(v))
    // a v2 body names its deps in full: its digest differs, and it never loses them
    const v2: Version = { ...v, depsByDigest: undefined }
    delete (v2 as { depsByDigest?: true }).depsByDigest
    assert.notDeepEqual(bodyDigest(v2), bodyDigest(v))
    assert.equal(omitDeps(v2), v2)
    assert.equal(keepsDeps(v2, new Map([...s.clock, ...Array.from({ length: 1000 }, (_, i) => [`x${i}`, 1] as const)])), true)
  })

  it('the rule only tightens as the clock grows: kept under a larger clock means kept under every smaller one', () => {
    const base = crowd('w', 300, 70_000)
    const v = rewrite(base, 'r', 1).versions[0]!
    let clock = new Map(base.clock).set('r', 1)
    let was = true
    for (let extra = 0; extra <= 40; extra++) {
      const now = keepsDeps(v, clock)
      assert.ok(was || !now, `kept again at ${extra} more writers`)
      if (!now) assert.ok((concurrentWriters(v, clock) + 1) * depsWeight(v, clock) > DEPS_BUDGET)
      was = now
      clock = new Map(clock).set(`c${extra}`, 1)
    }
    assert.equal(was, false, 'the rule was reached')
  })
})
