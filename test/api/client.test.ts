/**
 * EngramClient (engram-node/client) against the real API server on a fake node: every typed
 * call, its named errors, and a watch that outlives a restart of the server on the same port.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startApiServer, type ApiServer } from '../../src/api/server.js'
import { EngramClient, type ChangeRecord } from '../../src/client/index.js'
import { FakeNode, fakeReport } from '../helpers/fake-node.js'

const TOKEN = 'client-token-0123456789'
const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

describe('EngramClient', () => {
  const node = new FakeNode()
  let api: ApiServer
  let client: EngramClient

  before(async () => {
    api = await startApiServer({ node, host: '127.0.0.1', port: 0, token: TOKEN, heartbeatMs: 100 })
    client = new EngramClient({ url: api.url + '/', token: TOKEN })
  })
  after(async () => { await api?.close() })

  /** The API goes away, `meanwhile` runs, and it comes back on the same port. */
  async function restartApi (meanwhile: () => Promise<void>): Promise<void> {
    const port = Number(new URL(api.url).port)
    await api.close()
    await meanwhile()
    await new Promise(resolve => setTimeout(resolve, 300))
    api = await startApiServer({ node, host: '127.0.0.1', port, token: TOKEN, heartbeatMs: 100 })
  }

  it('is what the package exports as engram-node/client (built by npm test)', async () => {
    const pkg = await import('engram-node/client')
    assert.deepEqual(Object.keys(pkg).sort(), ['EngramApiError', 'EngramClient', 'EngramConnectionError', 'EngramTimeoutError'])
  })

  it('reads and writes patterns with typed calls; a missing key is undefined', async () => {
    const put = await client.put('a/1', { episodes: ['e1'], confidence: 0.5, summary: 's' })
    assert.deepEqual([put.key, put.episodes, put.confidence, put.summary], ['a/1', ['e1'], 0.5, 's'])
    assert.equal((await client.get('a/1'))?.summary, 's')
    assert.equal(await client.get('absent'), undefined)
    const bulk = await client.putMany([{ key: 'a/2', confidence: 0.1 }, { key: 'b/1', confidence: 0.2 }])
    assert.equal(bulk.written, 2)
    const page = await client.list({ prefix: 'a/', limit: 1 })
    assert.deepEqual(page.patterns.map(p => p.key), ['a/1'])
    assert.deepEqual((await client.list({ prefix: 'a/', cursor: page.nextCursor! })).patterns.map(p => p.key), ['a/2'])
    assert.equal((await client.delete('a/2')).deleted, true)
    assert.equal((await client.status()).patterns, 3)
    node.peerList = [{ peerId: PEER, addresses: [], gossip: true, inSync: true }]
    assert.deepEqual((await client.peers()).map(p => p.peerId), [PEER])
  })

  it('names its failures: the node\'s refusal, a wrong token, nothing listening, no answer in time', async () => {
    await assert.rejects(client.put('x', { confidence: 2 }), (err: any) => {
      assert.equal(err.name, 'EngramApiError')
      assert.equal(err.status, 400)
      assert.equal(err.code, 'invalid_field')
      assert.match(err.message, /confidence/)
      return true
    })
    await assert.rejects(new EngramClient({ url: api.url, token: 'wrong' }).status(), { name: 'EngramApiError', status: 401, code: 'unauthorized' })
    const gone = await startApiServer({ node, host: '127.0.0.1', port: 0, token: TOKEN })
    await gone.close()
    await assert.rejects(new EngramClient({ url: gone.url, token: TOKEN }).status(), (err: any) => {
      assert.equal(err.name, 'EngramConnectionError')
      assert.match(err.message, /nothing answers there/)
      return true
    })
    node.sync = async () => await new Promise(resolve => setTimeout(() => resolve(fakeReport(PEER)), 2000))
    const slow = new EngramClient({ url: api.url, token: TOKEN })
    await assert.rejects(slow.raw('POST', '/v1/sync', undefined, { timeoutMs: 200 }), { name: 'EngramTimeoutError' })
  })

  it('syncs, with progress lines when asked', async () => {
    node.sync = async (_peer, opts) => {
      opts.onProgress?.(fakeReport(PEER, { patternsIn: 5 }))
      return fakeReport(PEER, { patternsIn: 9 })
    }
    const progress: number[] = []
    const report = await client.sync({ peer: PEER, onProgress: r => progress.push(r.patternsIn) })
    assert.equal(report.patternsIn, 9)
    assert.deepEqual(progress, [5])
    assert.equal((await client.sync()).patternsIn, 9)
  })

  it('pages the change feed, and watches it across a restart of the server', async () => {
    const since = (await client.status()).lastChange
    await client.put('w/1', { confidence: 0.5 })
    const page = await client.changes({ since })
    assert.deepEqual(page.changes.map(c => c.key), ['w/1'])
    assert.equal(page.last, since + 1)
    await assert.rejects(client.changes({ since: since + 99 }), { name: 'EngramApiError', code: 'invalid_since' })

    const stop = new AbortController()
    const seen: ChangeRecord[] = []
    const reconnects: string[] = []
    const watching = (async () => {
      for await (const c of client.watch({ since, signal: stop.signal, onReconnect: err => reconnects.push(err.name) })) {
        seen.push(c)
        if (seen.length === 3) stop.abort()
      }
    })()
    while (seen.length < 1) await new Promise(resolve => setTimeout(resolve, 20))
    // the node's API goes away and comes back on the same port; writes went on meanwhile
    await restartApi(async () => { await node.put('w/2', { confidence: 0.5 }) })
    await node.put('w/3', { confidence: 0.5 })
    await watching
    assert.deepEqual(seen.map(c => c.key), ['w/1', 'w/2', 'w/3'])
    assert.ok(reconnects.length >= 1, 'it reconnected')
  })

  it('a watch from now keeps what came while it was reconnecting', { timeout: 20_000 }, async () => {
    const stop = new AbortController()
    const seen: string[] = []
    const watching = (async () => {
      for await (const c of client.watch({ since: 'now', signal: stop.signal })) {
        seen.push(c.key)
        if (seen.length === 2) stop.abort()
      }
    })()
    // connected (heartbeats every 100 ms), nothing changed yet; then the API goes away
    await new Promise(resolve => setTimeout(resolve, 400))
    await restartApi(async () => { await node.put('now/1', { confidence: 0.5 }) })
    await node.put('now/2', { confidence: 0.5 })
    await watching
    assert.deepEqual(seen, ['now/1', 'now/2'])
  })
})
