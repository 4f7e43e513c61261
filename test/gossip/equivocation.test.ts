/**
 * A write that reaches a node with another content than the one it holds for the same dot
 * (a faulty writer signing two writes under one dot, a restored backup) is detected, logged, counted in a metric,
 * and resolved the same way on both nodes; so is one write its author signed twice. Real nodes over TCP.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startEngram, stopEngrams, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { internalsOf } from '../../src/node/internals.js'
import { createNodeMetrics } from '../../src/daemon/metrics.js'
import type { WriteInfo, EquivocationInfo } from '../../src/node/types.js'
import { applyWrite, type PatternState } from '../../src/core/pattern.js'
import { compareBytes } from '../../src/core/bytes.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { bodyDigest, writeMessage } from '../../src/core/write-digest.js'
import { realAuthor } from '../helpers/authors.js'
import { secondSignature } from '../helpers/second-signature.js'

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

  it('one write signed twice (two signatures that both check): reported as such, not as an equivocation; both end end with the larger signature', async () => {
    const a = await startEngram()
    const b = await startEngram({ join: [a.node.addresses()[0]!] })
    nodes.push(a, b)
    const seen: EquivocationInfo[] = []
    const doubled: WriteInfo[][] = [[], []]
    const metrics = [a, b].map(n => createNodeMetrics(n.node))
    for (const n of [a, b]) n.node.addEventListener('equivocation', ev => { seen.push(ev.detail) })
    ;[a, b].forEach((n, i) => { n.node.addEventListener('double-signed', ev => { doubled[i]!.push(ev.detail) }) })
    const w = await realAuthor()
    const one = applyWrite(undefined, 'twice', { confidence: 0.5, addEpisodes: ['e'] }, w, 1)
    const v = one.versions[0]!
    const sig = secondSignature(w.privateKey, writeMessage(one.key, v.dot, bodyDigest(v)))
    const two: PatternState = decodePattern(encodePattern({ ...one, versions: [{ ...v, sig }] }))
    // each node holds one copy; the session between them checks the other's signature, as it checks any peer's
    assert.equal((await internalsOf(a.node).replica.mergeRemote([one])).skipped.length, 0)
    assert.equal((await internalsOf(b.node).replica.mergeRemote([two])).skipped.length, 0)
    assert.notEqual((await a.node.status()).root, (await b.node.status()).root)
    await waitFor(async () => (await internalsOf(b.node).gossip.gossipPeers()).length === 1, { timeout: 10_000 })

    const r = await b.node.syncNow(a.node.peerId.toString())
    assert.ok(r.outcome === 'synced' || r.outcome === 'in-sync', JSON.stringify(r))
    await waitFor(async () => (await a.node.status()).root === (await b.node.status()).root, { timeout: 5_000, message: 'equal roots' })
    const larger = compareBytes(v.sig, sig) >= 0 ? v.sig : sig
    for (const n of [a, b]) {
      const kept = (await internalsOf(n.node).replica.get('twice'))?.versions[0]?.sig
      assert.ok(kept !== undefined && compareBytes(kept, larger) === 0, 'the larger signature is kept')
    }
    // in sync from now on: a second round moves nothing
    const again = await a.node.syncNow(b.node.peerId.toString())
    assert.equal(again.outcome, 'in-sync', JSON.stringify(again))
    assert.deepEqual(seen, [])
    // the node that met the other copy says so, in an event and the metric (the one that met its own copy back does not)
    const events = doubled.flat()
    assert.ok(events.length >= 1, 'a double-signed event')
    for (const e of events) assert.deepEqual(e, { key: 'twice', node: w.node, counter: 1 })
    for (const [i, m] of metrics.entries()) {
      assert.match(await m.render(), new RegExp(`^engram_double_signed_writes_total ${doubled[i]!.length}$`, 'm'))
      m.close()
    }
  })
})
