/**
 * Sync on connect: the session a peer gets when it (re)connects or after a failed exchange.
 * The scheduling rules run without sockets; the join and reconnect cases on real nodes
 * with the production interval (60 s), so no timer round can be what moved the data.
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { logger } from '@libp2p/logger'
import type { PeerId } from '@libp2p/interface'
import { ConnectSync } from '../../src/gossip/connect-sync.js'
import { emptyReport, type RoundReport, type SessionOutcome, type SessionRole } from '../../src/gossip/types.js'
import { startEngram, stopEngrams, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { internalsOf } from '../../src/node/internals.js'

const fakePeer = (id: string): PeerId => ({ toString: () => id, equals: (o: PeerId) => o.toString() === id }) as unknown as PeerId
const report = (peer: string, role: SessionRole, outcome: SessionOutcome): RoundReport => ({ ...emptyReport(peer, role), outcome })

/** A ConnectSync whose sessions answer from a script; records every session it runs. */
function harness (self: string, outcomes: Record<string, SessionOutcome[]>, opts: { connected?: Set<string> } = {}) {
  const runs: string[] = []
  let running = 0
  let maxRunning = 0
  const connected = opts.connected ?? new Set(Object.keys(outcomes))
  const cs: ConnectSync = new ConnectSync({
    self: fakePeer(self),
    connected: (p) => connected.has(p.toString()),
    log: logger('engram:test:connect-sync'),
    graceMs: 100,
    cooldownMs: 300,
    backoffMs: 20,
    maxBackoffMs: 80,
    maxAttempts: 5,
    random: () => 0.5,
    run: async (p) => {
      running++
      maxRunning = Math.max(maxRunning, running)
      runs.push(p.toString())
      await sleep(10)
      running--
      const outcome = outcomes[p.toString()]?.shift() ?? 'in-sync'
      const r = report(p.toString(), 'initiator', outcome)
      cs.exchanged(r) // as the service's record() does for every report
      return r
    }
  })
  cs.start()
  return { cs, runs, connected, maxRunning: () => maxRunning }
}

describe('connect sync: scheduling (no sockets)', () => {
  it('the lower PeerId starts at once; the higher waits and skips it when the other side started', async () => {
    const low = harness('A', { B: [] })
    low.cs.connected(fakePeer('B'))
    await waitFor(() => low.runs.length === 1, { timeout: 2000, message: 'the lower id to start' })

    const high = harness('C', { B: [] })
    high.cs.connected(fakePeer('B'))
    await sleep(30)
    assert.equal(high.runs.length, 0, 'the higher id waits for the grace time')
    // B started a session with us meanwhile: we answered it as responder
    high.cs.exchanged(report('B', 'responder', 'synced'))
    await sleep(200)
    assert.equal(high.runs.length, 0, 'no second session after the peer started one')
    low.cs.stop()
    high.cs.stop()
  })

  it('the higher PeerId starts after the grace time when the other side did not', async () => {
    const h = harness('Z', { B: [] })
    h.cs.connected(fakePeer('B'))
    await waitFor(() => h.runs.length === 1, { timeout: 2000, message: 'the higher id to start after the grace time' })
    h.cs.stop()
  })

  it('a busy or failed session is tried again with backoff until it succeeds, and no more', async () => {
    const h = harness('A', { B: ['busy', 'error', 'timeout', 'synced'] })
    h.cs.connected(fakePeer('B'))
    await waitFor(() => h.runs.length === 4, { timeout: 3000, message: 'four attempts' })
    await sleep(300)
    assert.equal(h.runs.length, 4, 'nothing after the successful one')
    h.cs.stop()
  })

  it('gives up after maxAttempts failures (the timer rounds are the backstop)', async () => {
    const h = harness('A', { B: Array(20).fill('error') })
    h.cs.connected(fakePeer('B'))
    await waitFor(() => h.runs.length >= 5, { timeout: 3000, message: 'five attempts' })
    await sleep(400)
    assert.equal(h.runs.length, 5)
    h.cs.stop()
  })

  it('a reconnect within the cooldown after a success runs nothing; after it, a new session', async () => {
    const h = harness('A', { B: [] })
    h.cs.connected(fakePeer('B'))
    await waitFor(() => h.runs.length === 1, { timeout: 2000 })
    h.cs.disconnected(fakePeer('B'))
    h.cs.connected(fakePeer('B'))
    await sleep(100)
    // the entry was dropped on disconnect, so a flapping peer is bounded by the per-connect grace and one session at a time
    assert.ok(h.runs.length <= 2)
    const before = h.runs.length
    await sleep(350)
    h.cs.connected(fakePeer('B'))
    await waitFor(() => h.runs.length === before + 1, { timeout: 2000, message: 'a session after the cooldown' })
    h.cs.stop()
  })

  it('a failed push or session with a connected peer asks for a session; a disconnected peer gets none', async () => {
    const connected = new Set(['B', 'C'])
    const h = harness('A', { B: [], C: [] }, { connected })
    h.cs.connected(fakePeer('B'))
    h.cs.connected(fakePeer('C'))
    await waitFor(() => h.runs.length === 2, { timeout: 2000 })
    h.cs.exchanged(report('B', 'push-out', 'error'))
    await waitFor(() => h.runs.filter(p => p === 'B').length === 2, { timeout: 2000, message: 'a session after the failed push' })
    connected.delete('C')
    h.cs.exchanged(report('C', 'initiator', 'timeout'))
    await sleep(300)
    assert.equal(h.runs.filter(p => p === 'C').length, 1)
    h.cs.stop()
  })

  it('runs one session at a time however many peers connect at once, and nothing after stop', async () => {
    const peers = Array.from({ length: 12 }, (_, i) => `P${String(i).padStart(2, '0')}`)
    const h = harness('A', Object.fromEntries(peers.map(p => [p, []])))
    for (const p of peers) h.cs.connected(fakePeer(p))
    await waitFor(() => h.runs.length === peers.length, { timeout: 3000 })
    assert.equal(h.maxRunning(), 1)
    assert.deepEqual([...h.runs].sort(), peers)
    h.cs.stop()
    h.cs.connected(fakePeer('P99'))
    await sleep(200)
    assert.equal(h.runs.length, peers.length)
  })
})

describe('connect sync: real nodes, production interval (60 s)', () => {
  const nodes: TestEngram[] = []
  after(async () => { await stopEngrams(nodes) })

  it('a node joining one that holds 10,000 patterns holds them all within 10 s of its start', async () => {
    const a = await startEngram({ intervalMs: 60_000, fanout: 'auto' })
    nodes.push(a)
    for (let i = 0; i < 10_000; i += 1000) {
      await a.node.putMany(Array.from({ length: 1000 }, (_, j) => ({ key: `bulk/${i + j}`, op: { addEpisodes: [`e${i + j}`], confidence: 0.5 } })))
    }
    const t0 = Date.now()
    const b = await startEngram({ intervalMs: 60_000, fanout: 'auto', join: [a.node.addresses()[0]!] })
    nodes.push(b)
    await waitFor(() => internalsOf(b.node).replica.count === 10_000,
      { timeout: 10_000 - (Date.now() - t0), interval: 100, message: 'all 10,000 patterns on the new node' })
    assert.equal((await b.node.status()).root, (await a.node.status()).root)
    // the patterns land before the session's report is logged, so wait for the report rather than read it at once
    const sessions = () => [...internalsOf(a.node).gossip.lastRounds, ...internalsOf(b.node).gossip.lastRounds]
      .filter(r => r.role === 'initiator' || r.role === 'responder')
    await waitFor(() => sessions().some(r => r.outcome === 'synced' && (r.patternsIn + r.patternsOut) === 10_000),
      { timeout: 5_000, interval: 50, message: 'a synced session that moved the 10,000 patterns' })
  })

  it('a join moves the difference once: the side that waited the grace time does not start a second transfer', async () => {
    const n = 30_000
    const a = await startEngram({ intervalMs: 60_000, fanout: 0 })
    nodes.push(a)
    for (let i = 0; i < n; i += 1000) {
      await a.node.putMany(Array.from({ length: 1000 }, (_, j) => ({ key: `once/${i + j}`, op: { addEpisodes: [`e${i + j}`], confidence: 0.5 } })))
    }
    const b = await startEngram({ intervalMs: 60_000, fanout: 0, join: [a.node.addresses()[0]!] })
    nodes.push(b)
    await waitFor(() => internalsOf(b.node).replica.count === n, { timeout: 60_000, interval: 100, message: `all ${n} patterns on the new node` })
    const sessions = (): RoundReport[] => internalsOf(b.node).gossip.lastRounds.filter(r => r.role === 'initiator' || r.role === 'responder')
    await waitFor(() => sessions().some(r => r.outcome === 'synced' && r.patternsIn === n),
      { timeout: 10_000, interval: 50, message: 'the session that moved them, logged' })
    // the transfer outlasted the grace time (the other side's connect sync came due meanwhile), and still nothing came twice
    const moving = sessions().filter(r => r.patternsIn > 0)
    assert.deepEqual(moving.map(r => r.patternsIn), [n], JSON.stringify(sessions()))
    assert.ok(moving[0]!.ms > 1_000, `the transfer took ${moving[0]!.ms} ms: not past the grace time, so this run proves nothing`)
    assert.equal((await b.node.status()).root, (await a.node.status()).root)
  })

  it('a peer that lost its connection is re-dialled and synced at once when it is back', async () => {
    // eager push off: only a session can carry the write made while they were apart
    const a = await startEngram({ intervalMs: 60_000, fanout: 0 })
    const b = await startEngram({ intervalMs: 60_000, fanout: 0, join: [a.node.addresses()[0]!] })
    nodes.push(a, b)
    await waitFor(async () => (await internalsOf(a.node).gossip.gossipPeers()).length === 1, { timeout: 10_000, message: 'a and b connected' })
    const hungUp = Date.now()
    await internalsOf(a.node).libp2p.hangUp(b.node.peerId)
    await a.node.put('while-apart', { addEpisodes: ['x'], confidence: 0.25 })
    // no dial by the test: libp2p's reconnect of the KEEP_ALIVE-tagged gossip peer brings it back
    await waitFor(async () => (await b.node.get('while-apart')) !== undefined, {
      timeout: 10_000,
      interval: 100,
      message: 'the write to reach b after the reconnect'
    })
    assert.equal((await b.node.status()).root, (await a.node.status()).root)
    const carried = () => [...internalsOf(a.node).gossip.lastRounds, ...internalsOf(b.node).gossip.lastRounds]
      .filter(r => r.startedAt >= hungUp && (r.role === 'initiator' || r.role === 'responder') && r.outcome === 'synced')
    await waitFor(() => carried().length > 0, { timeout: 5_000, interval: 50, message: 'a session after the hang-up carried it' })
  })

  it('connectSync: false leaves a new connection to the timer and syncNow', async () => {
    const a = await startEngram({ intervalMs: 60_000, fanout: 0, connectSync: false })
    await a.node.put('only-on-a', { confidence: 0.5 })
    const b = await startEngram({ intervalMs: 60_000, fanout: 0, connectSync: false, join: [a.node.addresses()[0]!] })
    nodes.push(a, b)
    await waitFor(async () => (await internalsOf(b.node).gossip.gossipPeers()).length === 1, { timeout: 10_000, message: 'a and b connected' })
    // past the connect grace and the first session's time
    await sleep(2500)
    const sessions = [...internalsOf(a.node).gossip.lastRounds, ...internalsOf(b.node).gossip.lastRounds]
    assert.deepEqual(sessions.map(r => r.role), [])
    assert.equal(await b.node.get('only-on-a'), undefined)
    const r = await b.node.syncNow(a.node.peerId.toString())
    assert.equal(r.outcome, 'synced', JSON.stringify(r))
  })

  it('an operator sync right after a connect is not answered busy by the connect sync', async () => {
    const a = nodes[0]!
    const c = await startEngram({ intervalMs: 60_000, fanout: 0, join: [a.node.addresses()[0]!] })
    nodes.push(c)
    await waitFor(async () => (await internalsOf(c.node).gossip.gossipPeers()).some(p => p.equals(a.node.peerId)), { timeout: 10_000 })
    const r = await c.node.syncNow(a.node.peerId.toString())
    assert.ok(r.outcome === 'synced' || r.outcome === 'in-sync', JSON.stringify(r))
  })
})
