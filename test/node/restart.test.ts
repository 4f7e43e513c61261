/**
 * A node that restarts with its key and its remembered peers (LevelDB) but no join address
 * must find the cluster again.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipPeers } from '../helpers/gossip-peers.js'
import { MetaKnownPeerStore } from '../../src/discovery/known-peers-meta.js'
import { Replica } from '../../src/store/replica.js'
import { addrOf, startTestNode, stopAll } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import type { EngramLibp2p } from '../../src/node/libp2p.js'
import { author } from '../helpers/authors.js'

async function hasGossipPeers (node: EngramLibp2p, others: EngramLibp2p[]): Promise<boolean> {
  const ids = new Set((await gossipPeers(node)).map(p => p.toString()))
  return others.every(o => ids.has(o.peerId.toString()))
}

describe('restart', { timeout: 60_000 }, () => {
  let dir: string
  const cluster: EngramLibp2p[] = []
  const extra: Array<EngramLibp2p | undefined> = []
  const dbs: Replica[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engram-restart-'))
    for (let i = 0; i < 3; i++) {
      const prev = cluster[i - 1]
      cluster.push(await startTestNode({ join: prev != null ? [addrOf(prev)] : [] }))
    }
  })

  after(async () => {
    await stopAll([...cluster, ...extra])
    await Promise.allSettled(dbs.map(async db => { await db.close() }))
    await rm(dir, { recursive: true, force: true })
  })

  it('reconnects from remembered peers, with no join address', async () => {
    const first = cluster[0]
    assert.ok(first != null)
    const privateKey = await generateKeyPair('Ed25519')
    const dbPath = join(dir, 'db')

    let db = await Replica.open({ dir: dbPath, author: author('me') })
    dbs.push(db)
    const node = await startTestNode({ privateKey, join: [addrOf(first)], discovery: { knownPeers: new MetaKnownPeerStore(db) } })
    extra.push(node)
    await waitFor(async () => await hasGossipPeers(node, cluster), { timeout: 10_000, message: 'the node to join the cluster' })
    await node.stop() // saves the connected peers
    await db.close()

    const remembered = await (async () => {
      const d = await Replica.open({ dir: dbPath, author: author('me') })
      try { return await new MetaKnownPeerStore(d).load() } finally { await d.close() }
    })()
    assert.deepEqual(new Set(remembered.map(p => p.id)), new Set(cluster.map(n => n.peerId.toString())))

    db = await Replica.open({ dir: dbPath, author: author('me') })
    dbs.push(db)
    const again = await startTestNode({ privateKey, discovery: { knownPeers: new MetaKnownPeerStore(db) } })
    extra.push(again)
    assert.equal(again.peerId.toString(), node.peerId.toString())
    await waitFor(async () => await hasGossipPeers(again, cluster), { timeout: 10_000, message: 'the restarted node to reconnect' })
    // and the cluster sees it as a gossip peer again
    await waitFor(async () => {
      for (const member of cluster) {
        if (!(await gossipPeers(member)).some(p => p.equals(again.peerId))) return false
      }
      return true
    }, { timeout: 10_000, message: 'every member to list the restarted node' })
  })
})
