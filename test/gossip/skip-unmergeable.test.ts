/**
 * A session moves every pattern it can: one key whose merge would break the writer limit is
 * skipped on both sides (reported, logged), and all the others still land; concurrent writes
 * over a pattern's size merge within it. Real nodes over TCP.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startEngram, stopEngrams, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { internalsOf } from '../../src/node/internals.js'
import { applyWrite, type PatternState } from '../../src/core/pattern.js'
import { author, realAuthor } from '../helpers/authors.js'
import { MAX_CLOCK_ENTRIES } from '../../src/core/limits.js'
import { mergePatterns } from '../../src/core/merge.js'

/** one key written concurrently by `n` new writers (real keys), merged */
async function wideClock (key: string, n: number): Promise<PatternState> {
  const writers = await Promise.all(Array.from({ length: n }, async () => await realAuthor()))
  let level = writers.map(w => applyWrite(undefined, key, { confidence: 0.5 }, w, 1))
  while (level.length > 1) {
    const next: PatternState[] = []
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? mergePatterns(level[i]!, level[i + 1]!) : level[i]!)
    level = next
  }
  return level[0]!
}

describe('a session with one unmergeable key', () => {
  const nodes: TestEngram[] = []
  after(async () => { await stopEngrams(nodes) })

  it('skips that key, moves the others, and keeps both nodes readable and syncing', async () => {
    const a = await startEngram()
    const b = await startEngram({ join: [a.node.addresses()[0]!] })
    nodes.push(a, b)
    // each holds one key written by 1,024 other writers (signed, real keys): together over the writer limit
    await internalsOf(a.node).replica.mergeRemote([await wideClock('crowded', MAX_CLOCK_ENTRIES)])
    await internalsOf(b.node).replica.mergeRemote([await wideClock('crowded', MAX_CLOCK_ENTRIES)])
    await a.node.putMany(Array.from({ length: 50 }, (_, i) => ({ key: `fine/${i}`, op: { addEpisodes: [`e${i}`], confidence: 0.5 } })))
    await b.node.put('from-b', { confidence: 0.3 })
    await waitFor(async () => (await internalsOf(b.node).gossip.gossipPeers()).length === 1, { timeout: 10_000 })

    const r = await b.node.syncNow(a.node.peerId.toString())
    assert.equal(r.outcome, 'synced', JSON.stringify(r))
    assert.equal(r.patternsSkipped, 1, JSON.stringify(r))
    for (let i = 0; i < 50; i++) assert.ok(await b.node.get(`fine/${i}`), `fine/${i} on b`)
    await waitFor(async () => (await a.node.get('from-b')) !== undefined, { timeout: 5_000, message: 'b\'s pattern on a' })
    // a logs its side of the session when it ends there, which may be just after b's
    await waitFor(() => internalsOf(a.node).gossip.lastRounds.some(x => x.role === 'responder' && x.peer === b.node.peerId.toString() &&
      x.outcome === 'synced' && x.patternsSkipped === 1), { timeout: 5_000, message: 'a\'s side of the session, with the skip' })
    // each keeps its own version of the key, readable
    assert.equal((await a.node.get('crowded'))?.versions, MAX_CLOCK_ENTRIES)
    assert.equal((await b.node.get('crowded'))?.versions, MAX_CLOCK_ENTRIES)
    // and the next session again moves nothing else
    const again = await b.node.syncNow(a.node.peerId.toString())
    assert.equal(again.outcome, 'synced', JSON.stringify(again))
    assert.deepEqual([again.patternsChanged, again.patternsSkipped], [0, 1])
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
