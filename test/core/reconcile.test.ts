import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { applyWrite } from '../../src/core/pattern.js'
import { Initiator, diffProbe } from '../../src/core/reconcile.js'
import { Responder } from '../../src/core/reconcile-responder.js'
import { MemoryReplica, syncInMemory } from '../helpers/memory-sync.js'
import { MerkleIndex } from '../../src/core/merkle.js'
import { author } from '../helpers/authors.js'

function pattern (key: string, node = 'a', confidence = 0.5, counter = 1): ReturnType<typeof applyWrite> {
  return applyWrite(undefined, key, { addEpisodes: [`ep-${key}`], confidence }, author(node), counter)
}

describe('sans-IO reconciliation', () => {
  it('equal roots end in one round trip and move nothing', () => {
    const a = new MemoryReplica()
    const b = new MemoryReplica()
    for (let i = 0; i < 100; i++) { a.put(pattern(`k${i}`)); b.put(pattern(`k${i}`)) }
    assert.deepEqual(syncInMemory(a, b), { roundTrips: 1, toResponder: 0, toInitiator: 0 })
  })

  it('10,000 patterns with 100 differing move exactly the differing ones, both ways, in few round trips', () => {
    const a = new MemoryReplica()
    const b = new MemoryReplica()
    let onlyA = 0; let onlyB = 0; let both = 0
    for (let i = 0; i < 10_000; i++) {
      const p = pattern(`key-${i}`)
      if (i % 100 === 0) {
        const kind = (i / 100) % 3
        if (kind === 0) { a.put(p); onlyA++ } else if (kind === 1) { b.put(p); onlyB++ } else {
          a.put(p); b.put(pattern(`key-${i}`, 'b', 0.9)); both++
        }
      } else { a.put(p); b.put(p) }
    }
    const stats = syncInMemory(a, b)
    assert.equal(stats.toResponder, onlyA + both)
    assert.equal(stats.toInitiator, onlyB + both)
    assert.ok(stats.roundTrips <= 5, `round trips ${stats.roundTrips}`)
    assert.deepEqual(a.index.root(), b.index.root())
    // a further round moves nothing
    assert.deepEqual(syncInMemory(b, a), { roundTrips: 1, toResponder: 0, toInitiator: 0 })
  })

  it('a fresh replica pulls everything without listing it first', () => {
    const a = new MemoryReplica()
    const b = new MemoryReplica()
    for (let i = 0; i < 3000; i++) b.put(pattern(`k${i}`))
    const stats = syncInMemory(a, b)
    assert.equal(stats.toInitiator, 3000)
    assert.equal(stats.toResponder, 0)
    assert.equal(stats.roundTrips, 2)
    assert.deepEqual(a.index.root(), b.index.root())
  })

  it('random replicas always converge and then agree in one round trip', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 3 })), { maxLength: 300 }),
      (ops) => {
        const a = new MemoryReplica()
        const b = new MemoryReplica()
        let c = 0
        for (const [k, where] of ops) {
          const key = `k${k}`
          if (where === 0 || where === 2) a.merge(pattern(key, 'a', 0.1, ++c))
          if (where === 1 || where === 2) b.merge(pattern(key, 'b', 0.7, ++c))
        }
        syncInMemory(a, b)
        assert.deepEqual(a.index.root(), b.index.root())
        assert.equal(syncInMemory(a, b).roundTrips, 1)
      }), { numRuns: 100 })
  })

  it('rejects out-of-order and unsolicited messages with ProtocolViolationError', () => {
    const idx = new MerkleIndex()
    const res = new Responder(idx)
    assert.throws(() => res.onRequest({ type: 'request', descend: [''], probes: [], pullPrefixes: [], done: false }), { name: 'ProtocolViolationError' })
    const ini = new Initiator(idx)
    assert.throws(() => ini.onReply({ type: 'reply', inSync: true, children: [], need: [] }), { name: 'ProtocolViolationError' })
    ini.hello()
    assert.throws(() => ini.onReply({ type: 'reply', inSync: false, children: [{ parent: '7', hashes: [], counts: [] }], need: [] }),
      { name: 'ProtocolViolationError' })
    const other = new MerkleIndex()
    other.set(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2))
    const r2 = new Responder(other)
    r2.onHello({ type: 'hello', version: 1, root: idx.root(), count: 0 })
    assert.throws(() => r2.onRequest({ type: 'request', descend: ['zz'], probes: [], pullPrefixes: [], done: false }), { name: 'ProtocolViolationError' })
    assert.throws(() => r2.onRequest({ type: 'request', descend: ['0123'], probes: [], pullPrefixes: [], done: false }), { name: 'ProtocolViolationError' })
    assert.throws(() => new Responder(idx).onHello({ type: 'hello', version: 99, root: idx.root(), count: 0 }), { name: 'ProtocolViolationError' })
  })

  it('a done request is answered by an end reply, which alone finishes the initiator', () => {
    const a = new MerkleIndex()
    const b = new MerkleIndex()
    b.set(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2))
    const ini = new Initiator(a)
    const res = new Responder(b)
    const first = res.onHello(ini.hello())
    // a holds nothing: the only child that differs is pulled, then the initiator is done asking
    let step = ini.onReply(first.reply!)
    assert.equal(step.request?.done, false)
    let answer = res.onRequest(step.request!)
    step = ini.onReply(answer.reply!)
    assert.equal(step.request?.done, true)
    assert.equal(ini.done, false, 'still waiting for the end reply')
    assert.throws(() => ini.onReply({ type: 'reply', inSync: false, children: [], need: [] }), { name: 'ProtocolViolationError' })
    answer = res.onRequest(step.request!)
    assert.deepEqual(answer.reply, { type: 'reply', inSync: false, children: [], need: [], end: true })
    assert.equal(answer.done, true)
    assert.throws(() => new Initiator(a).onReply({ type: 'reply', inSync: false, children: [], need: [], end: true }), { name: 'ProtocolViolationError' })
    assert.throws(() => ini.onReply({ type: 'reply', inSync: true, children: [], need: [], end: true }), { name: 'ProtocolViolationError' })
    ini.onReply(answer.reply!)
    assert.equal(ini.done, true)
  })

  it('diffProbe splits listings into ours and theirs', () => {
    const e = (k: number, d: number): { keyHash: Uint8Array, digest: Uint8Array } =>
      ({ keyHash: new Uint8Array(32).fill(k), digest: new Uint8Array(16).fill(d) })
    const { ours, theirs } = diffProbe([e(1, 1), e(2, 2), e(4, 4)], [e(2, 2), e(3, 3), e(4, 5)])
    assert.deepEqual(ours.map(x => x[0]), [1, 4])
    assert.deepEqual(theirs.map(x => x[0]), [3, 4])
  })
  it('a request may name only subtrees a reply offered, each once: no whole-index scans on demand, no overlaps', () => {
    const idx = new MerkleIndex()
    for (let i = 0; i < 2000; i++) idx.set(new Uint8Array(32).fill(0).map((_, j) => (i * 7 + j * 13 + (i >> 3)) & 255), new Uint8Array(32).fill(i & 255))
    const hello = { type: 'hello' as const, version: 1, root: new Uint8Array(32), count: 0 }
    const req = (over: Partial<{ descend: string[], probes: Array<{ prefix: string, entries: [] }>, pullPrefixes: string[] }>) =>
      ({ type: 'request' as const, descend: [], probes: [], pullPrefixes: [], done: false, ...over })
    const bad: Array<[string, ReturnType<typeof req>]> = [
      // the amplification request of issue 14: thousands of probes and pulls of the whole tree
      ['probes and pulls of the root', req({ probes: Array.from({ length: 16_384 }, () => ({ prefix: '', entries: [] })), pullPrefixes: Array(4096).fill('') })
      ],
      ['one pull of the root', req({ pullPrefixes: [''] })],
      ['a grandchild no reply offered', req({ probes: [{ prefix: '3a', entries: [] }] })],
      ['a child named twice in one request', req({ pullPrefixes: ['3', '3'] })],
      ['a child both descended and pulled', req({ descend: ['5'], pullPrefixes: ['5'] })],
      // no progress: a peer could hold a session (and its slot) open with these until the session timeout
      ['a request naming nothing that is not done', req({})]
    ]
    for (const [name, r] of bad) {
      const res = new Responder(idx)
      res.onHello(hello)
      assert.throws(() => res.onRequest(r), { name: 'ProtocolViolationError', message: /not offered|named before|names nothing/ }, name)
    }
    // named once in one request, again in the next: refused too; a descended child's children may be named
    const res = new Responder(idx)
    res.onHello(hello)
    res.onRequest(req({ descend: ['a'], pullPrefixes: ['b'] }))
    assert.throws(() => res.onRequest(req({ pullPrefixes: ['b'] })), { name: 'ProtocolViolationError' })
    const res2 = new Responder(idx)
    res2.onHello(hello)
    res2.onRequest(req({ descend: ['a'], pullPrefixes: ['b'] }))
    assert.doesNotThrow(() => res2.onRequest(req({ pullPrefixes: ['a0', 'a1'], probes: [{ prefix: 'a2', entries: [] }] })))
    assert.throws(() => res2.onRequest(req({ pullPrefixes: ['a'] })), { name: 'ProtocolViolationError' })
  })
})
