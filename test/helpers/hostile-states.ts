/**
 * Well-formed states no honest history makes, for property tests of the join: any clock, and per
 * writer in it a version (with any deps up to the clock) or a head, as writers that lie about what
 * they saw or sign two writes under one dot can make them. Only states that pass what a received
 * state must pass (they decode, their overwrites are proven) are given; others map to undefined.
 */
import fc from 'fast-check'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { sha256 } from '../../src/core/hash.js'
import { unprovenHeads } from '../../src/core/overwrite-proof.js'
import type { Head, PatternState, Version } from '../../src/core/pattern.js'

export const WRITERS = ['a', 'b', 'c', 'd']

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

type Write = typeof writeArb extends fc.Arbitrary<infer T> ? T : never

/** A state from a clock and, per writer in it, a version (with deps up to the clock) or a head; undefined when it does not decode. */
function stateOf (key: string, counters: ReadonlyArray<number | undefined>, writes: readonly Write[]): PatternState | undefined {
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
    const s = decodePattern(encodePattern({ key, clock, versions, heads }))
    // what a node merges from a peer: a state whose overwrites are not proven is refused before
    return unprovenHeads(s).length === 0 ? s : undefined
  } catch {
    return undefined
  }
}

/** Such states of `key` (undefined for those that would be refused). */
export function hostileStateArb (key: string): fc.Arbitrary<PatternState | undefined> {
  const counters = fc.tuple(...WRITERS.map(() => fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined })))
  return fc.tuple(counters, fc.tuple(...WRITERS.map(() => writeArb))).map(([c, w]) => stateOf(key, c, w))
}
