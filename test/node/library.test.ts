import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { stat } from 'node:fs/promises'
import { createEngramNode, type EngramNode, type PatternRecord } from '../../src/index.js'
import { tempDir } from '../helpers/engram-nodes.js'
import { FAST_DISCOVERY } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'

describe('library entry: createEngramNode', { timeout: 60_000 }, () => {
  const nodes: EngramNode[] = []
  const dirs: string[] = []
  after(async () => {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await Promise.allSettled(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  it('starts, writes, reads, lists, deletes, syncs and reports merges', async () => {
    const dirA = await tempDir()
    const dirB = await tempDir()
    dirs.push(dirA, dirB)
    const a = await createEngramNode({
      dataDir: dirA,
      keyFile: join(dirA, 'node.key'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      intervalMs: 0,
      fanout: 0,
      discovery: FAST_DISCOVERY
    })
    nodes.push(a)
    await a.start()
    assert.equal((await stat(join(dirA, 'node.key'))).mode & 0o777, 0o600)
    const b = await createEngramNode({
      dataDir: dirB,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      join: [a.addresses()[0]!],
      intervalMs: 0,
      fanout: 0,
      discovery: FAST_DISCOVERY
    })
    nodes.push(b)
    await b.start()

    const merged: PatternRecord[] = []
    const via = new Set<string>()
    b.addEventListener('merged', ev => { merged.push(...ev.detail.patterns); via.add(ev.detail.via) })
    // b gets a session with a as soon as they connect (nothing to move yet), not at a timer round
    await waitFor(async () => (await b.status()).lastRounds.some(r => r.peer === a.peerId.toString() && r.outcome === 'in-sync'),
      { timeout: 15_000, message: 'the sync on connect' })

    const put = await a.put('lib/one', { addEpisodes: ['e2', 'e1'], confidence: 0.75, summary: 'hello' })
    assert.deepEqual(put.episodes, ['e1', 'e2'])
    assert.equal(put.clock[a.peerId.toString()], 1)
    assert.match(put.digest, /^[0-9a-f]{64}$/)
    await a.put('lib/two', { addEpisodes: ['x'], confidence: 0.1 })
    assert.equal((await a.get('lib/one'))?.summary, 'hello')
    assert.deepEqual((await a.list({ prefix: 'lib/' })).map(p => p.key), ['lib/one', 'lib/two'])
    const del = await a.delete('lib/two')
    assert.equal(del.deleted, true)

    await waitFor(async () => (await a.status()).gossipPeers.length === 1, { timeout: 15_000, message: 'a gossip peer' })
    const report = await a.syncNow()
    assert.equal(report.outcome, 'synced')
    assert.equal(report.patternsOut, 2)
    assert.deepEqual(merged.map(p => p.key).sort(), ['lib/one', 'lib/two'])
    assert.deepEqual([...via], ['session'], 'fanout 0: everything came by the anti-entropy session')
    assert.equal((await b.get('lib/two'))?.deleted, true)

    const status = await b.status()
    assert.equal(status.patterns, 2)
    assert.equal(status.root, (await a.status()).root)
    assert.deepEqual(status.gossipPeers, [a.peerId.toString()])
  })
})
