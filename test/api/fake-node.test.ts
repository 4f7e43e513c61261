/**
 * The real HTTP server and metrics against a fake node (test/helpers/fake-node.ts): the API is
 * written against EngramNodePort alone, and the node's named sync errors become today's answers.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startApiServer, type ApiServer } from '../../src/api/server.js'
import { createNodeMetrics, type NodeMetrics } from '../../src/daemon/metrics.js'
import { InvalidPeerIdError, NoGossipPeersError, PeerNotConnectedError } from '../../src/node/errors.js'
import { FakeNode, fakeReport } from '../helpers/fake-node.js'
import { call, type CallOptions } from '../helpers/api.js'

const TOKEN = 'fake-token-0123456789abcdef'
const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

describe('HTTP API on a fake node', () => {
  const node = new FakeNode()
  let metrics: NodeMetrics
  let api: ApiServer
  const v1 = async (method: string, path: string, opts: CallOptions = {}): ReturnType<typeof call> =>
    await call(api.url, method, path, { token: TOKEN, ...opts })

  before(async () => {
    metrics = createNodeMetrics(node)
    api = await startApiServer({ node, host: '127.0.0.1', port: 0, token: TOKEN, metrics })
  })
  after(async () => {
    await api?.close()
    metrics?.close()
  })

  it('GET /v1/status and /v1/peers answer what the node says', async () => {
    node.peerList = [{ peerId: PEER, addresses: ['/ip4/10.0.0.2/tcp/4001'], gossip: true, inSync: null }]
    node.rounds = [fakeReport(PEER, { outcome: 'in-sync', rootsEqual: true })]
    const status = await v1('GET', '/v1/status')
    assert.equal(status.status, 200, status.text)
    assert.deepEqual(status.json, JSON.parse(JSON.stringify(await node.status())))
    assert.deepEqual(status.json.gossipPeers, [PEER])
    const peers = await v1('GET', '/v1/peers')
    assert.equal(peers.status, 200, peers.text)
    assert.deepEqual(peers.json, { peers: node.peerList })
  })

  it('writes, reads, lists, bulk-writes and deletes patterns through the port', async () => {
    const put = await v1('PUT', '/v1/patterns/fake%2Fone', { body: { confidence: 0.5, episodes: ['e2', 'e1'], summary: 's' } })
    assert.equal(put.status, 200, put.text)
    assert.deepEqual(put.json.episodes, ['e1', 'e2'])
    assert.equal((await v1('GET', '/v1/patterns/fake%2Fone')).json.summary, 's')

    const bulk = await v1('POST', '/v1/patterns', {
      body: { patterns: [{ key: 'fake/two', confidence: 0.1 }, { key: 'other/x', confidence: 0.2 }] }
    })
    assert.equal(bulk.status, 200, bulk.text)
    assert.equal(bulk.json.written, 2)
    assert.equal(bulk.json.root, (await node.status()).root, 'the root after the write, as the node reports it')

    const page = await v1('GET', '/v1/patterns?prefix=fake%2F&limit=1')
    assert.deepEqual(page.json.patterns.map((p: { key: string }) => p.key), ['fake/one'])
    const next = await v1('GET', `/v1/patterns?prefix=fake%2F&limit=1&cursor=${encodeURIComponent(page.json.nextCursor)}`)
    assert.deepEqual(next.json.patterns.map((p: { key: string }) => p.key), ['fake/two'])

    const del = await v1('DELETE', '/v1/patterns/fake%2Ftwo')
    assert.equal(del.status, 200, del.text)
    assert.equal(del.json.deleted, true)
    assert.equal((await v1('GET', '/v1/patterns/missing')).status, 404)
    const gone = await v1('DELETE', '/v1/patterns/missing')
    assert.equal(gone.status, 404)
    assert.equal(gone.json.error.code, 'pattern_not_found')
  })

  it('maps the node\'s sync errors to 409/400 with today\'s codes and messages, before any stream', async () => {
    const cases = [
      [new NoGossipPeersError(), 409, 'no_gossip_peers', /^no gossip peer is connected: nothing to sync with yet \(see GET \/v1\/peers/],
      [new PeerNotConnectedError(PEER, 2), 409, 'peer_not_connected',
        new RegExp(`^peer ${PEER} is not a connected gossip peer \\(connected gossip peers: 2; see GET /v1/peers or engram peers\\)$`)],
      [new InvalidPeerIdError('nope'), 400, 'invalid_peer_id', /^"nope" is not a valid PeerId \(expected one like 12D3KooW\.\.\.; see engram peers\)$/]
    ] as const
    for (const [err, status, code, message] of cases) {
      node.sync = async () => { throw err }
      for (const path of ['/v1/sync', '/v1/sync?stream=1']) {
        const r = await v1('POST', path, { body: { peer: 'nope' } })
        assert.equal(r.status, status, `${err.name} on ${path}: ${r.text}`)
        assert.match(r.headers['content-type'] as string, /^application\/json/, 'plain JSON, not a stream')
        assert.equal(r.json.error.code, code)
        assert.match(r.json.error.message, message)
      }
    }
  })

  it('POST /v1/sync passes the peer and the request\'s signal, and returns the report', async () => {
    node.sync = async (peer) => fakeReport(peer ?? PEER, { patternsIn: 4 })
    const before = node.syncCalls.length
    const r = await v1('POST', '/v1/sync', { body: { peer: PEER } })
    assert.equal(r.status, 200, r.text)
    assert.equal(r.json.peer, PEER)
    assert.equal(r.json.patternsIn, 4)
    const made = node.syncCalls.slice(before)
    assert.equal(made.length, 1)
    assert.equal(made[0]!.peer, PEER)
    assert.ok(made[0]!.options.signal instanceof AbortSignal)
    assert.equal((await v1('POST', '/v1/sync')).json.peer, PEER, 'no peer named: the node picks one')
    assert.equal(node.syncCalls.at(-1)!.peer, undefined)
  })

  it('POST /v1/sync?stream=1 streams the node\'s progress, then the result or the error', async () => {
    node.sync = async (peer, { onProgress }) => {
      onProgress?.(fakeReport(PEER, { patternsIn: 1 }))
      onProgress?.(fakeReport(PEER, { patternsIn: 2 }))
      return fakeReport(peer ?? PEER, { patternsIn: 3 })
    }
    const r = await v1('POST', '/v1/sync?stream=1')
    assert.equal(r.status, 200, r.text)
    assert.match(r.headers['content-type'] as string, /^application\/x-ndjson/)
    const lines = r.text.trimEnd().split('\n').map(l => JSON.parse(l))
    assert.deepEqual(lines.map(l => Object.keys(l)[0]), ['progress', 'progress', 'result'])
    assert.deepEqual(lines.map(l => (l.progress ?? l.result).patternsIn), [1, 2, 3])

    node.sync = async (_peer, { onProgress }) => {
      onProgress?.(fakeReport(PEER))
      throw Object.assign(new Error('store closed'), { name: 'StoreClosedError' })
    }
    const failed = await v1('POST', '/v1/sync?stream=1')
    assert.equal(failed.status, 200, 'the stream had started')
    const last = JSON.parse(failed.text.trimEnd().split('\n').at(-1)!)
    assert.deepEqual(last, { error: { code: 'unavailable', message: 'store closed' } })
  })

  it('/metrics reads the node\'s counts and follows its round and merge events', async () => {
    node.counters = { connectedPeers: 3, gossipPeers: 2, peersInSync: { [PEER]: true } }
    node.safeDispatchEvent('round', { detail: fakeReport(PEER, { role: 'responder', bytesIn: 10 }) })
    node.safeDispatchEvent('merge', { detail: { new: 2, newer: 0, older: 0, equal: 1, concurrent: 0 } })
    const text = (await v1('GET', '/metrics')).text
    const has = (line: string): void => { assert.ok(text.split('\n').includes(line), `${line} in\n${text}`) }
    has(`engram_patterns ${node.patterns.size}`)
    has('engram_connected_peers 3')
    has('engram_gossip_peers 2')
    has(`engram_peer_roots_equal{peer="${PEER}"} 1`)
    has('engram_gossip_sessions_total{role="responder",outcome="synced"} 1')
    has('engram_gossip_bytes_received_total{role="responder"} 10')
    has('engram_merges_total{kind="new"} 2')
  })
})
