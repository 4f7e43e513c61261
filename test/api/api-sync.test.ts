import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startApiServer, type ApiServer } from '../../src/api/server.js'
import { startChain, stopEngrams, waitForConnectSyncs, waitForMesh, type TestEngram } from '../helpers/engram-nodes.js'
import { call, type CallOptions } from '../helpers/api.js'

const TOKEN = 'sync-token-0123456789abcdef'

describe('HTTP API: peers and sync between two nodes', { timeout: 120_000 }, () => {
  let nodes: TestEngram[] = []
  let api: ApiServer
  const v1 = async (method: string, path: string, opts: CallOptions = {}): ReturnType<typeof call> =>
    await call(api.url, method, path, { token: TOKEN, timeout: 90_000, ...opts })

  before(async () => {
    // no timer rounds and no eager push (the helper's defaults): only our syncs move patterns
    nodes = await startChain(2)
    await waitForMesh(nodes)
    api = await startApiServer({ node: nodes[0]!.node, host: '127.0.0.1', port: 0, token: TOKEN })
  })
  after(async () => {
    await api?.close()
    await stopEngrams(nodes)
  })

  it('GET /v1/peers lists the other node with its address, as a gossip peer', async () => {
    const r = await v1('GET', '/v1/peers')
    assert.equal(r.status, 200)
    const other = nodes[1]!.node.peerId.toString()
    const p = r.json.peers.find((x: { peerId: string }) => x.peerId === other)
    assert.ok(p !== undefined, r.text)
    assert.equal(p.gossip, true)
    // the two had a session when they connected, and found their (empty) roots equal
    await waitForConnectSyncs(nodes)
    const again = (await v1('GET', '/v1/peers')).json.peers.find((x: { peerId: string }) => x.peerId === other)
    assert.equal(again.inSync, true)
    assert.ok(p.addresses.length > 0 && p.addresses.every((a: string) => a.startsWith('/ip4/127.0.0.1/')))
    const status = (await v1('GET', '/v1/status')).json
    assert.ok(status.gossipPeers.includes(other))
  })

  it('POST /v1/sync runs one round and returns its report', async () => {
    for (let i = 0; i < 3; i++) await nodes[0]!.node.put(`plain-${i}`, { addEpisodes: [`e${i}`], confidence: 0.5 })
    const r = await v1('POST', '/v1/sync')
    assert.equal(r.status, 200, r.text)
    assert.equal(r.json.peer, nodes[1]!.node.peerId.toString())
    assert.equal(r.json.role, 'initiator')
    assert.equal(r.json.outcome, 'synced')
    assert.equal(r.json.patternsOut, 3)
    assert.ok(r.json.roundTrips >= 1 && r.json.bytesOut > 0 && typeof r.json.ms === 'number')
    assert.equal((await nodes[1]!.node.get('plain-2'))?.confidence, 0.5)

    const again = await v1('POST', '/v1/sync', { body: { peer: nodes[1]!.node.peerId.toString() } })
    assert.equal(again.status, 200, again.text)
    assert.equal(again.json.outcome, 'in-sync')
    assert.equal(again.json.roundTrips, 1)
    const peers = (await v1('GET', '/v1/peers')).json.peers
    assert.equal(peers.find((x: { peerId: string }) => x.peerId === again.json.peer).inSync, true)
    const status = (await v1('GET', '/v1/status')).json
    assert.equal(status.peersInSync[again.json.peer], true)
    assert.ok(status.lastRounds.length >= 2)
  })

  it('POST /v1/sync?stream=1 streams progress lines, then the result', async () => {
    for (let i = 0; i < 40; i++) await nodes[1]!.node.put(`streamed-${i}`, { addEpisodes: [`e${i}`], confidence: 0.25, summary: 's'.repeat(200) })
    const r = await v1('POST', '/v1/sync?stream=1', { body: { peer: nodes[1]!.node.peerId.toString() } })
    assert.equal(r.status, 200, r.text)
    assert.match(r.headers['content-type'] as string, /^application\/x-ndjson/)
    const lines = r.text.trimEnd().split('\n').map(l => JSON.parse(l))
    assert.ok(lines.length >= 2, r.text)
    const last = lines[lines.length - 1]
    assert.deepEqual(Object.keys(last), ['result'])
    assert.equal(last.result.outcome, 'synced')
    assert.equal(last.result.patternsIn, 40)
    const progress = lines.slice(0, -1)
    assert.ok(progress.length >= 1)
    for (const line of progress) {
      assert.deepEqual(Object.keys(line), ['progress'])
      assert.equal(line.progress.peer, last.result.peer)
      assert.equal(line.progress.role, 'initiator')
      assert.ok(line.progress.patternsIn <= last.result.patternsIn)
    }
    assert.equal(r.text.endsWith('\n'), true)
    assert.equal((await nodes[0]!.node.get('streamed-39'))?.confidence, 0.25)
  })
})
