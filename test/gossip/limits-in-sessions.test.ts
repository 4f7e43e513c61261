/**
 * Sessions over keys at the limits: two crowds of writers over what a pattern keeps converge by
 * the writer rule, concurrent writes over a pattern's size merge within it (content, and the deps
 * of many writers writing at once), and a key this node
 * must not take (its own event at the counter limit) is skipped while the others move. Real
 * nodes over TCP.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startEngram, stopEngrams, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { internalsOf } from '../../src/node/internals.js'
import { applyWrite, type PatternState } from '../../src/core/pattern.js'
import { author, realAuthor } from '../helpers/authors.js'
import { mergeAll } from '../helpers/merges.js'
import { MAX_CLOCK_ENTRIES } from '../../src/core/limits.js'
import { mergePatterns } from '../../src/core/merge.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'

/** one key written concurrently by `n` new writers (real keys), merged */
async function wideClock (key: string, n: number): Promise<PatternState> {
  const writers = await Promise.all(Array.from({ length: n }, async () => await realAuthor()))
  return mergeAll(writers.map(w => applyWrite(undefined, key, { confidence: 0.5 }, w, 1)))
}

describe('sessions over keys at the limits', () => {
  const nodes: TestEngram[] = []
  after(async () => { await stopEngrams(nodes) })

  it('two nodes each holding a key of 1,024 other writers converge on it by the writer rule, and move the rest', async () => {
    const a = await startEngram()
    const b = await startEngram({ join: [a.node.addresses()[0]!] })
    nodes.push(a, b)
    // each holds one key written by 1,024 other writers (signed, real keys): together over what a pattern keeps
    const [onA, onB] = [await wideClock('crowded', MAX_CLOCK_ENTRIES), await wideClock('crowded', MAX_CLOCK_ENTRIES)]
    await internalsOf(a.node).replica.mergeRemote([onA])
    await internalsOf(b.node).replica.mergeRemote([onB])
    await a.node.putMany(Array.from({ length: 50 }, (_, i) => ({ key: `fine/${i}`, op: { addEpisodes: [`e${i}`], confidence: 0.5 } })))
    await b.node.put('from-b', { confidence: 0.3 })
    await waitFor(async () => (await internalsOf(b.node).gossip.gossipPeers()).length === 1, { timeout: 10_000 })

    const dropped = [new Set<string>(), new Set<string>()]
    for (const [i, n] of [a, b].entries()) {
      n.node.addEventListener('writers-dropped', ev => { if (ev.detail.key === 'crowded') for (const w of ev.detail.writers) dropped[i]!.add(w) })
    }
    // sync on connect may have run the session already
    const r = await b.node.syncNow(a.node.peerId.toString())
    assert.ok(r.outcome === 'synced' || r.outcome === 'in-sync', JSON.stringify(r))
    for (let i = 0; i < 50; i++) assert.ok(await b.node.get(`fine/${i}`), `fine/${i} on b`)
    await waitFor(async () => (await a.node.get('from-b')) !== undefined, { timeout: 5_000, message: 'b\'s pattern on a' })
    // both hold the same state of the key: the 1,024 lowest-ranked of the 2,048 writers
    const expected = encodePattern(mergePatterns(onA, onB))
    const stored = async (n: TestEngram): Promise<Uint8Array> => encodePattern(await internalsOf(n.node).replica.get('crowded') as PatternState)
    await waitFor(async () => Buffer.from(await stored(a)).equals(expected), { timeout: 5_000, message: 'the key on a' })
    assert.deepEqual(await stored(b), expected)
    assert.equal((await a.node.get('crowded'))?.versions, MAX_CLOCK_ENTRIES)
    // each node said whom it left out: of the writers it held, those the merged state does not keep
    const kept = decodePattern(expected).clock
    for (const [i, held] of [onA, onB].entries()) {
      assert.deepEqual([...dropped[i]!].filter(w => held.clock.has(w)).sort(), [...held.clock.keys()].filter(w => !kept.has(w)).sort())
      assert.ok(dropped[i]!.size > 0 && [...dropped[i]!].every(w => !kept.has(w)))
    }
    // sessions moved the key between them, and none skipped it
    const rounds = [...internalsOf(a.node).gossip.lastRounds, ...internalsOf(b.node).gossip.lastRounds]
    assert.ok(rounds.some(x => x.outcome === 'synced' && x.patternsChanged > 0), JSON.stringify(rounds))
    assert.deepEqual(rounds.filter(x => x.patternsSkipped > 0), [])
    // and the next session finds the two in sync
    const again = await b.node.syncNow(a.node.peerId.toString())
    assert.equal(again.outcome, 'in-sync', JSON.stringify(again))
  })

  it('concurrent writes over a pattern\'s size converge: the largest are kept without content, the same on both nodes', async () => {
    const [a, b] = nodes as [TestEngram, TestEngram]
    // each writes 2,500 long episode ids to one key (~630 KB each): together over what a pattern holds
    const ids = (p: string): string[] => Array.from({ length: 2500 }, (_, i) => `${p}-${i}-`.padEnd(250, 'x'))
    await a.node.put('large', { addEpisodes: ids('a'), confidence: 0.9 })
    await b.node.put('large', { addEpisodes: ids('b'), confidence: 0.7 })
    const r = await b.node.syncNow(a.node.peerId.toString())
    assert.equal(r.outcome, 'synced', JSON.stringify(r))
    const [onA, onB] = [await a.node.get('large'), await b.node.get('large')]
    assert.deepEqual(onA, onB)
    assert.equal(onA?.versions, 2)
    assert.equal(onA?.versionsWithoutContent, 2)
    assert.ok(Math.abs((onA?.confidence ?? 0) - 0.8) < 1e-12, JSON.stringify(onA?.confidence))
  })

  it('a key 700 nodes wrote, then 300 wrote at once in two partitions (deps once over 1 MiB together): both converge on it', async () => {
    const [a, b] = nodes as [TestEngram, TestEngram]
    const writers = await Promise.all(Array.from({ length: 1000 }, async () => await realAuthor()))
    // the first 700 wrote it long ago (large counters), the other 300 after seeing all of that
    const base = writers.slice(0, 700).map(w => applyWrite(undefined, 'wide', { confidence: 0.5 }, w, 1_000_000)).reduce((x, y) => mergePatterns(x, y))
    const again = writers.slice(700).map(w => applyWrite(base, 'wide', { addEpisodes: [w.node], confidence: 0.25 }, w, 1))
    const [onA, onB] = [again.slice(0, 150), again.slice(150)].map(part => part.reduce((x, y) => mergePatterns(x, y)))
    await internalsOf(a.node).replica.mergeRemote([onA!])
    await internalsOf(b.node).replica.mergeRemote([onB!])
    const r = await b.node.syncNow(a.node.peerId.toString())
    assert.equal(r.outcome, 'synced', JSON.stringify(r))
    assert.equal(r.patternsSkipped, 0, JSON.stringify(r))
    const expected = encodePattern(mergePatterns(onA!, onB!))
    const stored = async (n: TestEngram): Promise<Uint8Array> => encodePattern(await internalsOf(n.node).replica.get('wide') as PatternState)
    await waitFor(async () => Buffer.from(await stored(a)).equals(expected), { timeout: 10_000, message: 'the key on a' })
    assert.deepEqual(await stored(b), expected)
    const view = await a.node.get('wide')
    assert.equal(view?.versions, 300)
    assert.equal(view?.episodes.length, 300)
    assert.ok(decodePattern(expected).versions.every(v => v.depsOmitted !== undefined))
  })

  it('a peer holding a state that names this node\'s event 2^53-1 cannot stop this node\'s writes', async () => {
    const [a, b] = nodes as [TestEngram, TestEngram]
    // a holds (as any buggy or hostile member could) a state in b's name at the counter limit
    const victim = b.node.peerId.toString()
    const forged = applyWrite(undefined, 'brick', { confidence: 0.5 }, author(victim), Number.MAX_SAFE_INTEGER)
    await internalsOf(a.node).replica.mergeRemote([forged])
    const counter = internalsOf(b.node).replica.counter
    const r = await b.node.syncNow(a.node.peerId.toString())
    assert.equal(r.outcome, 'synced', JSON.stringify(r))
    assert.ok(r.patternsSkipped >= 1, JSON.stringify(r))
    assert.equal(await b.node.get('brick'), undefined)
    assert.equal(internalsOf(b.node).replica.counter, counter)
    const put = await b.node.put('still-writing', { confidence: 0.5 })
    assert.equal(put.clock[victim], counter + 1)
  })
})
