/**
 * A node speaks only the current gossip protocol id: a peer that speaks only the previous one
 * (which cannot read versions kept without their deps) is connected and identified, but never a gossip peer:
 * no session, no push, nothing merged from it. Real nodes over TCP.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import { internalsOf } from '../../src/node/internals.js'
import { startEngram, stopEngrams, type TestEngram } from '../helpers/engram-nodes.js'
import { startTestNode, stopAll } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import type { EngramLibp2p } from '../../src/node/libp2p.js'

const PREVIOUS = '/engram/gossip/2.1.0'

describe('gossip protocol version', () => {
  const engrams: TestEngram[] = []
  const others: EngramLibp2p[] = []
  after(async () => {
    await stopEngrams(engrams)
    await stopAll(others)
  })

  it(`a peer speaking only ${PREVIOUS} is not a gossip peer: no session, no push reaches it`, async () => {
    assert.notEqual(GOSSIP_PROTOCOL, PREVIOUS)
    const a = await startEngram()
    engrams.push(a)
    const old = await startTestNode({ gossip: false, join: [a.node.addresses()[0]!] })
    others.push(old)
    let streams = 0
    await old.handle(PREVIOUS, stream => { streams++; void stream.close() })
    const oldId = old.peerId.toString()
    // identified with its protocols (the handler above is announced by identify push)
    await waitFor(async () => (await internalsOf(a.node).libp2p.peerStore.get(old.peerId).catch(() => undefined))?.protocols.includes(PREVIOUS) === true,
      { timeout: 10_000, message: 'the old peer identified with its protocol' })
    assert.ok(internalsOf(a.node).libp2p.getPeers().some(p => p.toString() === oldId), 'connected')
    assert.deepEqual((await internalsOf(a.node).gossip.gossipPeers()).map(p => p.toString()), [])
    await a.node.put('fresh', { confidence: 0.5 })
    const r = await a.node.syncNow(oldId).catch((err: Error) => err)
    assert.ok(r instanceof Error || r.outcome !== 'synced', JSON.stringify(r))
    assert.equal(streams, 0)
  })
})
