/**
 * Issue 14's hostile-peer suite: each attack it found, run by a raw client speaking the protocol
 * against a real node in a process of its own (test/helpers/hostile/). For every attack the same
 * three things must hold while it runs: an honest peer completes sessions with the victim, the
 * victim's local API answers within a second, and the victim's heap after GC stays bounded.
 * Each prints the victim's CPU per attacker byte and per request.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { startGossipNode, type GossipNode } from '../helpers/gossip-nodes.js'
import { startVictim, type Victim } from '../helpers/hostile/victim.js'
import type { VictimInit } from '../helpers/hostile/victim-process.js'
import { API_BOUND_MS, describeReport, underAttack, type AttackBounds, type AttackTally, type HostileReport } from '../helpers/hostile/under-attack.js'
import { amplification, emptyPushes, freshIdentities, keyFlood, slotHolder, slowloris } from '../helpers/hostile/attacks.js'
import { PUSH_NEW_KEYS_PER_MINUTE } from '../../src/gossip/constants.js'
import { call } from '../helpers/api.js'
import { waitFor } from '../helpers/wait.js'

const MiB = 1048576

interface Stage {
  victim: Victim
  attacker: GossipNode
  honest: GossipNode
}

/** A victim with the given settings, an attacker and an honest peer connected to it; stopped after the describe. */
function stage (init: VictimInit): () => Stage {
  let s: Stage | undefined
  before(async () => {
    const victim = await startVictim(init)
    const attacker = await startGossipNode()
    const honest = await startGossipNode()
    s = { victim, attacker, honest }
    await honest.libp2p.dial(multiaddr(victim.addr))
  })
  after(async () => {
    await Promise.allSettled([s?.victim.stop(), s?.attacker.stop(), s?.honest.stop()])
  })
  return () => {
    if (s === undefined) throw new Error('the stage did not start')
    return s
  }
}

/** The three things every attack must leave standing. */
function assertServed (name: string, r: HostileReport, heapBound: number): void {
  console.log(describeReport(name, r))
  assert.ok(r.honestSyncs >= 1, `no honest session completed during the attack: ${r.honestOutcomes.join(', ')}`)
  assert.ok(r.apiProbes >= 3, `the API was asked only ${r.apiProbes} times`)
  assert.deepEqual(r.apiFailures, [], `the API did not answer within ${API_BOUND_MS} ms`)
  assert.ok(r.heapGrowth < heapBound, `the victim's heap grew ${(r.heapGrowth / MiB).toFixed(1)} MiB (bound ${heapBound / MiB} MiB)`)
}

async function attackWith<T extends AttackTally> (
  s: Stage, attack: (signal: AbortSignal) => Promise<T>, bounds: AttackBounds
): Promise<HostileReport & { tally: T }> {
  return await underAttack(s.victim, s.honest, attack, bounds)
}

describe('hostile peers: the victim keeps serving', () => {
  describe('case 1: a request that names the whole tree thousands of times', () => {
    // no cooldown: each attack is let in, so what one costs the victim is what is measured
    const s = stage({ patterns: 2000, gossipLimits: { sessionCooldownMs: 0 } })
    it('is refused at once every time (it may name only what a reply offered)', async () => {
      const r = await attackWith(s(), amplification(s().attacker, s().victim), { minMs: 5000, maxMs: 30_000, minHonestSyncs: 3 })
      assertServed('amplification', r, 8 * MiB)
      assert.ok(r.tally.requests >= 5, `only ${r.tally.requests} attacks ran`)
      assert.equal(r.tally.endedByVictim, r.tally.requests, 'the victim ended every attacking session at once')
    })
  })

  describe('case 2: a peer that holds the only session slot and reopens at once', () => {
    const s = stage({ gossipLimits: { maxConcurrentSessions: 1, sessionTimeoutMs: 1500, messageTimeoutMs: 1000, sessionCooldownMs: 4000 } })
    it('is sent away for a cooldown while others wait, so honest peers get the slot', async () => {
      const r = await attackWith(s(), slotHolder(s().attacker, s().victim, 700), { minMs: 3000, maxMs: 30_000, minHonestSyncs: 2 })
      assertServed('slot holder', r, 8 * MiB)
      assert.ok(r.tally.held >= 1, 'the attacker held the slot')
      assert.ok(r.tally.busy >= 1, 'the attacker was sent away')
      assert.ok(r.honestSyncs >= 2, `honest sessions: ${r.honestOutcomes.join(', ')}`)
    })
  })

  describe('case 3: slowloris, frames begun and never finished on every stream a peer may hold', () => {
    const messageTimeoutMs = 1000
    const s = stage({ gossipLimits: { messageTimeoutMs } })
    it('lets go of each within the message timeout', async () => {
      const r = await attackWith(s(), slowloris(s().attacker, s().victim), { minMs: 4000, maxMs: 30_000 })
      assertServed('slowloris', r, 8 * MiB)
      assert.ok(r.tally.requests >= 3, `only ${r.tally.requests} frames were begun`)
      assert.equal(r.tally.stillOpen, 0, 'a half-sent frame was held without end')
      // a few seconds of slack: the abort travels back over Yamux and the poll has its own period
      assert.ok(r.tally.longestHeldMs < messageTimeoutMs + 4000, `held ${r.tally.longestHeldMs.toFixed(0)} ms`)
    })
  })

  describe('case 4: empty push frames without end (each once left a dependant on a long-lived signal)', () => {
    const s = stage({})
    it('leaves the heap where it was', async () => {
      const r = await attackWith(s(), emptyPushes(s().attacker, s().victim), { minMs: 6000, maxMs: 30_000 })
      // the victim reads them at its frame quota's pace (test/gossip/push-heap.test.ts measures
      // the heap per frame read, at full speed)
      assert.ok(r.tally.requests >= 50_000, `only ${r.tally.requests} frames were sent`)
      assertServed('empty pushes', r, 8 * MiB)
    })
  })

  describe('case 5: new keys pushed without end, each a valid signed write', () => {
    const s = stage({})
    it('takes at most the push quota of them; anti-entropy is left to bring what is honest', async () => {
      const r = await attackWith(s(), keyFlood(s().attacker, s().victim), { minMs: 4000, maxMs: 30_000 })
      assertServed('key flood', r, 32 * MiB)
      const status = await call(s().victim.api, 'GET', '/v1/status', { token: s().victim.token })
      // the bucket holds a minute's quota and refills at that rate over the attack
      const quota = Math.ceil(PUSH_NEW_KEYS_PER_MINUTE * (1 + r.ms / 60_000))
      // every pattern the victim holds is the attacker's or the honest peer's
      const flooded = (status.json.patterns as number) - s().honest.replica.count
      assert.ok(r.tally.keys > quota, `the attacker sent ${r.tally.keys} keys, not beyond the quota`)
      assert.ok(flooded <= quota, `${flooded} of the attacker's ${r.tally.keys} keys were taken (quota ${quota})`)
    })
  })

  describe('case 6: fresh identities, each connecting, starting a session and leaving', () => {
    const s = stage({})
    it('leaves no per-peer state behind', async () => {
      const r = await attackWith(s(), freshIdentities(s().victim), { minMs: 4000, maxMs: 30_000 })
      assertServed('fresh identities', r, 8 * MiB)
      assert.ok(r.tally.requests >= 5, `only ${r.tally.requests} of ${r.tally.identities} identities got a session`)
      // each one's label on the per-peer gauge goes when it does: only the honest peer stays
      const { victim, honest } = s()
      const labelled = async (): Promise<string[]> => {
        const text = (await call(victim.api, 'GET', '/metrics', { token: victim.token })).text
        return [...text.matchAll(/^engram_peer_roots_equal\{peer="([^"]+)"\}/gm)].map(m => m[1]!)
      }
      await waitFor(async () => (await labelled()).every(p => p === honest.id), { timeout: 15_000, message: 'the departed peers\' labels to go' })
      assert.deepEqual(await labelled(), [honest.id])
    })
  })
})
