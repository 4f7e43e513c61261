/** The operator's view of finished exchanges, and the random choice of gossip peers: no sockets. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { RoundLog } from '../../src/gossip/round-log.js'
import { pickRandom, randomOrder } from '../../src/gossip/random-pick.js'
import { emptyReport, type RoundReport, type SessionOutcome, type SessionRole } from '../../src/gossip/types.js'

const report = (peer: string, role: SessionRole, outcome: SessionOutcome, rootsEqual = false): RoundReport =>
  ({ ...emptyReport(peer, role), outcome, rootsEqual })

describe('round log', () => {
  it('keeps the last rounds, oldest first', () => {
    const log = new RoundLog(3)
    for (const p of ['a', 'b', 'c', 'd']) log.record(report(p, 'initiator', 'synced'))
    assert.deepEqual(log.lastRounds.map(r => r.peer), ['b', 'c', 'd'])
  })

  it('in sync per peer: only successful sessions count, pushes and failures do not', () => {
    const log = new RoundLog(10)
    log.record(report('a', 'initiator', 'in-sync', true))
    log.record(report('b', 'responder', 'synced', false))
    log.record(report('a', 'push-in', 'synced', false))
    log.record(report('a', 'initiator', 'error', false))
    log.record(report('c', 'initiator', 'busy', true))
    assert.deepEqual([...log.peerInSync], [['a', true], ['b', false]])
  })

  it('forgets a peer that left the gossip peer set', () => {
    const log = new RoundLog(10)
    log.record(report('a', 'initiator', 'in-sync', true))
    log.record(report('b', 'initiator', 'in-sync', true))
    log.forget('a')
    assert.deepEqual([...log.peerInSync.keys()], ['b'])
    assert.equal(log.lastRounds.length, 2, 'the round log keeps its history')
  })

  it('holds a bounded number of peers, the least recently updated out first', () => {
    const log = new RoundLog(1)
    for (let i = 0; i < 1100; i++) log.record(report(`p${i}`, 'initiator', 'in-sync', true))
    log.record(report('p0', 'initiator', 'synced', false))
    assert.equal(log.peerInSync.size, 1024)
    assert.equal(log.peerInSync.get('p0'), false)
    assert.equal(log.peerInSync.has('p76'), false)
    assert.equal(log.peerInSync.has('p77'), true)
  })
})

describe('random choice of peers', () => {
  it('picks distinct items, at most as many as there are', () => {
    const picked = pickRandom(['a', 'b', 'c', 'd'], 3, Math.random)
    assert.equal(new Set(picked).size, 3)
    assert.equal(pickRandom(['a', 'b'], 5, Math.random).length, 2)
    assert.deepEqual(pickRandom(['a', 'b'], 0, () => { throw new Error('no draw wanted') }), [])
  })

  it('draws lazily, one number per item taken, and leaves the input alone', () => {
    const items = ['a', 'b', 'c']
    let draws = 0
    const order = randomOrder(items, () => { draws++; return 0 })
    assert.equal(order.next().value, 'a')
    assert.equal(draws, 1)
    assert.deepEqual([...order], ['b', 'c'])
    assert.deepEqual(items, ['a', 'b', 'c'])
  })
})
