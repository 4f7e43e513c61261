/**
 * Text that starts with U+FEFF or holds astral characters is stored, read back, reopened and
 * synced exactly; text with a lone surrogate never gets in (issue: a BOM-led key used to
 * corrupt the node's own records and break every session with it).
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { EngramNode } from '../../src/node/engram-node.js'
import { startEngram, stopEngrams, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { internalsOf } from '../../src/node/internals.js'

const KEYS = ['\uFEFFled-by-a-bom', 'astral/\u{1F600}', 'plain']

describe('canonical text through the node', () => {
  const nodes: TestEngram[] = []
  after(async () => { await stopEngrams(nodes) })

  it('stores, reopens and syncs keys, episodes and summaries exactly', async () => {
    const a = await startEngram()
    nodes.push(a)
    for (const key of KEYS) await a.node.put(key, { addEpisodes: ['\uFEFFe', `${key}/\u{1F600}`], confidence: 0.5, summary: '\uFEFF' })
    const b = await startEngram({ join: [a.node.addresses()[0]!] })
    nodes.push(b)
    await waitFor(async () => (await internalsOf(b.node).gossip.gossipPeers()).length === 1, { timeout: 10_000 })
    const r = await b.node.syncNow(a.node.peerId.toString())
    assert.ok(r.outcome === 'synced' || r.outcome === 'in-sync', JSON.stringify(r))
    await waitFor(async () => (await b.node.status()).root === (await a.node.status()).root, { timeout: 10_000, message: 'equal roots' })
    for (const key of KEYS) {
      const got = await b.node.get(key)
      assert.equal(got?.key, key)
      assert.deepEqual(got?.episodes.sort(), ['\uFEFFe', `${key}/\u{1F600}`].sort())
      assert.equal(got?.summary, '\uFEFF')
    }
    assert.deepEqual((await b.node.list()).map(p => p.key).sort(), [...KEYS].sort())
    // reopened: nothing quarantined, the same root
    const root = (await b.node.status()).root
    await b.node.stop()
    const again = await EngramNode.create({ dataDir: b.dataDir, privateKey: b.privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], intervalMs: 0, fanout: 0 })
    try {
      assert.equal(again.openReport.rebuilt, false)
      assert.deepEqual(again.openReport.quarantined, [])
      assert.equal((await again.status()).root, root)
      assert.equal((await again.get(KEYS[0]!))?.key, KEYS[0])
    } finally {
      await again.stop()
    }
  })

  it('refuses a lone surrogate in a key, an episode id or a summary, and stores nothing', async () => {
    const a = nodes[0]!
    const before = (await a.node.status()).root
    const bad: Array<[string, Parameters<EngramNode['put']>[1]]> = [
      ['k\uD800', { confidence: 0.5 }],
      ['k', { confidence: 0.5, addEpisodes: ['e\uDC00'] }],
      ['k', { confidence: 0.5, summary: '\uD83D' }]
    ]
    for (const [key, op] of bad) await assert.rejects(a.node.put(key, op), { name: 'InvalidPatternError' })
    await assert.rejects(a.node.putMany([{ key: 'ok', op: { confidence: 0.5 } }, { key: 'x\uDFFF', op: { confidence: 0.5 } }]), { name: 'InvalidPatternError' })
    assert.equal((await a.node.status()).root, before)
    assert.equal(await a.node.get('ok'), undefined)
  })
})
