/**
 * Versions kept without their deps, as a peer may send them: the decoder takes only what the
 * deps rule can have made (and a v3 body), and a version without deps proves no overwrite unless
 * the rule left its deps out for sure, so one member cannot use one to make a standing write
 * of another node look overwritten.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { omitDeps } from '../../src/core/content-rule.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { mergePatterns } from '../../src/core/merge.js'
import { unprovenHeads } from '../../src/core/overwrite-proof.js'
import { applyWrite, episodesOf, headOf, type PatternState, type Version } from '../../src/core/pattern.js'
import { compareUtf8 } from '../../src/core/bytes.js'
import { author } from '../helpers/authors.js'

const KEY = 'k'

function crowd (n: number): PatternState {
  let s: PatternState | undefined
  for (let i = 0; i < n; i++) {
    const w = applyWrite(undefined, KEY, { confidence: 0.5, addEpisodes: [`w${i}`] }, author(`w${i}`), 1)
    s = s === undefined ? w : mergePatterns(s, w)
  }
  return s as PatternState
}

function rewrite (seen: PatternState, node: string): PatternState {
  return applyWrite(seen, KEY, { removeEpisodes: episodesOf(seen), addEpisodes: [node], confidence: 0.25 }, author(node), 1)
}

const refused = (s: PatternState, pattern: RegExp): void =>
  assert.throws(() => decodePattern(encodePattern(s)), (err: Error) => err.name === 'InvalidEncodingError' && pattern.test(err.message))

describe('versions without deps from a peer', () => {
  it('refuses a version without deps under a clock whose writers could not have outgrown the budget', () => {
    const s = rewrite(crowd(5), 'r')
    refused({ ...s, versions: [omitDeps(s.versions[0]!)] }, /lacks its deps/)
  })

  it('refuses a version that keeps deps the rule leaves out, and a v2 body without deps', () => {
    const base = crowd(300)
    const writes = Array.from({ length: 30 }, (_, i) => rewrite(base, `r${i}`))
    const merged = writes.reduce((a, b) => mergePatterns(a, b))
    assert.ok(merged.versions.every(v => v.depsOmitted !== undefined))
    assert.doesNotThrow(() => decodePattern(encodePattern(merged)))
    const full = writes[0]!.versions[0]!
    const versions = merged.versions.map(v => v.dot.node === full.dot.node ? full : v)
    refused({ ...merged, versions }, /keeps its deps against the rule/)
    const v2 = { ...omitDeps(full) } as Version & { depsByDigest?: true }
    delete v2.depsByDigest
    refused({ ...merged, versions: merged.versions.map(v => v.dot.node === full.dot.node ? v2 : v) }, /v2 body/)
  })

  it('refuses two versions by one writer (no join makes them; each would count the other out of its concurrent writers)', () => {
    const big = (counter: number): Version =>
      applyWrite(undefined, KEY, { confidence: 0.5, summary: String(counter).repeat(10_000) }, author('m'), counter).versions[0]!
    const other = headOf(applyWrite(undefined, KEY, { confidence: 0.5 }, author('o'), 1).versions[0]!)
    refused({ key: KEY, clock: new Map([['m', 2], ['o', 1]]), versions: [big(1), big(2)], heads: [other] }, /two versions by m/)
    // what a join makes of them: the later one
    const alone = (counter: number): PatternState => applyWrite(undefined, KEY, { confidence: 0.5 }, author('m'), counter)
    const joined = mergePatterns(alone(1), alone(2))
    assert.deepEqual(joined.versions.map(v => v.dot.counter), [2])
  })

  it('one member cannot make a standing write look overwritten by leaving out its own deps', () => {
    const base = crowd(100)
    const honest = mergePatterns(rewrite(base, 'victim'), rewrite(base, 'mallory'))
    assert.deepEqual(unprovenHeads(honest), [])
    const victim = honest.versions.find(v => v.dot.node === 'victim')!
    const mallory = honest.versions.find(v => v.dot.node === 'mallory')!
    for (const kept of [mallory, omitDeps(mallory)]) {
      const heads = [...honest.heads, headOf(victim)].sort((x, y) => compareUtf8(x.dot.node, y.dot.node))
      const swapped: PatternState = { ...honest, versions: [kept], heads }
      // it decodes (the clock is wide enough for a version without deps) ...
      const received = decodePattern(encodePattern(swapped))
      // ... but the victim's write is not proven overwritten, so the state is refused
      assert.ok(unprovenHeads(received).some(h => h.dot.node === 'victim'))
    }
  })
})
