/**
 * Issue 14, case 4: every inbound frame used to leave one dependant on a long-lived signal
 * (AbortSignal.any on Node 20, nodejs/node#55351), so a peer streaming empty push frames grew
 * the heap without end. Reads now use a Deadline that lets go when the read ends. A peer sends
 * many empty push frames on one stream; the heap after a full GC stays where it was.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { startGossipNode, type GossipNode } from '../helpers/gossip-nodes.js'
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import { encodeMessage } from '../../src/gossip/codec.js'
import { waitFor } from '../helpers/wait.js'
import { applyWrite } from '../../src/core/pattern.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** frames sent; the old per-read dependant cost ~65 B each, so the leak would show as several MiB */
const FRAMES = 100_000

async function settledHeap (): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise(resolve => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

describe('a peer streaming empty push frames', () => {
  const nodes: GossipNode[] = []
  after(async () => { await Promise.allSettled(nodes.map(async n => { await n.stop() })) })

  it('leaves the heap where it was', async () => {
    // a frame quota far above the frames sent: this test is about what each read leaves behind
    const victim = await startGossipNode({ gossip: { pushQuota: { newKeysPerMinute: 10_000, bytesPerMinute: 1 << 25, framesPerMinute: 100 * FRAMES } } })
    const attacker = await startGossipNode()
    nodes.push(victim, attacker)
    const stream = await attacker.libp2p.dialProtocol(multiaddr(victim.addr), GOSSIP_PROTOCOL)
    const lp = lpStream(stream)
    const frame = encodeMessage({ type: 'patterns', patterns: [], push: true })
    // warm up: the first frames set up what every later one reuses
    for (let i = 0; i < 1000; i++) await lp.write(frame)
    await waitFor(() => victim.gossip.lastRounds.filter(r => r.role === 'push-in').length >= 50, { timeout: 10_000, message: 'pushes to arrive' })
    const before = await settledHeap()
    for (let i = 0; i < FRAMES; i += 1000) await lp.writeV(Array(1000).fill(frame))
    // frames of one stream are read in order: once a pattern pushed after them is merged, all were read
    await lp.write(encodeMessage({ type: 'patterns', patterns: [applyWrite(undefined, 'marker', { confidence: 0.5 }, attacker.author, 1)], push: true }))
    await waitFor(async () => (await victim.replica.get('marker')) !== undefined, { timeout: 30_000, message: 'the pushes to be read' })
    assert.equal(stream.status, 'open', 'the stream stayed open: every frame was valid')
    const grown = (await settledHeap()) - before
    console.log(`# ${FRAMES} empty push frames: heap after GC grew ${(grown / 1048576).toFixed(2)} MiB`)
    assert.ok(grown < 3 * 1048576, `heap grew ${(grown / 1048576).toFixed(1)} MiB`)
    stream.abort(new Error('test done'))
  })
})
