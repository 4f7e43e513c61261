/**
 * Fair admission of inbound sessions (sans-IO, with a clock of our own): one per peer, a slot
 * kept for this node's own rounds, and under contention a cooldown for a peer that just had one.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { SessionAdmission, type Admission } from '../../src/gossip/admission.js'

function admission (maxSessions: number): { a: SessionAdmission, clock: { t: number } } {
  const clock = { t: 1_000_000 }
  const a = new SessionAdmission({ maxSessions, cooldownMs: 10_000, busyRetryMs: 2_000, now: () => clock.t, random: () => 0.5 })
  return { a, clock }
}

const refused = (x: Admission): string => x.admitted ? 'admitted' : `busy ${x.retryAfterMs} ms: ${x.why}`

describe('session admission', () => {
  it('one inbound session per peer at once; the last slot stays for this node\'s own rounds', () => {
    const { a } = admission(3)
    assert.equal(a.maxInbound, 2)
    assert.deepEqual(a.admit('p', 0), { admitted: true })
    assert.match(refused(a.admit('p', 1)), /busy 2000 ms: a session with this peer runs already/)
    assert.deepEqual(a.admit('q', 1), { admitted: true })
    assert.match(refused(a.admit('r', 2)), /every session slot is taken/)
    // with one slot in all, inbound still gets it when no round of ours runs
    const one = admission(1).a
    assert.equal(one.maxInbound, 1)
    assert.deepEqual(one.admit('p', 0), { admitted: true })
    assert.match(refused(one.admit('q', 1)), /every session slot is taken/)
  })

  it('a peer that reopens at once yields to a peer turned away, for the rest of its cooldown; without contention it does not wait', () => {
    const { a, clock } = admission(1)
    // no contention: back to back is fine
    assert.equal(a.admit('attacker', 0).admitted, true)
    a.ended('attacker')
    assert.equal(a.admit('attacker', 0).admitted, true)
    // an honest peer is turned away while the attacker holds the slot
    clock.t += 1000
    assert.match(refused(a.admit('honest', 1)), /every session slot is taken/)
    a.ended('attacker')
    clock.t += 5
    // the attacker is told to wait out its cooldown; the honest peer, back as told, gets the slot
    assert.match(refused(a.admit('attacker', 0)), /busy 9995 ms: other peers wait/)
    clock.t += 2000
    assert.deepEqual(a.admit('honest', 0), { admitted: true })
    a.ended('honest')
    // after its cooldown the attacker may come back
    clock.t += 8000
    assert.equal(a.admit('attacker', 0).admitted, true)
  })

  it('remembers a bounded number of peers, and forgets one that left', () => {
    const { a, clock } = admission(1)
    for (let i = 0; i < 3000; i++) { assert.equal(a.admit(`p${i}`, 0).admitted, true); a.ended(`p${i}`) }
    const remembered = (a as unknown as { lastEnded: Map<string, number> }).lastEnded
    assert.equal(remembered.size, 1024)
    assert.ok(remembered.has('p2999') && !remembered.has('p0'))
    // contention, then a peer that left and came back is not held to its old cooldown
    assert.equal(a.admit('x', 0).admitted, true)
    assert.equal(a.admit('y', 1).admitted, false)
    a.ended('x')
    assert.equal(a.admit('x', 0).admitted, false)
    a.forget('x')
    clock.t += 1
    assert.equal(a.admit('x', 0).admitted, true)
  })
})
