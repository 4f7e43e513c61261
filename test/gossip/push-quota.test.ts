/**
 * Issue 14, case 5: what one peer may push to us per minute (new keys, bytes). Beyond it a push
 * frame's patterns are left out, counted and logged, while updates of keys we hold go on, and
 * anti-entropy still brings the rest. The buckets refill with time and are bounded in number.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { PushQuota } from '../../src/gossip/push-quota.js'
import { startGossipNode, type GossipNode } from '../helpers/gossip-nodes.js'
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import { encodeMessage } from '../../src/gossip/codec.js'
import { applyWrite } from '../../src/core/pattern.js'
import { waitFor } from '../helpers/wait.js'

describe('push quota', () => {
  it('takes patterns while the peer\'s new keys and bytes last, refills with time, and keeps peers apart', () => {
    const clock = { t: 0 }
    const q = new PushQuota({ newKeysPerMinute: 3, bytesPerMinute: 1000, framesPerMinute: 1000, now: () => clock.t })
    const news = (n: number, bytes = 100): Array<{ isNew: boolean, bytes: number }> => Array.from({ length: n }, () => ({ isNew: true, bytes }))
    assert.deepEqual(q.take('p', news(5)), [true, true, true, false, false])
    // known keys cost bytes only
    assert.deepEqual(q.take('p', [{ isNew: false, bytes: 600 }, { isNew: false, bytes: 200 }]), [true, false])
    assert.deepEqual(q.take('q', news(1)), [true])
    clock.t += 20_000 // a third of a minute: one key and a third of the bytes back
    assert.deepEqual(q.take('p', news(2)), [true, false])
    clock.t += 600_000 // long idle: full again, never more
    assert.deepEqual(q.take('p', news(4)), [true, true, true, false])
    q.forget('p')
    assert.deepEqual(q.take('p', news(3)), [true, true, true])
    for (let i = 0; i < 2000; i++) q.take(`x${i}`, [])
    assert.equal((q as unknown as { buckets: Map<string, unknown> }).buckets.size, 1024)
  })

  it('pauses reading a peer over any of its quotas until it has a second\'s worth again; frames count even when empty', () => {
    const clock = { t: 0 }
    const q = new PushQuota({ newKeysPerMinute: 60, bytesPerMinute: 6000, framesPerMinute: 120, now: () => clock.t })
    assert.equal(q.pauseMs('p'), 0)
    for (let i = 0; i < 120; i++) q.take('p', [])
    // out of frames: one comes back every 500 ms
    assert.equal(q.pauseMs('p'), 500)
    assert.equal(q.pauseMs('q'), 0, 'another peer is not held back')
    clock.t += 500
    assert.equal(q.pauseMs('p'), 0)
    // out of new keys (60 per minute): a second's worth, one key, is back in 1 s
    q.take('r', Array.from({ length: 60 }, () => ({ isNew: true, bytes: 1 })))
    assert.equal(q.pauseMs('r'), 1000)
    // out of bytes: a second's worth (100 B) is back in 1 s; half of it in half that
    q.take('s', [{ isNew: false, bytes: 6000 }])
    assert.equal(q.pauseMs('s'), 1000)
    clock.t += 500
    assert.equal(q.pauseMs('s'), 500)
  })

  const nodes: GossipNode[] = []
  after(async () => { await Promise.allSettled(nodes.map(async n => { await n.stop() })) })

  it('a peer pushing more new keys than its quota: the rest are left out (counted, logged), updates go on, anti-entropy brings them', async () => {
    const victim = await startGossipNode({ gossip: { pushQuota: { newKeysPerMinute: 20, bytesPerMinute: 1024 * 1024, framesPerMinute: 1000 } } })
    const pusher = await startGossipNode()
    nodes.push(victim, pusher)
    const states = Array.from({ length: 50 }, (_, i) => applyWrite(undefined, `flood/${i}`, { addEpisodes: ['e'], confidence: 0.5 }, pusher.author, i + 1))
    await pusher.replica.mergeRemote(states)
    const stream = await pusher.libp2p.dialProtocol(multiaddr(victim.addr), GOSSIP_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(encodeMessage({ type: 'patterns', patterns: states, push: true }))
    await waitFor(() => victim.gossip.lastRounds.some(r => r.role === 'push-in'), { timeout: 10_000, message: 'the push' })
    const r = victim.gossip.lastRounds.find(x => x.role === 'push-in')!
    assert.deepEqual([r.patternsIn, r.patternsChanged, r.patternsSkipped, r.refusal], [50, 20, 30, 'push-quota'])
    assert.equal(victim.replica.count, 20)
    // its key quota is spent, but an update of a key the victim holds still lands
    const update = applyWrite(states[0], 'flood/0', { addEpisodes: ['more'], confidence: 0.7 }, pusher.author, 51)
    const fresh = applyWrite(undefined, 'flood/new', { confidence: 0.1 }, pusher.author, 52)
    await lp.write(encodeMessage({ type: 'patterns', patterns: [update, fresh], push: true }))
    await waitFor(() => victim.gossip.lastRounds.filter(x => x.role === 'push-in').length === 2, { timeout: 10_000, message: 'the second push' })
    const second = victim.gossip.lastRounds.filter(x => x.role === 'push-in')[1]!
    assert.deepEqual([second.patternsChanged, second.patternsSkipped], [1, 1])
    assert.equal((await victim.replica.get('flood/0'))?.versions[0]?.confidence, 0.7)
    // a session (solicited: the victim pulls) is not held to the push quota
    const sync = await victim.gossip.syncNow(pusher.libp2p.peerId)
    assert.equal(sync.outcome, 'synced', sync.error)
    assert.equal(victim.replica.count, 50)
    stream.abort(new Error('test done'))
  })
})
