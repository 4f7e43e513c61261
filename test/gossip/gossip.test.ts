import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { startGossipNode, type GossipNode } from '../helpers/gossip-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { confidenceOf, viewOf } from '../../src/core/pattern.js'
import { patternDigest } from '../../src/core/encoding.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { AUTO_FANOUT_MARGIN, fanoutFor } from '../../src/gossip/push.js'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import { gossipPeers } from '../helpers/gossip-peers.js'
import { decodeMessage, encodeMessage } from '../../src/gossip/codec.js'

const nodes: GossipNode[] = []
after(async () => { await Promise.allSettled(nodes.map(async n => { await n.stop() })) })

async function cluster (n: number, gossipOpts = {}): Promise<GossipNode[]> {
  const out: GossipNode[] = []
  for (let i = 0; i < n; i++) {
    const node = await startGossipNode({ join: i === 0 ? [] : [out[i - 1]!.addr], gossip: gossipOpts })
    nodes.push(node)
    out.push(node)
  }
  // these tests are about gossip, not discovery: connect everyone directly
  const { multiaddr } = await import('@multiformats/multiaddr')
  for (const x of out) for (const y of out) if (x !== y) await x.libp2p.dial(multiaddr(y.addr))
  await waitFor(async () => {
    for (const node of out) if ((await node.gossip.gossipPeers()).length < n - 1) return false
    return true
  }, { timeout: 20_000, message: 'all nodes to see each other as gossip peers' })
  return out
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('gossip over real libp2p', () => {
  it('syncs both ways with one session, then a further round moves nothing', async () => {
    const [a, b] = await cluster(2)
    for (let i = 0; i < 50; i++) await a!.replica.write(`a/${i}`, { addEpisodes: [`ep${i}`], confidence: 0.5 })
    for (let i = 0; i < 30; i++) await b!.replica.write(`b/${i}`, { addEpisodes: [`ep${i}`], confidence: 0.6 })
    const first = await a!.gossip.syncNow(b!.libp2p.peerId)
    assert.equal(first.outcome, 'synced', first.error)
    assert.equal(first.patternsOut, 50)
    assert.equal(first.patternsIn, 30)
    assert.equal(a!.replica.count, 80)
    assert.equal(b!.replica.count, 80)
    assert.equal(hex(a!.replica.root()), hex(b!.replica.root()))
    const second = await b!.gossip.syncNow(a!.libp2p.peerId)
    assert.equal(second.outcome, 'in-sync')
    assert.equal(second.roundTrips, 1)
    assert.equal(second.patternsIn + second.patternsOut, 0)
  })

  it('concurrent writes on 3 nodes end in one state with the mean confidence', async () => {
    const three = await cluster(3)
    const values = [0.9, 0.5, 0.1]
    await Promise.all(three.map(async (n, i) => await n.replica.write('shared', { addEpisodes: [`from-${i}`], confidence: values[i] })))
    // anti-entropy by hand: a<->b, b<->c, a<->c
    for (const [x, y] of [[0, 1], [1, 2], [0, 2]] as const) {
      const r = await three[x]!.gossip.syncNow(three[y]!.libp2p.peerId)
      assert.notEqual(r.outcome, 'error', r.error)
    }
    const states = await Promise.all(three.map(async n => await n.replica.get('shared')))
    const digests = new Set(states.map(s => hex(patternDigest(s!))))
    assert.equal(digests.size, 1)
    assert.ok(Math.abs(confidenceOf(states[0]!) - 0.5) < 1e-12)
    assert.deepEqual(viewOf(states[0]!).episodes, ['from-0', 'from-1', 'from-2'])
  })

  it('eager push spreads a local write without any anti-entropy round', async () => {
    const four = await cluster(4, { fanout: 3 })
    const via: string[] = []
    for (const n of four) n.gossip.addEventListener('merged', ev => { via.push(ev.detail.via) })
    await four[0]!.replica.write('pushed', { addEpisodes: ['e'], confidence: 0.7 })
    await waitFor(async () => {
      for (const n of four) if ((await n.replica.get('pushed')) === undefined) return false
      return true
    }, { timeout: 10_000, message: 'the pushed pattern on every node' })
    assert.ok(four.every(n => n.gossip.lastRounds.every(r => r.role !== 'initiator')))
    assert.deepEqual(via, ['push', 'push', 'push'], "each other node's merge event says it came by push")
  })

  it("fanout 'auto' is ln(peers + 1) + 7: in a small cluster a write goes to every peer at once", async () => {
    assert.equal(fanoutFor('auto', 99), 5 + AUTO_FANOUT_MARGIN)
    assert.equal(fanoutFor('auto', 999), 7 + AUTO_FANOUT_MARGIN)
    assert.equal(fanoutFor(4, 999), 4)
    const five = await cluster(5, { fanout: 'auto' })
    await five[0]!.replica.write('auto', { addEpisodes: ['e'], confidence: 0.2 })
    await waitFor(async () => {
      for (const n of five) if ((await n.replica.get('auto')) === undefined) return false
      return true
    }, { timeout: 10_000, message: 'the pushed pattern on every node' })
    const out = five[0]!.gossip.lastRounds.filter(r => r.role === 'push-out')
    assert.equal(out.length, 4, 'the writer pushed to all 4 peers')
    assert.ok(out.every(r => r.outcome === 'synced'))
  })

  it('a timer round answered busy tries another peer at once', async () => {
    // x and y are each held in a session by a raw client, so both answer busy
    const x = await startGossipNode()
    const y = await startGossipNode()
    const raw = await startGossipNode()
    nodes.push(x, y, raw)
    for (const n of [x, y]) {
      const stream = await raw.libp2p.dialProtocol(multiaddr(n.addr), GOSSIP_PROTOCOL)
      const lp = lpStream(stream)
      await lp.write(encodeMessage({ type: 'hello', version: 1, root: new Uint8Array(32).fill(7), count: 1 }))
      assert.equal(decodeMessage((await lp.read()).subarray()).type, 'reply')
    }
    // random() = 0: every pick takes the first candidate, so only the retry can reach the second peer
    const a = await startGossipNode({ gossip: { intervalMs: 300, random: () => 0 } })
    nodes.push(a)
    for (const n of [x, y]) await a.libp2p.dial(multiaddr(n.addr))
    await waitFor(async () => (await a.gossip.gossipPeers()).length === 2, { timeout: 10_000, message: 'a to see x and y' })
    const roundsWithXY = (): number => a.gossip.lastRounds.filter(r => r.role === 'initiator' && (r.peer === x.id || r.peer === y.id)).length
    await waitFor(() => roundsWithXY() >= 6, { timeout: 15_000, message: 'a few timer rounds' })
    // (discovery may add the raw client as a third gossip peer: only rounds with x and y count)
    const held = new Set([x.id, y.id])
    const tries = a.gossip.lastRounds.filter(r => r.role === 'initiator' && held.has(r.peer))
    assert.ok(tries.every(r => r.outcome === 'busy'), tries.map(r => `${r.outcome} ${r.error ?? ''}`).join(' / '))
    // without the retry every round would go to the same (first) peer
    assert.equal(new Set(tries.map(r => r.peer)).size, 2)
  })

  it('anti-entropy timer alone spreads a write (eager push off)', async () => {
    const three = await cluster(3, { intervalMs: 200, fanout: 0 })
    await three[2]!.replica.write('periodic', { addEpisodes: ['e'], confidence: 0.3 })
    await waitFor(async () => {
      for (const n of three) if ((await n.replica.get('periodic')) === undefined) return false
      return true
    }, { timeout: 15_000, message: 'the pattern on every node by anti-entropy' })
    assert.ok(three.some(n => n.gossip.lastRounds.some(r => r.role === 'initiator' && r.patternsOut + r.patternsIn > 0)))
    void peerIdFromString
  })
  it('gossip peers: those identify reports speaking gossip; out (with its in-sync entry) when the connection closes, back after a redial', async () => {
    const [a, b, c] = await cluster(3, { intervalMs: 0, fanout: 0 })
    const ids = async (n: GossipNode): Promise<string[]> => (await n.gossip.gossipPeers()).map(String).sort()
    assert.deepEqual(await ids(a!), [b!.libp2p.peerId.toString(), c!.libp2p.peerId.toString()].sort())
    // the same set the peer store gives after identify
    const fromStore = (await gossipPeers(a!.libp2p)).map(String).sort()
    assert.deepEqual(await ids(a!), fromStore)

    assert.equal((await a!.gossip.syncNow(b!.libp2p.peerId)).outcome, 'in-sync')
    assert.equal(a!.gossip.peerInSync.get(b!.libp2p.peerId.toString()), true)

    await a!.libp2p.hangUp(b!.libp2p.peerId)
    await waitFor(async () => !(await ids(a!)).includes(b!.libp2p.peerId.toString()), { timeout: 10_000, message: 'b to leave a\'s gossip peers' })
    assert.deepEqual(await ids(a!), [c!.libp2p.peerId.toString()])
    assert.equal(a!.gossip.peerInSync.has(b!.libp2p.peerId.toString()), false, 'a peer that left has no in-sync entry')

    await a!.libp2p.dial(multiaddr(b!.addr))
    await waitFor(async () => (await ids(a!)).includes(b!.libp2p.peerId.toString()), { timeout: 10_000, message: 'b back among a\'s gossip peers' })
    const r = await a!.gossip.syncNow(b!.libp2p.peerId)
    assert.equal(r.outcome, 'in-sync', r.error)
  })
})
