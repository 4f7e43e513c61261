/**
 * The change feed end to end: two real nodes over TCP, the API of one, and EngramClient as an
 * application in another process would use it. A watcher that disconnects and resumes from its
 * last seq sees every change once, while local writes and merges from the peer go on; pages,
 * prefixes, heartbeats and bad queries; and the library's node.changes().
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startApiServer, type ApiServer } from '../../src/api/server.js'
import { EngramClient } from '../../src/client/index.js'
import type { ChangeRecord } from '../../src/node/types.js'
import { call } from '../helpers/api.js'
import { startEngram, stopEngrams, waitForConnectSyncs, type TestEngram } from '../helpers/engram-nodes.js'

const TOKEN = 'feed-token'
const WRITES = 60

describe('change feed (API, client, library)', () => {
  let a: TestEngram
  let b: TestEngram
  let api: ApiServer
  let client: EngramClient

  before(async () => {
    a = await startEngram({ fanout: 'auto' })
    b = await startEngram({ fanout: 'auto', join: [a.node.addresses()[0]!] })
    await waitForConnectSyncs([a, b])
    api = await startApiServer({ node: b.node, host: '127.0.0.1', port: 0, token: TOKEN, heartbeatMs: 200 })
    client = new EngramClient({ url: api.url, token: TOKEN })
  })

  after(async () => {
    await api?.close()
    await stopEngrams([a, b])
  })

  it('a watcher that disconnects and resumes from its last seq sees every change once, while writes and merges go on', { timeout: 120_000 }, async () => {
    const start = (await client.status()).lastChange
    const written = new Map<string, 'local' | 'remote'>()
    // writes on both nodes, interleaved: b's own (local) and a's, which reach b by eager push
    const writer = (async () => {
      for (let i = 0; i < WRITES; i++) {
        const local = `w/b/${i}`
        const remote = `w/a/${i}`
        written.set(local, 'local')
        written.set(remote, 'remote')
        await Promise.all([b.node.put(local, { confidence: 0.5 }), a.node.put(remote, { confidence: 0.5 })])
      }
    })()
    const seen: ChangeRecord[] = []
    let since = start
    let reconnects = 0
    const deadline = Date.now() + 90_000
    // each watch takes a few changes, then the watcher goes away and comes back with its last seq
    const done = (): boolean => seen.length >= 2 * WRITES || Date.now() > deadline
    while (!done()) {
      const stop = new AbortController()
      const taken = 3 + (reconnects % 5)
      let n = 0
      const timer = setTimeout(() => stop.abort(), Math.max(0, deadline - Date.now()))
      for await (const c of client.watch({ since, prefix: 'w/', signal: stop.signal })) {
        seen.push(c)
        since = c.seq
        if (++n >= taken || done()) stop.abort()
      }
      clearTimeout(timer)
      reconnects++
    }
    await writer
    assert.ok(reconnects >= 10, `the watcher came back ${reconnects} times`)
    const seqs = seen.map(c => c.seq)
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}: each once, in order`)
    const keys = seen.map(c => c.key)
    assert.equal(new Set(keys).size, keys.length, 'no key twice (each was written once)')
    assert.deepEqual(new Set(keys), new Set(written.keys()))
    const peerA = a.node.peerId.toString()
    for (const c of seen) {
      if (written.get(c.key) === 'local') {
        assert.equal(c.origin, 'local')
        assert.equal(c.peer, null)
      } else {
        assert.ok(c.origin === 'push' || c.origin === 'session', `${c.key} came by ${c.origin}`)
        assert.equal(c.peer, peerA)
      }
      assert.equal(c.pattern.key, c.key)
      assert.equal(c.pattern.confidence, 0.5)
    }
    assert.ok(seen.some(c => c.origin === 'push'), 'some changes came by eager push')
  })

  it('pages the feed with since, limit and prefix; a bad since or query is a 400', async () => {
    const before = (await client.status()).lastChange
    await b.node.putMany([0, 1, 2, 3, 4].map(i => ({ key: `page/${i % 2 === 0 ? 'even' : 'odd'}/${i}`, op: { confidence: 0.1 } })))
    const first = await client.changes({ since: before, limit: 2 })
    assert.deepEqual(first.changes.map(c => c.key), ['page/even/0', 'page/odd/1'])
    assert.equal(first.more, true)
    const rest = await client.changes({ since: first.last })
    assert.deepEqual(rest.changes.map(c => c.key), ['page/even/2', 'page/odd/3', 'page/even/4'])
    assert.equal(rest.more, false)
    assert.equal(rest.last, before + 5)
    const odd = await client.changes({ since: before, prefix: 'page/odd/' })
    assert.deepEqual(odd.changes.map(c => c.key), ['page/odd/1', 'page/odd/3'])
    assert.equal(odd.last, before + 5, 'a filtered page still says how far it read')
    assert.deepEqual((await client.changes({ since: 'now' })).changes, [])

    for (const [q, code] of [['since=-1', 'invalid_query'], ['since=abc', 'invalid_query'], ['since=1.5', 'invalid_query'],
      [`since=${before + 1000}`, 'invalid_since'], ['feed=poll', 'invalid_query'], ['limit=0', 'invalid_query'], ['nope=1', 'invalid_query']]) {
      const res = await call(api.url, 'GET', `/v1/changes?${q}`, { token: TOKEN })
      assert.equal(res.status, 400, q)
      assert.equal(res.json.error.code, code, q)
    }
    // a live feed refuses a bad since before it starts: a plain 400, not a stream
    const live = await call(api.url, 'GET', `/v1/changes?feed=live&since=${before + 1000}`, { token: TOKEN })
    assert.equal(live.status, 400)
    assert.match(live.json.error.message, /ahead of this node's newest change/)
    assert.equal((await call(api.url, 'GET', '/v1/changes', {})).status, 401)
  })

  it('a live feed sends heartbeats while idle and ends after `limit` changes', { timeout: 30_000 }, async () => {
    const since = (await client.status()).lastChange
    const feed = call(api.url, 'GET', `/v1/changes?feed=live&since=${since}&limit=2&prefix=hb/`, { token: TOKEN })
    await new Promise(resolve => setTimeout(resolve, 700))
    await b.node.put('other', { confidence: 0.3 })
    await b.node.put('hb/1', { confidence: 0.3 })
    await b.node.put('hb/2', { confidence: 0.3 })
    const res = await feed
    assert.equal(res.status, 200)
    assert.match(String(res.headers['content-type']), /application\/x-ndjson/)
    const lines = res.text.trim().split('\n').map(l => JSON.parse(l))
    assert.ok(lines.filter(l => l.heartbeat === true).length >= 2, 'heartbeats while idle')
    assert.deepEqual(lines.filter(l => l.heartbeat !== true).map(l => l.key), ['hb/1', 'hb/2'])
  })

  it('node.changes() gives the same feed to the library, live until its signal aborts', { timeout: 30_000 }, async () => {
    await b.node.put('lib/0', { confidence: 0.2 })
    const all: ChangeRecord[] = []
    for await (const c of b.node.changes({ since: 0, live: false })) all.push(c)
    assert.equal(all[all.length - 1]?.seq, (await b.node.status()).lastChange)
    const stop = new AbortController()
    const got: string[] = []
    const from = (await b.node.status()).lastChange
    const watching = (async () => {
      for await (const c of b.node.changes({ since: from, prefix: 'lib/', signal: stop.signal })) {
        got.push(c.key)
        if (got.length === 2) stop.abort()
      }
    })()
    await b.node.put('lib/1', { confidence: 0.2 })
    await a.node.put('lib/2', { confidence: 0.2 })
    await assert.rejects(watching, { name: 'AbortError' })
    assert.deepEqual(got, ['lib/1', 'lib/2'])
    const bad = b.node.changes({ since: 1e12 })
    await assert.rejects(bad.next(), { name: 'InvalidSinceError' })
  })

  it('a node created with changeFeed: false says so when asked for its feed', async () => {
    const plain = await startEngram({ changeFeed: false })
    try {
      await plain.node.put('k', { confidence: 0.5 })
      await assert.rejects(plain.node.changes().next(), { name: 'FeedDisabledError' })
      assert.equal((await plain.node.status()).lastChange, 0)
    } finally {
      await stopEngrams([plain])
    }
  })
})
