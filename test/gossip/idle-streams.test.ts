/**
 * A node with many peers keeps one idle inbound stream per peer between sessions, each waiting
 * for its next frame on the service's one lifetime signal. That must not trip Node's
 * MaxListenersExceededWarning (seen with 50 peers in the bench), and a finished read leaves no
 * listener behind on it.
 */
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startGossipNode, type GossipNode } from '../helpers/gossip-nodes.js'
import { waitFor } from '../helpers/wait.js'

const PEERS = 14

describe('idle inbound streams', () => {
  const nodes: GossipNode[] = []
  after(async () => { await Promise.allSettled(nodes.map(async n => { await n.stop() })) })

  it(`${PEERS} peers each with a kept stream to one node: no listener warning`, async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error): void => { if (w.name === 'MaxListenersExceededWarning') warnings.push(w) }
    process.on('warning', onWarning)
    try {
      const hub = await startGossipNode()
      nodes.push(hub)
      const peers: GossipNode[] = []
      for (let i = 0; i < PEERS; i++) {
        const p = await startGossipNode({ join: [hub.addr] })
        peers.push(p)
        nodes.push(p)
      }
      for (const p of peers) {
        await waitFor(async () => (await p.gossip.gossipPeers()).some(x => x.toString() === hub.id), { timeout: 10_000 })
        // a session may meet a stream reset while the peers' own connections settle: again, bounded
        await waitFor(async () => (await p.gossip.syncNow(hub.libp2p.peerId)).outcome === 'in-sync', { timeout: 10_000, interval: 200 })
      }
      // every peer keeps its stream: the hub has an idle reader per peer, more than Node's default cap of 10
      const open = hub.libp2p.getConnections().flatMap(c => c.streams).filter(s => s.protocol === GOSSIP_PROTOCOL)
      assert.ok(open.length > 10, `idle gossip streams on the hub: ${open.length}`)
      await new Promise(resolve => setImmediate(resolve))
      assert.deepEqual(warnings.map(w => w.message), [])
    } finally {
      process.off('warning', onWarning)
    }
  })
})
