/**
 * One write with two signatures that both check: a hostile (or re-keyed, re-signing) writer can
 * sign a write again with a nonce of its own, and a check cannot tell the copies apart. Every node
 * must still end with the same bytes whichever copy it met first, or two nodes would hold different
 * states of the key forever and exchange it at every round.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { WriteVerifier } from '../../src/auth/write-verifier.js'
import { compareBytes } from '../../src/core/bytes.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { findWriterFaults } from '../../src/core/equivocation.js'
import { mergePatterns } from '../../src/core/merge.js'
import { applyWrite, type PatternState, type Version } from '../../src/core/pattern.js'
import { bodyDigest, writeMessage } from '../../src/core/write-digest.js'
import { realAuthor } from '../helpers/authors.js'
import { secondSignature } from '../helpers/second-signature.js'

type RealAuthor = Awaited<ReturnType<typeof realAuthor>>

/** `s` with its version `i` signed again (another valid signature of the same write). */
function resigned (s: PatternState, i: number, writer: RealAuthor): PatternState {
  const v = s.versions[i] as Version
  const sig = secondSignature(writer.privateKey, writeMessage(s.key, v.dot, bodyDigest(v)))
  assert.notDeepEqual(sig, v.sig)
  return decodePattern(encodePattern({ ...s, versions: s.versions.map((x, j) => j === i ? { ...x, sig } : x) }))
}

const larger = (a: Uint8Array, b: Uint8Array): Uint8Array => compareBytes(a, b) >= 0 ? a : b
const fold = (states: readonly PatternState[]): Uint8Array => encodePattern(states.reduce((m, s) => mergePatterns(m, s)))

async function refusals (states: PatternState[]): Promise<unknown[]> {
  const verifier = new WriteVerifier('self', { threads: 1 })
  try {
    return (await verifier.check(states)).refused
  } finally {
    verifier.close()
  }
}

describe('one write signed twice', () => {
  it('both copies check, and the join keeps the larger signature in either order (not an equivocation)', async () => {
    const alice = await realAuthor()
    const w = applyWrite(undefined, 'k', { addEpisodes: ['e1'], confidence: 0.9, summary: 's' }, alice, 1)
    const w2 = resigned(w, 0, alice)
    assert.deepEqual(await refusals([w, w2]), [undefined, undefined])
    const ab = mergePatterns(w, w2)
    assert.deepEqual(encodePattern(ab), encodePattern(mergePatterns(w2, w)))
    assert.deepEqual(ab.versions[0]?.sig, larger(w.versions[0]!.sig, w2.versions[0]!.sig))
    // idempotent on the result; the same write (one body) is reported as signed twice, not as two writes
    assert.deepEqual(encodePattern(mergePatterns(ab, w)), encodePattern(ab))
    assert.deepEqual(encodePattern(mergePatterns(w2, ab)), encodePattern(ab))
    for (const [x, y] of [[w, w2], [w2, w]] as const) {
      assert.deepEqual(findWriterFaults(x, y), { equivocations: [], doubleSigned: [{ key: 'k', dot: { node: alice.node, counter: 1 } }] })
    }
    assert.deepEqual(findWriterFaults(w, w), { equivocations: [], doubleSigned: [] })
    assert.deepEqual(findWriterFaults(ab, decodePattern(encodePattern(ab))), { equivocations: [], doubleSigned: [] })
  })

  it('its heads, once it is overwritten, agree the same way; any order of all copies ends in one state', async () => {
    const alice = await realAuthor()
    const bob = await realAuthor()
    const carol = await realAuthor()
    const w = applyWrite(undefined, 'k', { addEpisodes: ['e1'], confidence: 0.9 }, alice, 1)
    const w2 = resigned(w, 0, alice)
    // bob writes over each copy: the same write of his, over heads of alice's with other signatures
    const over = applyWrite(w, 'k', { addEpisodes: ['e2'] }, bob, 1)
    const over2 = applyWrite(w2, 'k', { addEpisodes: ['e2'] }, bob, 1)
    assert.equal(over.heads.length, 1)
    assert.notDeepEqual(over.heads[0]?.sig, over2.heads[0]?.sig)
    assert.deepEqual(await refusals([over, over2]), [undefined, undefined])
    const m = mergePatterns(over, over2)
    assert.deepEqual(encodePattern(m), encodePattern(mergePatterns(over2, over)))
    assert.deepEqual(m.heads[0]?.sig, larger(over.heads[0]!.sig, over2.heads[0]!.sig))
    // found among heads too, and against the version it was: alice's write, not bob's
    const faults = [findWriterFaults(over, over2), findWriterFaults(w2, over)]
    for (const f of faults) assert.deepEqual(f, { equivocations: [], doubleSigned: [{ key: 'k', dot: { node: alice.node, counter: 1 } }] })
    assert.deepEqual(findWriterFaults(w, over), { equivocations: [], doubleSigned: [] })
    // with a concurrent write by carol and the first copies, every delivery order gives the same bytes
    const concurrent = applyWrite(undefined, 'k', { addEpisodes: ['e3'], confidence: 0.5 }, carol, 1)
    const all = [w, w2, over, over2, concurrent]
    const first = fold(all)
    for (let i = 0; i < 40; i++) {
      const order = [...all].sort(() => Math.random() - 0.5)
      assert.deepEqual(fold(order), first, `order ${order.map(s => all.indexOf(s)).join(',')}`)
    }
    assert.deepEqual(await refusals([decodePattern(first)]), [undefined])
  })
})
