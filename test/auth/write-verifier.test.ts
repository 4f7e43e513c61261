import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { WriteVerifier } from '../../src/auth/write-verifier.js'
import { applyDelete, applyWrite, headsOf, type PatternState, type Version } from '../../src/core/pattern.js'
import { bodyDigest, writeMessage } from '../../src/core/write-digest.js'
import { mergePatterns } from '../../src/core/merge.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { advanceClock } from '../../src/core/vector-clock.js'
import { omitDeps, stripContent } from '../../src/core/content-rule.js'
import { author, realAuthor } from '../helpers/authors.js'

describe('signed writes: every write a state names is checked against its writer\'s key', async () => {
  const [alice, bob, mallory] = await Promise.all([realAuthor(), realAuthor(), realAuthor()])
  const verifier = (trusted?: string[]): WriteVerifier => new WriteVerifier('self', trusted === undefined ? {} : { trusted: new Set(trusted) })
  const base = applyWrite(undefined, 'k', { addEpisodes: ['e1'], confidence: 0.9, summary: 's' }, alice, 1)

  it('takes honest states: one writer, concurrent writers, and overwritten writes kept as heads', async () => {
    const b = applyWrite(undefined, 'k', { addEpisodes: ['e2'], confidence: 0.7 }, bob, 1)
    const merged = mergePatterns(base, b)
    const over = applyWrite(merged, 'k', { removeEpisodes: ['e1'] }, bob, 2)
    const gone = applyDelete(over, alice, 3)
    assert.equal(headsOf(gone).length, 2)
    assert.equal(gone.heads.length, 1) // bob's write, overwritten by alice's delete
    const { refused } = await verifier().check([base, merged, over, gone].map(s => decodePattern(encodePattern(s))))
    assert.deepEqual(refused, [undefined, undefined, undefined, undefined])
  })

  it('refuses a write in another node\'s name with other content (re-sent dot, e.g. turned into a delete)', async () => {
    const v = base.versions[0]!
    const forged: PatternState = { ...base, versions: [{ ...v, deleted: true, confidence: 0, episodes: [], summary: undefined } as typeof v] }
    delete (forged.versions[0] as { summary?: string }).summary
    const { refused } = await verifier().check([decodePattern(encodePattern(forged)), base])
    assert.equal(refused[0]?.name, 'ForgedWriteError')
    assert.equal(refused[1], undefined) // one bad state does not stop the others
  })

  it('refuses a clock entry the named node never signed (frozen key, counter brick)', async () => {
    for (const counter of [1000, Number.MAX_SAFE_INTEGER]) {
      // mallory signs a write of its own that claims to have seen alice's write `counter`
      const deps = advanceClock(base.clock, alice.node, counter)
      const own = applyWrite({ ...base, clock: deps }, 'k', { confidence: 0.1 }, mallory, 1)
      // alice's head at `counter` must come from somewhere: mallory makes one up
      const fake = { dot: { node: alice.node, counter }, body: new Uint8Array(32).fill(7), sig: mallory.sign(new Uint8Array(32)) }
      const withHead: PatternState = { ...own, heads: [...own.heads, fake].sort((x, y) => x.dot.node < y.dot.node ? -1 : 1) }
      const { refused } = await verifier().check([decodePattern(encodePattern(withHead))])
      assert.equal(refused[0]?.name, 'ForgedWriteError')
      assert.match(refused[0]!.message, new RegExp(`${counter}@${alice.node}`))
    }
  })

  it('refuses a write by a node whose id carries no key it can check', async () => {
    const s = applyWrite(undefined, 'k', { confidence: 0.5 }, author('mallory'), 1)
    assert.equal((await verifier().check([s])).refused[0]?.name, 'UnverifiableWriterError')
  })

  it('with trusted writers, refuses alone each state holding another writer\'s write, and takes the rest', async () => {
    const byMallory = applyWrite(undefined, 'm', { confidence: 0.5 }, mallory, 1)
    const mixed = mergePatterns(base, applyWrite(undefined, 'k', { confidence: 0.2 }, mallory, 2))
    const { refused } = await verifier([alice.node, bob.node]).check([base, byMallory, mixed])
    assert.equal(refused[0], undefined)
    assert.equal(refused[1]?.name, 'UntrustedWriterError')
    assert.equal(refused[2]?.name, 'UntrustedWriterError')
    assert.match(refused[1]!.message, new RegExp(mallory.node))
  })

  it('takes a write kept without its deps or its content (v3 body: their count and digest are signed), not one with them altered', async () => {
    const over = applyWrite(mergePatterns(base, applyWrite(undefined, 'k', { addEpisodes: ['e2'], confidence: 0.7 }, bob, 1)), 'k',
      { addEpisodes: ['e3'] }, alice, 2)
    const v = over.versions[0]!
    assert.equal(v.depsByDigest, true)
    const forms = [omitDeps(v), stripContent(v), stripContent(omitDeps(v))]
    const states = forms.map(f => ({ ...over, versions: [f] }))
    const { refused } = await verifier().check(states)
    assert.deepEqual(refused, [undefined, undefined, undefined])
    const header = forms[0]!
    const altered = [
      { ...header, depsOmitted: { entries: header.depsOmitted!.entries + 1, digest: header.depsOmitted!.digest } },
      { ...header, depsOmitted: { entries: header.depsOmitted!.entries, digest: new Uint8Array(32) } }
    ]
    const r = await verifier().check(altered.map(f => ({ ...over, versions: [f] })))
    assert.deepEqual(r.refused.map(e => e?.name), ['ForgedWriteError', 'ForgedWriteError'])
  })

  it('still takes writes signed by earlier builds (v2 bodies, deps in full), stored or relayed, and refuses them altered', async () => {
    const v3 = applyWrite(undefined, 'old', { addEpisodes: ['e'], confidence: 0.5 }, alice, 7).versions[0]!
    const body = { deps: v3.deps, deleted: false, confidence: 0.5, episodes: ['e'] }
    const v2: Version = { dot: v3.dot, ...body, sig: alice.sign(writeMessage('old', v3.dot, bodyDigest(body))) }
    const state: PatternState = { key: 'old', clock: new Map([[alice.node, 7]]), versions: [v2], heads: [] }
    const stored = decodePattern(encodePattern(state))
    assert.equal(stored.versions[0]?.depsByDigest, undefined)
    assert.deepEqual(encodePattern(stored), encodePattern(state))
    const altered: PatternState = { ...state, versions: [{ ...v2, confidence: 0.6 }] }
    const { refused } = await verifier().check([stored, altered])
    assert.deepEqual(refused.map(e => e?.name), [undefined, 'ForgedWriteError'])
  })

  it('a valid signature moved to another key, counter or writer does not verify', async () => {
    const sig = base.versions[0]!.sig
    const moved = applyWrite(undefined, 'other', { addEpisodes: ['e1'], confidence: 0.9, summary: 's' }, alice, 1)
    const replay: PatternState = { ...moved, versions: [{ ...moved.versions[0]!, sig }] }
    assert.equal((await verifier().check([replay])).refused[0]?.name, 'ForgedWriteError')
  })
})
