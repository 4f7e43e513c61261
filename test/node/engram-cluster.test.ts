/**
 * The node acceptance: full Engram nodes (LevelDB, libp2p over TCP on 127.0.0.1, DHT
 * discovery, gossip), no mocks.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startChain, startEngram, stopEngrams, waitForConnectSyncs, waitForMesh, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { internalsOf } from '../../src/node/internals.js'
import type { RoundReport } from '../../src/node/types.js'

const all: TestEngram[] = []
after(async () => { await stopEngrams(all) })

async function everywhere (nodes: TestEngram[], key: string, timeout = 15_000): Promise<void> {
  await waitFor(async () => {
    for (const n of nodes) if ((await n.node.get(key)) === undefined) return false
    return true
  }, { timeout, message: `${key} on all ${nodes.length} nodes` })
}

const roots = async (nodes: TestEngram[]): Promise<Set<string>> => new Set(await Promise.all(nodes.map(async n => (await n.node.status()).root)))
const lastRounds = async (n: TestEngram): Promise<RoundReport[]> => (await n.node.status()).lastRounds

describe('engram cluster', { timeout: 120_000 }, () => {
  it('5 nodes in a chain find each other through the DHT; eager push reaches all; a further round moves nothing', async () => {
    const chain = await startChain(5, { fanout: 4 })
    all.push(...chain)
    await waitForMesh(chain)
    // each pair had its sync on connect; from here on only the push moves anything
    await waitForConnectSyncs(chain)
    const t0 = Date.now()
    await chain[4]!.node.put('pushed', { addEpisodes: ['ep-1'], confidence: 0.8 })
    await everywhere(chain, 'pushed')
    assert.equal((await roots(chain)).size, 1)
    // no anti-entropy ran: it arrived by push only
    assert.ok((await Promise.all(chain.map(lastRounds))).every(rounds => rounds.every(r => r.role !== 'initiator' || r.startedAt < t0)))
    for (const [a, b] of [[0, 4], [2, 3]] as const) {
      const r = await chain[a]!.node.syncNow(chain[b]!.node.peerId)
      assert.equal(r.outcome, 'in-sync')
      assert.equal(r.patternsIn + r.patternsOut, 0)
      assert.equal(r.roundTrips, 1)
    }
  })

  it('anti-entropy alone (eager push off, short interval) brings a write to all 5', async () => {
    const chain = await startChain(5, { fanout: 0, intervalMs: 300 })
    all.push(...chain)
    await waitForMesh(chain)
    for (let i = 0; i < 20; i++) await chain[0]!.node.put(`ae/${i}`, { addEpisodes: [`e${i}`], confidence: 0.5 })
    await everywhere(chain, 'ae/19', 30_000)
    await waitFor(async () => (await roots(chain)).size === 1, { timeout: 30_000, message: 'equal roots' })
    assert.ok((await Promise.all(chain.map(async n => await n.node.status()))).every(s => s.patterns === 20))
    assert.ok((await Promise.all(chain.map(lastRounds))).every(rounds => rounds.every(r => r.role !== 'push-out' && r.role !== 'push-in')))
  })

  it('concurrent writes of one key on 3 nodes end in one state with the mean confidence', async () => {
    const three = await startChain(3)
    all.push(...three)
    await waitForMesh(three)
    const values = [0.9, 0.6, 0.3]
    await Promise.all(three.map(async (n, i) => await n.node.put('contested', { addEpisodes: [`from-${i}`], confidence: values[i] })))
    // a few anti-entropy rounds by hand, bounded
    for (let round = 0; round < 10 && (await roots(three)).size > 1; round++) {
      for (const n of three) await n.node.syncNow()
    }
    const records = await Promise.all(three.map(async n => await n.node.get('contested')))
    assert.equal(new Set(records.map(r => r!.digest)).size, 1)
    assert.ok(Math.abs(records[0]!.confidence - 0.6) < 1e-12)
    assert.equal(records[0]!.versions, 3)
    assert.deepEqual(records[0]!.episodes, ['from-0', 'from-1', 'from-2'])
  })

  it('a node restarted without --join finds the cluster from its remembered peers and catches up', async () => {
    const chain = await startChain(3, { intervalMs: 300 })
    all.push(...chain)
    await waitForMesh(chain)
    const leaving = chain[2]!
    // the saved peer list is the store's own business: nothing public shows it
    await waitFor(async () => (await internalsOf(leaving.node).replica.getMeta('known-peers')) !== undefined,
      { timeout: 10_000, message: 'known peers saved' })
    await leaving.node.stop()
    await chain[0]!.node.put('while-away', { addEpisodes: ['x'], confidence: 0.2 })
    const back = await startEngram({ dataDir: leaving.dataDir, privateKey: leaving.privateKey, intervalMs: 300, join: [] })
    all.push(back)
    assert.equal(back.node.peerId.toString(), leaving.node.peerId.toString())
    await waitForMesh([chain[0]!, chain[1]!, back])
    await waitFor(async () => (await back.node.get('while-away')) !== undefined, { timeout: 20_000, message: 'the restarted node to catch up' })
  })
})
