/**
 * Issue 14, case 2: a peer that holds the only session slot and reopens a session the moment
 * its last one ends. Before fair admission an honest peer was answered busy nearly every time;
 * now the holder is told to wait out a cooldown while others were turned away, and the honest
 * peer, back when told, gets the slot. Real nodes over TCP; the attacker speaks the protocol raw.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { startGossipNode, type GossipNode } from '../helpers/gossip-nodes.js'
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import { decodeMessage, encodeMessage } from '../../src/gossip/codec.js'
import type { GossipMessage } from '../../src/core/reconcile-messages.js'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('a peer that keeps the session slot', () => {
  const nodes: GossipNode[] = []
  after(async () => { await Promise.allSettled(nodes.map(async n => { await n.stop() })) })

  /* eslint-disable no-unmodified-loop-condition -- `done` is set by the honest side's loop */
  it('cannot keep an honest peer out: the honest peer syncs while the attack runs, and the holder is sent away', async () => {
    const victim = await startGossipNode({ gossip: { maxConcurrentSessions: 1, sessionTimeoutMs: 1500, messageTimeoutMs: 1000, sessionCooldownMs: 4000 } })
    const attacker = await startGossipNode()
    const honest = await startGossipNode()
    nodes.push(victim, attacker, honest)
    await victim.replica.write('held', { addEpisodes: ['v'], confidence: 0.5 })
    await honest.replica.write('from-honest', { addEpisodes: ['h'], confidence: 0.5 })
    await honest.libp2p.dial(multiaddr(victim.addr))

    const deadline = Date.now() + 20_000
    let done = false
    const seen = { sessions: 0, busy: 0 }
    // the attacker: a session, held with one small request just inside the message timeout
    // until the session timeout ends it, then at once the next (bounded by the deadline)
    const attack = (async () => {
      while (!done && Date.now() < deadline) {
        try {
          const stream = await attacker.libp2p.dialProtocol(multiaddr(victim.addr), GOSSIP_PROTOCOL)
          // reopen the moment the victim ends a session: no gap for anyone else
          const ended = new Promise<void>(resolve => { stream.addEventListener('close', () => { resolve() }, { once: true }) })
          const lp = lpStream(stream)
          const read = async (): Promise<GossipMessage> => decodeMessage((await lp.read()).subarray())
          await lp.write(encodeMessage({ type: 'hello', version: 1, root: new Uint8Array(32).fill(3), count: 1 }))
          const reply = await read()
          if (reply.type === 'reply' && reply.busy === true) {
            seen.busy++
            stream.abort(new Error('busy'))
            await sleep(20)
            continue
          }
          seen.sessions++
          for (const prefix of '0123456789abcdef') {
            if (await Promise.race([sleep(700).then(() => false), ended.then(() => true)])) break
            await lp.write(encodeMessage({ type: 'request', descend: [], probes: [], pullPrefixes: [prefix], done: false }))
            while ((await read()).type !== 'reply');
          }
        } catch {
          // the victim ended the session (its timeout): reopen at once
        }
      }
    })()

    const outcomes: string[] = []
    try {
      // the attacker holds the slot first
      while (seen.sessions === 0 && Date.now() < deadline) await sleep(20)
      await sleep(100)
      while (Date.now() < deadline) {
        const r = await honest.gossip.syncNow(victim.libp2p.peerId)
        outcomes.push(r.outcome)
        if (r.outcome === 'synced') break
      }
    } finally {
      done = true
      await attack
    }
    assert.ok(outcomes.includes('synced'), `honest outcomes: ${outcomes.join(', ')}`)
    assert.ok(await victim.replica.get('from-honest'), 'the honest peer\'s pattern reached the victim')
    assert.ok(seen.sessions >= 1, 'the attacker held the slot')
    assert.ok(seen.busy >= 1, `the attacker was sent away (${JSON.stringify(seen)})`)
  })
  /* eslint-enable no-unmodified-loop-condition */
})
