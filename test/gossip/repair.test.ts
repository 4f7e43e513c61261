/**
 * Two writers whose claims contradict each other (a:1 says it saw b:2, b:1 says it saw a:2), each
 * claim signed and proven on its own side, leave two nodes with sides of one key whose join no node
 * would keep. The node that meets both writes over the join (repair-write.ts): the key converges
 * in a session or two, the repair is logged as an event and counted, and the next round finds the
 * nodes in sync; a restarted node whose counter is not confirmed makes none until it is. Real
 * nodes over TCP, real signatures.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startEngram, startHeldNode, stopEngrams, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { internalsOf } from '../../src/node/internals.js'
import { createNodeMetrics } from '../../src/daemon/metrics.js'
import type { WriteInfo } from '../../src/node/types.js'
import { mergePatterns } from '../../src/core/merge.js'
import { unprovenHeads } from '../../src/core/overwrite-proof.js'
import { applyWrite, type PatternState } from '../../src/core/pattern.js'
import { realAuthor } from '../helpers/authors.js'
import { stores } from '../helpers/merges.js'

/** Both sides, each signed by the two lying writers and proven on its own. */
async function contradictingSides (key: string): Promise<[PatternState, PatternState, string[]]> {
  const a = await realAuthor()
  const b = await realAuthor()
  const x = applyWrite(applyWrite(undefined, key, { confidence: 0.2, addEpisodes: ['b2'] }, b, 2), key, { confidence: 0.4, addEpisodes: ['a1'] }, a, 1)
  const y = applyWrite(applyWrite(undefined, key, { confidence: 0.6, addEpisodes: ['a2'] }, a, 2), key, { confidence: 0.8, addEpisodes: ['b1'] }, b, 1)
  return [x, y, [a.node, b.node]]
}

describe('a join no node would keep, between real nodes', () => {
  const nodes: TestEngram[] = []
  after(async () => { await stopEngrams(nodes) })

  it('is written over by the node that meets both sides; both end with the same proven state', async () => {
    const [x, y, liars] = await contradictingSides('torn')
    assert.deepEqual([unprovenHeads(x), unprovenHeads(y)], [[], []])
    assert.equal(stores(mergePatterns(x, y)), false, 'the two sides do not join into a state to keep')

    const a = await startEngram()
    const b = await startEngram({ join: [a.node.addresses()[0]!] })
    nodes.push(a, b)
    const metrics = [a, b].map(n => createNodeMetrics(n.node))
    const repaired: WriteInfo[][] = [[], []]
    ;[a, b].forEach((n, i) => { n.node.addEventListener('repaired', ev => { repaired[i]!.push(ev.detail) }) })
    assert.equal((await internalsOf(a.node).replica.mergeRemote([x])).skipped.length, 0)
    assert.equal((await internalsOf(b.node).replica.mergeRemote([y])).skipped.length, 0)
    await waitFor(async () => (await internalsOf(b.node).gossip.gossipPeers()).length === 1, { timeout: 10_000 })

    // a session carries each side to the other; one more carries a repair back if both made one
    for (let round = 0; round < 3; round++) {
      const r = await b.node.syncNow(a.node.peerId.toString())
      assert.ok(r.outcome === 'synced' || r.outcome === 'in-sync', JSON.stringify(r))
      if ((await a.node.status()).root === (await b.node.status()).root) break
    }
    await waitFor(async () => (await a.node.status()).root === (await b.node.status()).root, { timeout: 5_000, message: 'equal roots' })
    const [ka, kb] = [await internalsOf(a.node).replica.get('torn'), await internalsOf(b.node).replica.get('torn')]
    assert.ok(ka !== undefined && kb !== undefined)
    assert.deepEqual(ka, kb)
    assert.deepEqual(unprovenHeads(ka), [])
    // the repairs are the versions that stand; the liars' writes are heads under them
    const repairers = [a, b].filter((_, i) => repaired[i]!.length > 0).map(n => n.node.peerId.toString())
    assert.ok(repairers.length >= 1, 'a repair event')
    assert.deepEqual(ka.versions.map(v => v.dot.node).sort(), repairers.sort())
    for (const liar of liars) assert.ok(ka.heads.some(h => h.dot.node === liar), 'each lying writer keeps its head')
    // what both sides showed is in the repair: the episodes of both writes the join dropped
    assert.deepEqual((await a.node.get('torn'))?.episodes, ['a1', 'a2', 'b1', 'b2'])
    for (const [i, n] of [a, b].entries()) {
      for (const e of repaired[i]!) assert.deepEqual(e, { key: 'torn', node: n.node.peerId.toString(), counter: e.counter })
      assert.match(await metrics[i]!.render(), new RegExp(`^engram_repair_writes_total ${repaired[i]!.length}$`, 'm'))
      metrics[i]!.close()
    }
    const again = await a.node.syncNow(b.node.peerId.toString())
    assert.equal(again.outcome, 'in-sync', JSON.stringify(again))
  })

  it('waits, as local writes do, while a restarted node has not confirmed its counter', async () => {
    const [x, y] = await contradictingSides('held')
    // a node with a past that remembers only a peer which is gone: its writes wait for a session, or the timeout
    const n = await startHeldNode(1_500)
    nodes.push(n)
    assert.ok(n.node.writesHeldMs() > 0, 'writes are held after the restart')
    const replica = internalsOf(n.node).replica
    assert.equal((await replica.mergeRemote([x])).skipped.length, 0)
    const held = await replica.mergeRemote([y])
    assert.deepEqual([held.repaired, held.skipped.map(s => s.key)], [[], ['held']], 'no repair while held: the merge is skipped')
    await waitFor(() => n.node.writesHeldMs() === 0, { timeout: 10_000, message: 'the hold ends' })
    const after = await replica.mergeRemote([y])
    assert.deepEqual([after.repaired.map(r => r.key), after.skipped], [['held'], []])
    assert.deepEqual(unprovenHeads((await replica.get('held'))!), [])
  })
})
