/**
 * Five real nodes over TCP on 127.0.0.1, started as a chain (node i knows only node i-1):
 * the DHT rendezvous must turn the chain into a full gossip mesh, without the test dialling.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { gossipPeers } from '../helpers/gossip-peers.js'
import { addrOf, startTestNode, stopAll } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import type { EngramLibp2p } from '../../src/node/libp2p.js'
import { DHT_PROTOCOL } from '../../src/discovery/constants.js'

const N = 5

async function gossipIds (node: EngramLibp2p): Promise<Set<string>> {
  return new Set((await gossipPeers(node)).map(p => p.toString()))
}

async function fullMesh (nodes: EngramLibp2p[]): Promise<boolean> {
  for (const node of nodes) {
    const ids = await gossipIds(node)
    for (const other of nodes) {
      if (other !== node && !ids.has(other.peerId.toString())) return false
    }
  }
  return true
}

// both paths must work alone: dialling peers the DHT reports, and the rendezvous lookups
for (const dialDiscovered of [true, false]) {
  describe(`cluster discovery (dialDiscovered: ${dialDiscovered})`, { timeout: 60_000 }, () => {
    const nodes: EngramLibp2p[] = []
    let outsider: EngramLibp2p | undefined

    before(async () => {
      for (let i = 0; i < N; i++) {
        const prev = nodes[i - 1]
        nodes.push(await startTestNode({ join: prev != null ? [addrOf(prev)] : [], discovery: { dialDiscovered } }))
      }
    })

    after(async () => {
      await stopAll([...nodes, outsider])
    })

    it('a chain of 5 nodes becomes a full gossip mesh through the DHT', async (t) => {
      const started = Date.now()
      await waitFor(async () => await fullMesh(nodes), { timeout: 15_000, message: 'every node to have the 4 others as gossip peers' })
      for (const node of nodes) {
        assert.equal((await gossipPeers(node)).length, N - 1)
      }
      t.diagnostic(`5-node mesh formed in ${Date.now() - started} ms`)
    })

    it('a node without the gossip protocol is never a gossip peer', async () => {
      const first = nodes[0]
      assert.ok(first != null)
      outsider = await startTestNode({ gossip: false, join: [addrOf(first)], discovery: { dialDiscovered } })
      const o = outsider
      const oid = o.peerId.toString()

      // wait until every member is connected to it and has identified it (it speaks our DHT)
      await waitFor(async () => {
        for (const node of nodes) {
          if (node.getConnections(o.peerId).length === 0) return false
          const peer = await node.peerStore.get(o.peerId).catch(() => undefined)
          if (peer?.protocols.includes(DHT_PROTOCOL) !== true) return false
        }
        // and it has identified them (identify runs on both sides, not at the same moment)
        return (await gossipPeers(o)).length === N
      }, { timeout: 15_000, message: 'the outsider and every member to be connected and identified' })

      for (const node of nodes) {
        assert.ok(!(await gossipIds(node)).has(oid), `${node.peerId.toString()} lists the outsider as a gossip peer`)
      }
    })
  })
}
