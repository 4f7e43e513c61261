/**
 * A write that reaches a node with another content than the one it holds for the same dot
 * (a faulty writer signing two writes under one dot, a restored backup) is detected, logged, counted in a metric,
 * and resolved the same way on both nodes. Real nodes over TCP.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startEngram, stopEngrams, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { internalsOf } from '../../src/node/internals.js'
import { createNodeMetrics } from '../../src/daemon/metrics.js'
import type { EquivocationInfo } from '../../src/node/types.js'
import { applyWrite } from '../../src/core/pattern.js'
import { realAuthor } from '../helpers/authors.js'

describe('equivocation between real nodes', () => {
  const nodes: TestEngram[] = []
  after(async () => { await stopEngrams(nodes) })

  it('is detected with both digests, counted, and both nodes end with the same state', async () => {
    const a = await startEngram()
    const b = await startEngram({ join: [a.node.addresses()[0]!] })
    nodes.push(a, b)
    const metrics = createNodeMetrics(b.node)
    const seen: EquivocationInfo[] = []
    b.node.addEventListener('equivocation', ev => { seen.push(ev.detail) })
    // a faulty writer w signs two different writes under one dot; b holds one, a the other
    const w = await realAuthor()
    const real = applyWrite(undefined, 'k', { confidence: 0.5, summary: 'one' }, w, 1)
    const other = applyWrite(undefined, 'k', { confidence: 0.9, summary: 'another' }, w, 1)
    await internalsOf(b.node).replica.mergeRemote([real])
    await internalsOf(a.node).replica.mergeRemote([other])
    await waitFor(async () => (await internalsOf(b.node).gossip.gossipPeers()).length === 1, { timeout: 10_000 })

    // a session carries it (this one, or the sync on connect if that came after the copy)
    const r = await b.node.syncNow(a.node.peerId.toString())
    assert.ok(r.outcome === 'synced' || r.outcome === 'in-sync', JSON.stringify(r))
    await waitFor(() => seen.length > 0, { timeout: 5_000, message: 'the equivocation event on b' })
    assert.equal(seen.length, 1, JSON.stringify(seen))
    assert.deepEqual([seen[0]?.key, seen[0]?.node, seen[0]?.counter], ['k', w.node, 1])
    assert.equal(new Set(seen[0]?.digests).size, 2)
    assert.match(await metrics.render(), /^engram_equivocations_total 1$/m)
    await waitFor(async () => (await a.node.status()).root === (await b.node.status()).root, { timeout: 5_000, message: 'equal roots' })
    assert.deepEqual(await a.node.get('k'), await b.node.get('k'))
    metrics.close()
  })
})
