import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { once } from 'node:events'
import { startApiServer, type ApiServer } from '../../src/api/server.js'
import { startEngram, startHeldNode, stopEngrams, type TestEngram } from '../helpers/engram-nodes.js'
import { call, type CallOptions } from '../helpers/api.js'

const TOKEN = 'test-token-0123456789abcdef'

describe('HTTP API on one node', { timeout: 120_000 }, () => {
  let n: TestEngram
  let api: ApiServer
  const v1 = async (method: string, path: string, opts: CallOptions = {}): ReturnType<typeof call> =>
    await call(api.url, method, path, { token: TOKEN, ...opts })
  const root = async (): Promise<{ root: string, patterns: number }> => {
    const s = (await v1('GET', '/v1/status')).json
    return { root: s.root, patterns: s.patterns }
  }

  before(async () => {
    n = await startEngram()
    api = await startApiServer({
      node: n.node,
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      metrics: { contentType: 'text/plain; version=0.0.4', render: async () => 'engram_patterns 0\n' },
      statusPage: () => '<!doctype html><title>engram</title>'
    })
  })
  after(async () => {
    await api?.close()
    await stopEngrams([n])
  })

  it('listens on the loopback address it was given', () => {
    assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('refuses every /v1 route and /metrics without the token, or with a wrong one (401 JSON)', async () => {
    for (const [method, path] of [['GET', '/v1/status'], ['GET', '/v1/peers'], ['GET', '/v1/patterns'], ['GET', '/v1/patterns/a'],
      ['PUT', '/v1/patterns/a'], ['DELETE', '/v1/patterns/a'], ['POST', '/v1/sync'], ['GET', '/metrics']] as const) {
      for (const token of [null, 'wrong-token-0123456789', TOKEN + 'x']) {
        const r = await call(api.url, method, path, { token, body: method === 'PUT' ? { confidence: 0.5 } : undefined })
        assert.equal(r.status, 401, `${method} ${path} with ${String(token)}`)
        assert.equal(r.json.error.code, 'unauthorized')
        assert.match(r.headers['content-type'] as string, /^application\/json/)
      }
    }
    const basic = await call(api.url, 'GET', '/v1/status', { headers: { authorization: `Basic ${TOKEN}` } })
    assert.equal(basic.status, 401)
    assert.equal((await call(api.url, 'GET', '/v1/patterns/a', { token: null })).status, 401)
    assert.equal((await v1('GET', '/v1/patterns/a')).status, 404, 'the refused PUT created nothing')
  })

  it('serves the status page without a token and /metrics with it', async () => {
    const page = await call(api.url, 'GET', '/', { token: null })
    assert.equal(page.status, 200)
    assert.match(page.headers['content-type'] as string, /^text\/html/)
    assert.match(page.text, /<title>engram/)
    assert.equal(page.headers['x-frame-options'], 'DENY')
    assert.equal(page.headers['referrer-policy'], 'no-referrer')
    assert.equal((await call(api.url, 'GET', '/?token=abc', { token: null })).status, 200, 'the page reads ?token= itself')
    const m = await v1('GET', '/metrics')
    assert.equal(m.status, 200)
    assert.equal(m.headers['content-type'], 'text/plain; version=0.0.4')
    assert.equal(m.text, 'engram_patterns 0\n')
  })

  it('GET /v1/status', async () => {
    const r = await v1('GET', '/v1/status')
    assert.equal(r.status, 200)
    assert.match(r.headers['content-type'] as string, /^application\/json/)
    const s = r.json
    assert.equal(s.peerId, n.node.peerId.toString())
    assert.ok(s.addresses.some((a: string) => a.startsWith('/ip4/127.0.0.1/tcp/') && a.endsWith(`/p2p/${s.peerId}`)))
    assert.match(s.root, /^[0-9a-f]{64}$/)
    assert.equal(typeof s.patterns, 'number')
    assert.deepEqual(s.gossipPeers, [])
    assert.ok(Array.isArray(s.lastRounds))
    assert.deepEqual(s.peersInSync, {})
  })

  it('GET /v1/peers with no peers', async () => {
    const r = await v1('GET', '/v1/peers')
    assert.equal(r.status, 200)
    assert.deepEqual(r.json, { peers: [] })
  })

  it('PUT creates and updates, GET reads, DELETE tombstones', async () => {
    const put = await v1('PUT', '/v1/patterns/topic', { body: { episodes: ['e2', 'e1'], confidence: 0.8, summary: 'first' } })
    assert.equal(put.status, 200, put.text)
    const rec = put.json
    assert.equal(rec.key, 'topic')
    assert.deepEqual(rec.episodes, ['e1', 'e2'])
    assert.equal(rec.confidence, 0.8)
    assert.equal(rec.summary, 'first')
    assert.equal(rec.deleted, false)
    assert.deepEqual(rec.clock, { [n.node.peerId.toString()]: rec.clock[n.node.peerId.toString()] })
    assert.match(rec.digest, /^[0-9a-f]{64}$/)

    const upd = await v1('PUT', '/v1/patterns/topic', { body: { removeEpisodes: ['e1'], episodes: ['e3'], summary: null } })
    assert.equal(upd.status, 200, upd.text)
    assert.deepEqual(upd.json.episodes, ['e2', 'e3'])
    assert.equal(upd.json.confidence, 0.8)
    assert.equal(upd.json.summary, null)

    const got = await v1('GET', '/v1/patterns/topic')
    assert.equal(got.status, 200)
    assert.deepEqual(got.json, upd.json)

    const del = await v1('DELETE', '/v1/patterns/topic')
    assert.equal(del.status, 200)
    assert.equal(del.json.deleted, true)
    assert.equal((await v1('GET', '/v1/patterns/topic')).json.deleted, true)
    const again = await v1('DELETE', '/v1/patterns/topic')
    assert.equal(again.status, 404)
    assert.equal(again.json.error.code, 'pattern_not_found')
    assert.equal((await v1('DELETE', '/v1/patterns/never')).status, 404)
    const absent = await v1('GET', '/v1/patterns/never')
    assert.equal(absent.status, 404)
    assert.equal(absent.json.error.code, 'pattern_not_found')
  })

  it('takes any key URL-encoded: slashes, dots, unicode, spaces', async () => {
    for (const key of ['a/b/c', '..', '.', 'ключ ✓', 'with space?&#']) {
      const path = `/v1/patterns/${encodeURIComponent(key)}`
      const put = await v1('PUT', path, { body: { confidence: 0.5 } })
      assert.equal(put.status, 200, `${key}: ${put.text}`)
      assert.equal(put.json.key, key)
      assert.equal((await v1('GET', path)).json.key, key)
    }
  })

  it('GET /v1/patterns pages by prefix, limit and cursor', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await v1('PUT', `/v1/patterns/page-${i}`, { body: { confidence: 0.1 * i, episodes: [`e${i}`] } })).status, 200)
    const seen: string[] = []
    let cursor: string | null = null
    for (let pages = 0; pages < 10; pages++) {
      const q: string = `/v1/patterns?prefix=page-&limit=2${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
      const r = await v1('GET', q)
      assert.equal(r.status, 200, r.text)
      assert.ok(r.json.patterns.length <= 2)
      seen.push(...r.json.patterns.map((p: { key: string }) => p.key))
      cursor = r.json.nextCursor
      if (cursor === null) break
    }
    assert.deepEqual(seen, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4'])
    const all = await v1('GET', '/v1/patterns')
    assert.equal(all.status, 200)
    assert.equal(all.json.nextCursor, null)
    assert.ok(all.json.patterns.length >= 5)
    assert.ok(all.json.patterns.every((p: any) => typeof p.digest === 'string' && typeof p.clock === 'object'))
  })

  it('answers 400 to a bad list query', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'limit=-1', 'limit=1.5', 'cursor=%%%', 'cursor=', 'bogus=1', 'limit=1&limit=2']) {
      const r = await v1('GET', `/v1/patterns?${q}`)
      assert.equal(r.status, 400, q)
      assert.equal(typeof r.json.error.message, 'string')
    }
  })

  const badWrites: Array<[string, CallOptions, number, string]> = [
    ['bad JSON', { raw: '{"confidence": 0.5' }, 400, 'invalid_json'],
    ['an array body', { body: [0.5] }, 400, 'invalid_body'],
    ['a null body', { raw: 'null' }, 400, 'invalid_body'],
    ['no body', {}, 400, 'invalid_body'],
    ['an empty object', { body: {} }, 400, 'invalid_body'],
    ['an unknown field', { body: { confidence: 0.5, colour: 'red' } }, 400, 'unknown_field'],
    ['episodes not an array', { body: { confidence: 0.5, episodes: 'e1' } }, 400, 'invalid_field'],
    ['a number among episodes', { body: { confidence: 0.5, episodes: ['e1', 2] } }, 400, 'invalid_field'],
    ['removeEpisodes not an array', { body: { removeEpisodes: { e: 1 } } }, 400, 'invalid_field'],
    ['confidence as a string', { body: { confidence: '0.5' } }, 400, 'invalid_field'],
    ['confidence 2', { body: { confidence: 2 } }, 400, 'invalid_field'],
    ['confidence -0.1', { body: { confidence: -0.1 } }, 400, 'invalid_field'],
    ['summary as a number', { body: { confidence: 0.5, summary: 7 } }, 400, 'invalid_field'],
    ['a missing confidence on create', { body: { episodes: ['e1'] } }, 400, 'invalid_pattern'],
    ['an empty episode id', { body: { confidence: 0.5, episodes: [''] } }, 400, 'invalid_pattern'],
    ['too many episodes', { body: { confidence: 0.5, episodes: Array.from({ length: 4097 }, (_, i) => `e${i}`) } }, 400, 'limit_exceeded'],
    ['a too long summary', { body: { confidence: 0.5, summary: 'x'.repeat(17 * 1024) } }, 400, 'limit_exceeded'],
    ['a body over 1 MiB', { raw: JSON.stringify({ confidence: 0.5, summary: 'x'.repeat(1024 * 1024) }) }, 413, 'body_too_large'],
    ['a chunked body over 1 MiB', { raw: JSON.stringify({ confidence: 0.5, summary: 'x'.repeat(2 * 1024 * 1024) }), chunked: true }, 413, 'body_too_large'],
    ['a lone surrogate in an episode id', { raw: '{"confidence": 0.5, "episodes": ["e\\ud800"]}' }, 400, 'invalid_pattern'],
    ['a lone surrogate in the summary', { raw: '{"confidence": 0.5, "summary": "s\\udc00"}' }, 400, 'invalid_pattern'],
    ['a body that is not UTF-8', { raw: Buffer.concat([Buffer.from('{"confidence": 0.5, "summary": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]) }, 400,
      'invalid_utf8'],
    ['a non-JSON content type', { raw: 'confidence=0.5', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type']
  ]
  for (const [name, opts, status, code] of badWrites) {
    it(`PUT with ${name}: ${status} ${code}, nothing changes`, async () => {
      const before = await root()
      const r = await v1('PUT', '/v1/patterns/bad-one', opts)
      assert.equal(r.status, status, r.text)
      assert.equal(r.json.error.code, code)
      assert.ok(r.json.error.message.length > 0)
      assert.deepEqual(await root(), before)
      assert.equal((await v1('GET', '/v1/patterns/bad-one')).status, 404)
    })
  }

  it('keys and text survive exactly: a leading U+FEFF, astral characters; a key with a lone surrogate is refused', async () => {
    for (const key of ['\uFEFFbom', 'emoji/\u{1F600}']) {
      const body = { confidence: 0.5, episodes: ['\uFEFFe', '\u{1F600}'], summary: '\uFEFF' }
      const put = await v1('PUT', `/v1/patterns/${encodeURIComponent(key)}`, { body })
      assert.equal(put.status, 200, put.text)
      const got = await v1('GET', `/v1/patterns/${encodeURIComponent(key)}`)
      assert.equal(got.status, 200, got.text)
      assert.equal(got.json.key, key)
      assert.deepEqual(got.json.episodes.sort(), ['\uFEFFe', '\u{1F600}'].sort())
      assert.equal(got.json.summary, '\uFEFF')
    }
    const list = await v1('GET', '/v1/patterns?prefix=%EF%BB%BF')
    assert.equal(list.status, 200, list.text)
    const listed = list.json.patterns.map((p: { key: string }) => p.key)
    assert.deepEqual(listed, ['\uFEFFbom'])
    const before = await root()
    // %ED%A0%80 is a surrogate's UTF-8 form: not valid percent-encoding of text
    const lone = await v1('PUT', '/v1/patterns/k%ED%A0%80', { body: { confidence: 0.5 } })
    assert.equal(lone.status, 400)
    assert.deepEqual(await root(), before)
  })

  it('refuses a key over the limit and malformed percent-encoding', async () => {
    const before = await root()
    const long = await v1('PUT', `/v1/patterns/${'k'.repeat(600)}`, { body: { confidence: 0.5 } })
    assert.equal(long.status, 400)
    assert.equal(long.json.error.code, 'limit_exceeded')
    const enc = await v1('PUT', '/v1/patterns/%E0%A4%A', { body: { confidence: 0.5 } })
    assert.equal(enc.status, 400)
    assert.equal(enc.json.error.code, 'invalid_path')
    assert.deepEqual(await root(), before)
  })

  it('answers 404 to unknown routes and 405 (with Allow) to wrong methods', async () => {
    for (const path of ['/v2/status', '/v1/status/x', '/v1', '/v1/patterns/a/b', '/v1/patterns/']) {
      const r = await v1('GET', path)
      assert.equal(r.status, 404, path)
      assert.equal(r.json.error.code, 'not_found')
    }
    const wrongMethods = [
      ['POST', '/v1/status', 'GET'],
      ['PATCH', '/v1/patterns/a', 'GET, PUT, DELETE'],
      ['GET', '/v1/sync', 'POST'],
      ['DELETE', '/v1/patterns', 'GET, POST']
    ]
    for (const [method, path, allow] of wrongMethods) {
      const r = await v1(method!, path!)
      assert.equal(r.status, 405, `${method} ${path}`)
      assert.equal(r.json.error.code, 'method_not_allowed')
      assert.equal(r.headers.allow, allow)
    }
  })

  it('POST /v1/sync without a gossip peer, with a bad or an unknown peer id: a clear error', async () => {
    const none = await v1('POST', '/v1/sync')
    assert.equal(none.status, 409)
    assert.equal(none.json.error.code, 'no_gossip_peers')
    assert.match(none.json.error.message, /no gossip peer/)
    const streamed = await v1('POST', '/v1/sync?stream=1', { body: {} })
    assert.equal(streamed.status, 409, 'errors found before the round are plain JSON, not a stream')
    const bad = await v1('POST', '/v1/sync', { body: { peer: 'not-a-peer-id' } })
    assert.equal(bad.status, 400)
    assert.equal(bad.json.error.code, 'invalid_peer_id')
    const stranger = await v1('POST', '/v1/sync', { body: { peer: '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN' } })
    assert.equal(stranger.status, 409)
    assert.equal(stranger.json.error.code, 'peer_not_connected')
    for (const opts of [{ body: { peer: 5 } }, { body: { host: 'x' } }, { raw: '[' }]) {
      assert.equal((await v1('POST', '/v1/sync', opts)).status, 400)
    }
    assert.equal((await v1('POST', '/v1/sync?stream=yes')).status, 400)
  })

  it('bounds every request in time: a body that never ends is cut off', async () => {
    const slow = await startApiServer({ node: n.node, host: '127.0.0.1', port: 0, token: TOKEN, requestTimeoutMs: 500 })
    try {
      const url = new URL(slow.url)
      const req = request({
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path: '/v1/patterns/slow',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': '100' }
      })
      req.write('{"confidence"')
      const timer = setTimeout(() => req.destroy(new Error('server never answered')), 10_000)
      const [res] = await once(req, 'response') as [import('node:http').IncomingMessage]
      clearTimeout(timer)
      assert.ok(res.statusCode === 503 || res.statusCode === 408, String(res.statusCode))
      req.destroy()
      assert.equal((await v1('GET', '/v1/patterns/slow')).status, 404)
      const noMetrics = await call(slow.url, 'GET', '/metrics', { token: TOKEN })
      assert.equal(noMetrics.status, 404, 'no metrics given: no /metrics')
    } finally {
      await slow.close()
    }
  })

  it('a write a restarted node holds for its counter check answers writes_held with when to retry, not a bare timeout', async () => {
    // a node with a past (one write) that remembers a peer which is gone: its next writes wait for a session
    const again = await startHeldNode(20_000)
    const server = await startApiServer({ node: again.node, host: '127.0.0.1', port: 0, token: TOKEN, requestTimeoutMs: 500 })
    try {
      assert.ok(again.node.writesHeldMs() > 0, 'writes are held after the restart')
      const put = await call(server.url, 'PUT', '/v1/patterns/held', { token: TOKEN, body: { confidence: 0.5 } })
      assert.equal(put.status, 503)
      assert.equal(put.json.error.code, 'writes_held')
      assert.match(put.json.error.message, /confirms its counter.*Retry in \d+ s/s)
      const retry = Number(put.headers['retry-after'])
      assert.ok(retry >= 1 && retry <= 20, `retry-after ${String(put.headers['retry-after'])}`)
      assert.equal((await call(server.url, 'GET', '/v1/patterns/before', { token: TOKEN })).status, 200, 'reads do not wait')
      // a bare timeout stays one when writes are not held (a fresh node has no past)
      assert.equal(n.node.writesHeldMs(), 0)
    } finally {
      await server.close()
      await again.node.stop()
    }
  })
})
