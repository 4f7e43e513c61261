import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { startGossipNode, type GossipNode } from '../helpers/gossip-nodes.js'
import { GOSSIP_PROTOCOL, MAX_FRAME_BYTES } from '../../src/gossip/constants.js'
import { decodeMessage, encodeMessage } from '../../src/gossip/codec.js'
import { Frame } from '../../src/gossip/pb/gossip.js'
import { encodePattern } from '../../src/core/encoding.js'
import { applyWrite } from '../../src/core/pattern.js'
import { ByteWriter } from '../../src/core/bytes.js'
import { waitFor } from '../helpers/wait.js'
import { realAuthor } from '../helpers/authors.js'

const rawWriter = await realAuthor()

function varint (n: number): Uint8Array {
  return new ByteWriter().varint(n).finish()
}

const validPattern = (key: string): Uint8Array => encodePattern(applyWrite(undefined, key, { addEpisodes: ['e'], confidence: 0.5 }, rawWriter, 1))

/** A pattern whose clock claims 2^40 entries. */
const hugeClock = new ByteWriter().u8(2).string('evil').varint(2 ** 40).finish()

describe('gossip protocol robustness against a raw client', () => {
  let target: GossipNode
  let raw: GossipNode
  let good: GossipNode
  before(async () => {
    target = await startGossipNode()
    raw = await startGossipNode()
    good = await startGossipNode()
    await target.replica.write('keep', { addEpisodes: ['x'], confidence: 0.9 })
  })
  after(async () => { await Promise.allSettled([target, raw, good].map(async n => { await n?.stop() })) })

  /** Opens the protocol on the target and sends these raw bytes, then waits for the outcome. */
  async function send (chunks: Uint8Array[], closeWrite = true): Promise<string> {
    const stream = await raw.libp2p.dialProtocol(multiaddr(target.addr), GOSSIP_PROTOCOL)
    const before = target.gossip.lastRounds.length
    for (const c of chunks) stream.send(c)
    if (closeWrite) await stream.close().catch(() => {})
    await waitFor(() => target.gossip.lastRounds.length > before, { timeout: 20_000, message: 'the target to end the session' })
    const r = target.gossip.lastRounds[target.gossip.lastRounds.length - 1]!
    return `${r.outcome}: ${r.error ?? ''}`
  }

  const frame = (bytes: Uint8Array): Uint8Array => new Uint8Array([...varint(bytes.length), ...bytes])
  /** A framed patterns message (a push, or a session's patterns) carrying these encoded patterns. */
  const patternsFrame = (patterns: Uint8Array[], push: boolean): Uint8Array =>
    frame(Frame.encode({ patterns: { patterns: patterns as Array<Uint8Array<ArrayBuffer>>, push } }))

  const cases: Array<[string, () => Uint8Array[], RegExp]> = [
    ['garbage', () => [frame(new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02, 0x03]))], /InvalidMessageError/],
    ['a truncated frame', () => [new Uint8Array([...varint(100), 1, 2, 3])], /error/],
    // not a clean end either: a byte of the next frame (half its length prefix) came
    ['a frame cut inside its length prefix', () => [varint(300).subarray(0, 1)], /UnexpectedEOFError/],
    ['an oversized length prefix', () => [varint(MAX_FRAME_BYTES * 64)], /error/],
    ['a pattern with a huge clock', () => [patternsFrame([hugeClock], true)], /InvalidMessageError/],
    ['a request before hello', () => [
      frame(encodeMessage({ type: 'request', descend: [''], probes: [], pullPrefixes: [], done: false }))
    ], /ProtocolViolationError/],
    ['a reply as first message', () => [frame(encodeMessage({ type: 'reply', inSync: true, children: [], need: [] }))], /ProtocolViolationError/],
    ['session patterns without hello', () => [patternsFrame([validPattern('sneaky')], false)], /ProtocolViolationError/],
    ['a push mixing valid and invalid patterns', () => [patternsFrame([validPattern('half'), hugeClock], true)], /InvalidMessageError/],
    ['a frame with two messages', () => {
      const hello = Frame.encode({ hello: { version: 1, root: new Uint8Array(32), count: 0n } })
      const request = Frame.encode({ request: { descend: [], probes: [], pullPrefixes: [], done: true } })
      return [frame(new Uint8Array([...hello, ...request]))]
    }, /InvalidMessageError/],
    // issue 14's amplification request: every probe and pull names the whole tree (never offered)
    ['hello, then a request probing and pulling the root thousands of times', () => [
      frame(encodeMessage({ type: 'hello', version: 1, root: new Uint8Array(32), count: 0 })),
      frame(encodeMessage({
        type: 'request',
        descend: [],
        probes: Array.from({ length: 16_384 }, () => ({ prefix: '', entries: [] })),
        pullPrefixes: Array(4096).fill(''),
        done: false
      }))
    ], /ProtocolViolationError/],
    ['hello, then a push inside the session', () => [
      frame(encodeMessage({ type: 'hello', version: 1, root: new Uint8Array(32), count: 0 })),
      patternsFrame([validPattern('inside')], true)
    ], /ProtocolViolationError/]
  ]

  for (const [name, chunks, expected] of cases) {
    it(`aborts the session on ${name}, persists nothing, stays up`, async () => {
      const rootBefore = Buffer.from(target.replica.root()).toString('hex')
      const outcome = await send(chunks())
      assert.match(outcome, expected)
      assert.match(outcome, /^(error|timeout)/)
      assert.equal(Buffer.from(target.replica.root()).toString('hex'), rootBefore)
      assert.equal(target.replica.count, 1)
    })
  }

  it('still syncs with a good peer afterwards', async () => {
    await good.replica.write('good', { addEpisodes: ['g'], confidence: 0.4 })
    await good.libp2p.dial(multiaddr(target.addr))
    const r = await good.gossip.syncNow(target.libp2p.peerId)
    assert.equal(r.outcome, 'synced', r.error)
    assert.ok(await target.replica.get('good'))
    assert.ok(await good.replica.get('keep'))
    assert.equal(target.replica.count, 2)
  })

  it('a silent client is timed out, and a third concurrent session from one peer is refused', async () => {
    const strict = await startGossipNode({ gossip: { messageTimeoutMs: 500, maxSessionsPerPeer: 2 } })
    try {
      const streams = []
      for (let i = 0; i < 3; i++) streams.push(await raw.libp2p.dialProtocol(multiaddr(strict.addr), GOSSIP_PROTOCOL))
      await waitFor(() => strict.gossip.lastRounds.length >= 3, { timeout: 10_000, message: 'three sessions to end' })
      const outcomes = strict.gossip.lastRounds.map(r => `${r.outcome}:${r.error ?? ''}`).sort()
      assert.equal(outcomes.filter(o => o.startsWith('timeout')).length, 2, outcomes.join(' | '))
      assert.equal(outcomes.filter(o => o.startsWith('refused')).length, 1, outcomes.join(' | '))
      for (const st of streams) st.abort(new Error('test done'))
    } finally {
      await strict.stop()
    }
  })

  it('a kept stream idles long between sessions, but a frame begun on it has the message timeout (no slowloris)', async () => {
    const strict = await startGossipNode({ gossip: { messageTimeoutMs: 500 } })
    try {
      const stream = await raw.libp2p.dialProtocol(multiaddr(strict.addr), GOSSIP_PROTOCOL)
      const lp = lpStream(stream)
      // one whole session (roots equal), so the stream is a kept one waiting for its next session
      await lp.write(encodeMessage({ type: 'hello', version: 1, root: strict.replica.root(), count: 0 }))
      assert.equal(decodeMessage((await lp.read()).subarray()).type, 'reply')
      await waitFor(() => strict.gossip.lastRounds.length === 1, { timeout: 5_000, message: 'the first session to end' })
      // then most of a large frame, never finished
      stream.send(new Uint8Array([...varint(MAX_FRAME_BYTES - 1), ...new Uint8Array(64 * 1024)]))
      await waitFor(() => strict.gossip.lastRounds.length >= 2, { timeout: 10_000, message: 'the half-sent frame to time out' })
      const r = strict.gossip.lastRounds[1]!
      assert.equal(r.outcome, 'timeout', r.error)
      assert.match(r.error ?? '', /frame not completed in time/)
      await waitFor(() => stream.status !== 'open', { timeout: 5_000, message: 'the target to abort the stream' })
    } finally {
      await strict.stop()
    }
  })

  it('streams from all peers together are capped, and so are the bytes they may leave unread', async () => {
    const strict = await startGossipNode({ gossip: { messageTimeoutMs: 2000, maxInboundGossipStreams: 2, maxBufferedInboundBytes: 256 * 1024 } })
    try {
      // two silent streams take the node-wide slots (one peer may hold three): a third is reset
      const streams = []
      for (let i = 0; i < 3; i++) streams.push(await raw.libp2p.dialProtocol(multiaddr(strict.addr), GOSSIP_PROTOCOL))
      await waitFor(() => strict.gossip.lastRounds.some(r => r.outcome === 'refused'), { timeout: 5_000, message: 'the third stream refused' })
      assert.match(strict.gossip.lastRounds.find(r => r.outcome === 'refused')?.error ?? '', /TooManySessionsError: at most 2 inbound gossip streams in all/)
      for (const st of streams) st.abort(new Error('test done'))
      await waitFor(() => strict.gossip.lastRounds.length >= 3, { timeout: 5_000, message: 'the silent streams to end' })
      // a frame begun with more bytes than the whole budget: that stream is dropped at once
      const before = strict.gossip.lastRounds.length
      const big = await raw.libp2p.dialProtocol(multiaddr(strict.addr), GOSSIP_PROTOCOL)
      big.send(new Uint8Array([...varint(MAX_FRAME_BYTES - 1), ...new Uint8Array(300 * 1024)]))
      await waitFor(() => strict.gossip.lastRounds.length > before, { timeout: 5_000, message: 'the over-budget stream to end' })
      assert.match(strict.gossip.lastRounds[before]?.error ?? '', /InboundBudgetError/)
      // what it held is given back: a good peer's session (its frames need the budget) goes through
      await good.replica.write('after-budget', { addEpisodes: ['b'], confidence: 0.5 })
      await good.libp2p.dial(multiaddr(strict.addr))
      for (let i = 0; i < 3; i++) {
        const r = await good.gossip.syncNow(strict.libp2p.peerId)
        assert.equal(r.outcome, i === 0 ? 'synced' : 'in-sync', r.error)
      }
      assert.ok(await strict.replica.get('after-budget'))
    } finally {
      await strict.stop()
    }
  })

  it('answers a second concurrent reconciliation busy, and serves it once the first ended', async () => {
    // a raw client opens a session (roots differ, so the target waits for its request)
    const stream = await raw.libp2p.dialProtocol(multiaddr(target.addr), GOSSIP_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(encodeMessage({ type: 'hello', version: 1, root: new Uint8Array(32).fill(9), count: 1 }))
    const first = decodeMessage((await lp.read()).subarray())
    assert.equal(first.type, 'reply')
    await good.libp2p.dial(multiaddr(target.addr))
    // a sync waits a busy peer out as long as it is told (about 2 s here); this one gives up sooner
    const busy = await good.gossip.syncNow(target.libp2p.peerId, { signal: AbortSignal.timeout(1000) })
    assert.equal(busy.outcome, 'busy', busy.error)
    assert.equal(busy.patternsIn + busy.patternsOut, 0)
    assert.ok(busy.retryAfterMs !== undefined && busy.retryAfterMs >= 1500 && busy.retryAfterMs <= 2500, `come back after ${busy.retryAfterMs} ms`)
    await lp.write(encodeMessage({ type: 'request', descend: [], probes: [], pullPrefixes: [], done: true }))
    await stream.close()
    await waitFor(async () => (await good.gossip.syncNow(target.libp2p.peerId)).outcome !== 'busy', {
      timeout: 10_000,
      message: 'the target to take sessions again'
    })
  })

  it('fuzz: the frame decoder only ever throws InvalidMessageError', () => {
    const samples = [
      encodeMessage({ type: 'hello', version: 1, root: new Uint8Array(32).fill(7), count: 5 }),
      encodeMessage({
        type: 'request',
        descend: ['a', 'b1'],
        probes: [{ prefix: 'c', entries: [{ keyHash: new Uint8Array(32).fill(0xc0), digest: new Uint8Array(16) }] }],
        pullPrefixes: ['f'],
        done: false
      }),
      encodeMessage({
        type: 'reply',
        inSync: false,
        children: [{ parent: '', hashes: Array.from({ length: 16 }, () => new Uint8Array(16)), counts: Array(16).fill(1) }],
        need: [new Uint8Array(32)]
      }),
      Frame.encode({ patterns: { patterns: [validPattern('k') as Uint8Array<ArrayBuffer>], push: true } })
    ]
    for (const s of samples) assert.ok(decodeMessage(s))
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        fc.tuple(fc.constantFrom(...samples), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
          .map(([s, muts]) => { const x = s.slice(); for (const [i, v] of muts) x[i % x.length] = v; return x }),
        fc.tuple(fc.constantFrom(...samples), fc.nat()).map(([s, n]) => s.subarray(0, n % s.length))
      ),
      bytes => {
        try {
          decodeMessage(bytes)
        } catch (err: any) {
          assert.equal(err.name, 'InvalidMessageError', `${err.name}: ${err.message}`)
        }
      }), { numRuns: 20_000 })
  })
})
