import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import type { PeerId, Stream } from '@libp2p/interface'
import { startGossipNode, type GossipNode } from '../helpers/gossip-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import { decodeMessage, encodeMessage } from '../../src/gossip/codec.js'
import { Frame } from '../../src/gossip/pb/gossip.js'
import { encodePattern } from '../../src/core/encoding.js'
import { applyWrite } from '../../src/core/pattern.js'
import { realAuthor } from '../helpers/authors.js'

const rawWriter = await realAuthor()

const nodes: GossipNode[] = []
after(async () => { await Promise.allSettled(nodes.map(async n => { await n.stop() })) })

async function pair (gossipOpts = {}): Promise<[GossipNode, GossipNode]> {
  const a = await startGossipNode({ gossip: gossipOpts })
  const b = await startGossipNode({ gossip: gossipOpts })
  nodes.push(a, b)
  await a.libp2p.dial(multiaddr(b.addr))
  await waitFor(async () => (await a.gossip.gossipPeers()).length === 1 && (await b.gossip.gossipPeers()).length === 1,
    { timeout: 10_000, message: 'the two nodes to see each other as gossip peers' })
  return [a, b]
}

/** The gossip streams `node` has open with `peer`, any direction. */
function gossipStreams (node: GossipNode, peer: PeerId): Stream[] {
  return node.libp2p.getConnections(peer).flatMap(c => c.streams).filter(s => s.protocol === GOSSIP_PROTOCOL && s.status === 'open')
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('gossip streams kept open between sessions', () => {
  it('rounds and pushes to one peer run one after another on one kept stream', async () => {
    const [a, b] = await pair({ fanout: 1 })
    const ids = new Set<string>()
    for (let i = 0; i < 3; i++) {
      await a.replica.write(`round/${i}`, { addEpisodes: ['e'], confidence: 0.5 })
      await waitFor(async () => (await b.replica.get(`round/${i}`)) !== undefined, { timeout: 10_000, message: 'the pushed write on b' })
      const r = await a.gossip.syncNow(b.libp2p.peerId)
      assert.equal(r.outcome, 'in-sync', r.error)
      const out = gossipStreams(a, b.libp2p.peerId)
      assert.equal(out.length, 1, 'one gossip stream between the two')
      ids.add(out[0]!.id)
    }
    assert.equal(ids.size, 1, 'the same stream every time')
    assert.equal(gossipStreams(b, a.libp2p.peerId).length, 1)
    const ins = b.gossip.lastRounds.filter(r => r.role === 'push-in')
    assert.equal(ins.length, 3)
    assert.ok(ins.every(r => r.outcome === 'synced' && r.patternsChanged === 1))
    assert.equal(hex(a.replica.root()), hex(b.replica.root()))
  })

  it('a session with a difference ends with the end reply, and the next one runs on the same stream', async () => {
    const [a, b] = await pair()
    for (let i = 0; i < 20; i++) await b.replica.write(`b/${i}`, { addEpisodes: ['e'], confidence: 0.4 })
    for (let i = 0; i < 5; i++) await a.replica.write(`a/${i}`, { addEpisodes: ['e'], confidence: 0.4 })
    const first = await a.gossip.syncNow(b.libp2p.peerId)
    assert.equal(first.outcome, 'synced', first.error)
    assert.equal(first.patternsIn, 20)
    assert.equal(first.patternsOut, 5)
    // the end reply came after b merged the pushed patterns: b holds them when syncNow returns
    assert.equal(b.replica.count, 25)
    const id = gossipStreams(a, b.libp2p.peerId)[0]?.id
    assert.ok(id !== undefined)
    const second = await a.gossip.syncNow(b.libp2p.peerId)
    assert.equal(second.outcome, 'in-sync', second.error)
    assert.deepEqual(gossipStreams(a, b.libp2p.peerId).map(s => s.id), [id])
  })

  it('a kept stream is closed after the idle time, both ends; the next round opens a new one', async () => {
    const [a, b] = await pair({ channelIdleMs: 300 })
    assert.equal((await a.gossip.syncNow(b.libp2p.peerId)).outcome, 'in-sync')
    const id = gossipStreams(a, b.libp2p.peerId)[0]?.id
    assert.ok(id !== undefined)
    await waitFor(() => gossipStreams(a, b.libp2p.peerId).length === 0 && gossipStreams(b, a.libp2p.peerId).length === 0,
      { timeout: 10_000, message: 'the idle stream to close on both ends' })
    const r = await a.gossip.syncNow(b.libp2p.peerId)
    assert.equal(r.outcome, 'in-sync', r.error)
    const now = gossipStreams(a, b.libp2p.peerId)
    assert.equal(now.length, 1)
    assert.notEqual(now[0]!.id, id)
  })

  it('a kept stream the responder aborted is not reused; the next round still succeeds', async () => {
    const [a, b] = await pair()
    assert.equal((await a.gossip.syncNow(b.libp2p.peerId)).outcome, 'in-sync')
    for (const s of gossipStreams(b, a.libp2p.peerId)) s.abort(new Error('test: responder drops the stream'))
    await waitFor(() => gossipStreams(a, b.libp2p.peerId).length === 0, { timeout: 10_000, message: 'a to see the reset' })
    await b.replica.write('after-reset', { addEpisodes: ['e'], confidence: 0.5 })
    const r = await a.gossip.syncNow(b.libp2p.peerId)
    assert.equal(r.outcome, 'synced', r.error)
    assert.ok(await a.replica.get('after-reset'))
  })

  it('a raw client runs push, session and garbage on one stream: the good ones count, the garbage aborts only that stream', async () => {
    const [target, good] = await pair()
    const raw = await startGossipNode()
    nodes.push(raw)
    const stream = await raw.libp2p.dialProtocol(multiaddr(target.addr), GOSSIP_PROTOCOL)
    const lp = lpStream(stream)
    const pushed = encodePattern(applyWrite(undefined, 'raw/pushed', { addEpisodes: ['e'], confidence: 0.5 }, rawWriter, 1))
    await lp.write(Frame.encode({ patterns: { patterns: [pushed as Uint8Array<ArrayBuffer>], push: true } }))
    await waitFor(async () => (await target.replica.get('raw/pushed')) !== undefined, { timeout: 10_000, message: 'the pushed pattern on the target' })
    // a reconciliation session on the same stream: roots equal, so one round trip
    await lp.write(encodeMessage({ type: 'hello', version: 1, root: target.replica.root(), count: target.replica.count }))
    const reply = decodeMessage((await lp.read()).subarray())
    assert.equal(reply.type, 'reply')
    assert.equal(reply.type === 'reply' && reply.inSync, true)
    const before = target.gossip.lastRounds.length
    const root = hex(target.replica.root())
    await lp.write(new Uint8Array([0xff, 0xff, 0xff, 0x01]))
    await waitFor(() => target.gossip.lastRounds.length > before, { timeout: 10_000, message: 'the target to end the session' })
    const last = target.gossip.lastRounds.at(-1)!
    assert.equal(last.outcome, 'error')
    assert.match(last.error ?? '', /InvalidMessageError/)
    assert.equal(hex(target.replica.root()), root)
    await waitFor(() => stream.status !== 'open', { timeout: 10_000, message: 'the raw stream to be aborted' })
    // everyone else is still served
    await good.replica.write('good/after', { addEpisodes: ['e'], confidence: 0.5 })
    const r = await good.gossip.syncNow(target.libp2p.peerId)
    assert.equal(r.outcome, 'synced', r.error)
    assert.ok(await target.replica.get('good/after'))
  })
})
