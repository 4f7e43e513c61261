/**
 * Issue 14, case 1: CPU amplification. A member sends a Hello with a random root, then a Request
 * that probes and pulls the whole tree thousands of times. The responder used to scan its whole
 * index once per probe and prefix, synchronously (seconds to minutes of a blocked event loop);
 * now a request may name only subtrees a reply offered, each once, so it is refused at once, the
 * attacker may repeat it as often as it likes, and an honest peer keeps syncing meanwhile. Real
 * nodes over TCP; the attacker speaks the protocol raw. Prints the victim's CPU per attacker byte.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { startGossipNode, type GossipNode } from '../helpers/gossip-nodes.js'
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import { decodeMessage, encodeMessage } from '../../src/gossip/codec.js'

/** attacks in a row (each on a new stream, at once after the last) */
const ATTACKS = 20

describe('a member asking for the whole tree thousands of times in one request', () => {
  let victim: GossipNode
  let attacker: GossipNode
  let honest: GossipNode
  before(async () => {
    victim = await startGossipNode()
    attacker = await startGossipNode()
    honest = await startGossipNode()
    for (let i = 0; i < 2000; i += 500) {
      await victim.replica.writeMany(Array.from({ length: 500 }, (_, j) => ({ key: `p/${i + j}`, op: { addEpisodes: [`e${i + j}`], confidence: 0.5 } })))
    }
    await honest.libp2p.dial(multiaddr(victim.addr))
  })
  after(async () => { await Promise.allSettled([victim, attacker, honest].map(async n => { await n?.stop() })) })

  it('is refused at once, every time; the event loop keeps running and an honest peer keeps syncing', async () => {
    const request = encodeMessage({
      type: 'request',
      descend: [],
      probes: Array.from({ length: 16_384 }, () => ({ prefix: '', entries: [] })),
      pullPrefixes: Array(4096).fill(''),
      done: false
    })
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    let cpuUs = 0
    let sent = 0
    const roundsBefore = victim.gossip.lastRounds.length
    try {
      for (let i = 0; i < ATTACKS; i++) {
        const cpuBefore = process.cpuUsage()
        const stream = await attacker.libp2p.dialProtocol(multiaddr(victim.addr), GOSSIP_PROTOCOL)
        const lp = lpStream(stream)
        const hello = encodeMessage({ type: 'hello', version: 1, root: new Uint8Array(32).fill(i + 1), count: 1 })
        await lp.write(hello)
        assert.equal(decodeMessage((await lp.read()).subarray()).type, 'reply')
        await lp.write(request)
        sent += hello.length + request.length
        // the victim ends the stream: nothing comes back but the end
        await assert.rejects(lp.read())
        const cpu = process.cpuUsage(cpuBefore)
        cpuUs += cpu.user + cpu.system
        if (i % 5 === 4) {
          await honest.replica.write(`honest/${i}`, { addEpisodes: ['h'], confidence: 0.5 })
          const r = await honest.gossip.syncNow(victim.libp2p.peerId)
          assert.equal(r.outcome, 'synced', r.error)
        }
      }
    } finally {
      delay.disable()
    }
    const attacks = victim.gossip.lastRounds.slice(roundsBefore).filter(r => r.peer === attacker.id)
    assert.equal(attacks.length, ATTACKS)
    for (const r of attacks) assert.match(r.error ?? '', /ProtocolViolationError: prefix "" was not offered/)
    assert.equal(victim.replica.count, 2000 + ATTACKS / 5)
    // a blocked event loop shows as a long delay: no attack came near a second
    const maxMs = delay.max / 1e6
    assert.ok(maxMs < 1000, `event loop blocked ${maxMs.toFixed(0)} ms`)
    const cpuMs = cpuUs / 1000
    const sessionMs = attacks.map(r => r.ms).sort((a, b) => a - b)
    // one process runs both ends, so the CPU figure is an upper bound on the victim's share
    console.log(`# amplification: ${ATTACKS} attacks, ${sent} attacker bytes; CPU of both ends during the attacks ${cpuMs.toFixed(0)} ms = ` +
      `${(cpuMs / ATTACKS).toFixed(1)} ms per attack, ${(cpuMs * 1e3 / sent).toFixed(2)} µs per attacker byte; victim's session from Hello to ` +
      `refusal: median ${sessionMs[ATTACKS >> 1]} ms; longest event-loop delay ${maxMs.toFixed(0)} ms`)
  })
})
