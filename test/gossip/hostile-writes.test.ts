/**
 * A member that forges writes in another node's name: counter brick, overwrite of a real dot,
 * a frozen key (a clock entry the victim never signed), resurrection of a deleted pattern.
 * Each reaches the victim as a push from a raw libp2p client (a real member with its own key,
 * connected through the cluster's DHT), is refused and counted, and changes nothing; the
 * victim keeps writing and the honest nodes keep converging while the attacker is connected.
 * Real nodes over TCP.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { startEngram, stopEngrams, waitForMesh, type TestEngram } from '../helpers/engram-nodes.js'
import { startGossipNode, type GossipNode } from '../helpers/gossip-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { internalsOf } from '../../src/node/internals.js'
import { createNodeMetrics, type NodeMetrics } from '../../src/daemon/metrics.js'
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import { Frame } from '../../src/gossip/pb/gossip.js'
import { ByteWriter } from '../../src/core/bytes.js'
import { compareUtf8 } from '../../src/core/bytes.js'
import { omitDeps } from '../../src/core/content-rule.js'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { mergePatterns } from '../../src/core/merge.js'
import { applyWrite, type Author, headOf, type PatternState } from '../../src/core/pattern.js'
import { advanceClock, joinClocks } from '../../src/core/vector-clock.js'
import type { RefusedInfo } from '../../src/node/types.js'
import { realAuthor } from '../helpers/authors.js'

describe('forged writes from a hostile member', () => {
  const nodes: TestEngram[] = []
  let attacker: GossipNode
  let victim: TestEngram
  let honest: TestEngram
  let metrics: NodeMetrics
  const refused: RefusedInfo[] = []

  before(async () => {
    victim = await startEngram({ fanout: 'auto' })
    honest = await startEngram({ fanout: 'auto', join: [victim.node.addresses()[0]!] })
    nodes.push(victim, honest)
    attacker = await startGossipNode({ join: [victim.node.addresses()[0]!] })
    await waitForMesh(nodes)
    metrics = createNodeMetrics(victim.node)
    victim.node.addEventListener('refused', ev => { refused.push(ev.detail) })
  })
  after(async () => {
    metrics?.close()
    await attacker?.stop()
    await stopEngrams(nodes)
  })

  /** The victim's id with the attacker's key: what a forger can make. */
  const forger = (): Author => ({ node: victim.node.peerId.toString(), sign: m => attackerAuthor().sign(m) })
  const attackerAuthor = (): Author => attacker.author

  /** Pushes these states to the victim as the attacker, and waits for the victim's answer (a refusal or a merge). */
  async function push (states: PatternState[], expectRefusals: number): Promise<RefusedInfo[]> {
    const before = refused.length
    const stream = await attacker.libp2p.dialProtocol(multiaddr(victim.node.addresses()[0]!), GOSSIP_PROTOCOL)
    const body = Frame.encode({ patterns: { patterns: states.map(encodePattern) as Array<Uint8Array<ArrayBuffer>>, push: true } })
    stream.send(new Uint8Array([...new ByteWriter().varint(body.length).finish(), ...body]))
    await stream.close().catch(() => {})
    await waitFor(() => refused.length >= before + expectRefusals, { timeout: 10_000, message: `${expectRefusals} refusal(s)` })
    return refused.slice(before)
  }

  it('counter brick: a version in the victim\'s name at 2^53-1 is refused; the counter stays and writes go on', async () => {
    const counter = internalsOf(victim.node).replica.counter
    const brick = applyWrite(undefined, 'brick', { confidence: 0.5 }, forger(), Number.MAX_SAFE_INTEGER)
    const got = await push([brick], 1)
    assert.deepEqual(got.map(r => [r.key, r.reason]), [['brick', 'forged']])
    assert.equal(await victim.node.get('brick'), undefined)
    assert.equal(internalsOf(victim.node).replica.counter, counter)
    const put = await victim.node.put('after-brick', { confidence: 0.5 })
    assert.equal(put.clock[victim.node.peerId.toString()], counter + 1)
  })

  it('overwrite: the victim\'s real write re-sent as a delete keeps its signature, and is refused', async () => {
    await victim.node.put('k', { addEpisodes: ['real'], confidence: 0.8 })
    const real = await internalsOf(victim.node).replica.get('k') as PatternState
    const v = real.versions[0]!
    const forged: PatternState = { ...real, versions: [{ dot: v.dot, deps: v.deps, deleted: true, confidence: 0, episodes: [], sig: v.sig }] }
    const got = await push([forged], 1)
    assert.deepEqual(got.map(r => [r.key, r.reason]), [['k', 'forged']])
    assert.deepEqual((await victim.node.get('k'))?.episodes, ['real'])
    assert.equal((await victim.node.get('k'))?.deleted, false)
  })

  it('frozen key: a write that claims to have seen the victim\'s next 1000 writes is refused; the victim\'s next write lands everywhere', async () => {
    const real = await internalsOf(victim.node).replica.get('k') as PatternState
    const id = victim.node.peerId.toString()
    const c = real.clock.get(id)!
    const claimed = advanceClock(real.clock, id, c + 1000)
    const own = applyWrite({ ...real, clock: claimed, versions: real.versions.map(v => ({ ...v })) }, 'k', { confidence: 0.1 }, attackerAuthor(), 1)
    const fakeHead = { dot: { node: id, counter: c + 1000 }, body: new Uint8Array(32).fill(1), sig: attackerAuthor().sign(new Uint8Array(32)) }
    const frozen: PatternState = { ...own, heads: [...own.heads, fakeHead].sort((x, y) => x.dot.node < y.dot.node ? -1 : 1) }
    const got = await push([frozen], 1)
    assert.deepEqual(got.map(r => [r.key, r.reason]), [['k', 'forged']])
    const next = await victim.node.put('k', { addEpisodes: ['next'] })
    assert.equal(next.clock[id], internalsOf(victim.node).replica.counter)
    await waitFor(async () => (await honest.node.get('k'))?.episodes.includes('next') === true,
      { timeout: 10_000, message: 'the victim\'s next write on the honest node' })
  })

  it('resurrection: a new dot in the victim\'s name on a deleted pattern is refused; the pattern stays deleted', async () => {
    await victim.node.put('gone', { addEpisodes: ['x'], confidence: 0.5 })
    await victim.node.delete('gone')
    const deleted = await internalsOf(victim.node).replica.get('gone') as PatternState
    const back = applyWrite(deleted, 'gone', { addEpisodes: ['zombie'], confidence: 0.9 }, forger(), internalsOf(victim.node).replica.counter + 5)
    const got = await push([back], 1)
    assert.deepEqual(got.map(r => [r.key, r.reason]), [['gone', 'forged']])
    assert.equal((await victim.node.get('gone'))?.deleted, true)
  })

  it('suppression: a state that keeps the victim\'s standing write only as its head (overwritten by nobody) is refused; the write stays', async () => {
    await victim.node.put('target', { addEpisodes: ['real'], confidence: 0.8 })
    const real = await internalsOf(victim.node).replica.get('target') as PatternState
    const mine = applyWrite(undefined, 'target', { addEpisodes: ['attacker'], confidence: 0.1 }, attackerAuthor(), 100)
    // every signature in it is real: the attacker's own write, and the victim's write as a head
    const suppressing: PatternState = {
      key: 'target',
      clock: joinClocks(real.clock, mine.clock),
      versions: mine.versions,
      heads: [headOf(real.versions[0]!)]
    }
    const got = await push([suppressing], 1)
    assert.deepEqual(got.map(r => [r.key, r.reason]), [['target', 'unproven']])
    assert.deepEqual((await victim.node.get('target'))?.episodes, ['real'])
    assert.match(await metrics.render(), /^engram_writes_refused_total\{reason="unproven"\} 1$/m)
    await waitFor(async () => (await honest.node.get('target'))?.episodes.includes('real') === true,
      { timeout: 10_000, message: 'the victim\'s write on the honest node' })
  })

  it('suppression by a write without its deps: the attacker leaves out its own deps to prove nothing; refused, the write stays', async () => {
    await victim.node.put('target2', { addEpisodes: ['real'], confidence: 0.8 })
    const real = await internalsOf(victim.node).replica.get('target2') as PatternState
    // a key 100 writers wrote (real keys): a clock wide enough for a version without deps to decode
    const writers = await Promise.all(Array.from({ length: 100 }, async () => await realAuthor()))
    const base = writers.map(w => applyWrite(undefined, 'target2', { confidence: 0.5 }, w, 1)).reduce((a, b) => mergePatterns(a, b))
    const mine = applyWrite(base, 'target2', { addEpisodes: ['attacker'], confidence: 0.1 }, attackerAuthor(), 101)
    const heads = [...mine.heads, headOf(real.versions[0]!)].sort((x, y) => compareUtf8(x.dot.node, y.dot.node))
    const suppressing: PatternState = { key: 'target2', clock: joinClocks(real.clock, mine.clock), versions: [omitDeps(mine.versions[0]!)], heads }
    assert.equal(decodePattern(encodePattern(suppressing)).versions[0]?.depsOmitted?.entries, 100)
    const got = await push([suppressing], 1)
    assert.deepEqual(got.map(r => [r.key, r.reason]), [['target2', 'unproven']])
    assert.deepEqual((await victim.node.get('target2'))?.episodes, ['real'])
    assert.match(await metrics.render(), /^engram_writes_refused_total\{reason="unproven"\} 2$/m)
  })

  it('one forged pattern does not stop the push from moving the attacker\'s own (signed) write; all refusals are counted', async () => {
    const own = applyWrite(undefined, 'from-attacker', { confidence: 0.3 }, attackerAuthor(), 7)
    const forged = applyWrite(undefined, 'forged-too', { confidence: 0.3 }, forger(), 3)
    const got = await push([forged, own], 1)
    assert.deepEqual(got.map(r => r.key), ['forged-too'])
    await waitFor(async () => (await victim.node.get('from-attacker')) !== undefined, { timeout: 5_000, message: 'the attacker\'s own write' })
    assert.match(await metrics.render(), /^engram_writes_refused_total\{reason="forged"\} 5$/m)
  })

  it('a malformed frame from the attacker is counted as a refusal of that peer, by reason', async () => {
    const stream = await attacker.libp2p.dialProtocol(multiaddr(victim.node.addresses()[0]!), GOSSIP_PROTOCOL)
    stream.send(new Uint8Array([3, 0xff, 0xff, 0xff]))
    await waitFor(async () => /^engram_peer_refusals_total\{reason="protocol-violation"\} [1-9]/m.test(await metrics.render()), {
      timeout: 5_000,
      message: 'the refusal counted'
    })
    assert.match(await metrics.render(), /^engram_peer_refusals_total\{reason="push-quota"\} 0$/m)
  })

  it('the honest nodes converge while the attacker is still connected', async () => {
    await honest.node.put('honest', { addEpisodes: ['h'], confidence: 0.6 })
    await victim.node.put('victim', { addEpisodes: ['v'], confidence: 0.4 })
    const r = await honest.node.syncNow(victim.node.peerId.toString())
    assert.ok(r.outcome === 'synced' || r.outcome === 'in-sync', JSON.stringify(r))
    await waitFor(async () => (await victim.node.status()).root === (await honest.node.status()).root, { timeout: 10_000, message: 'equal roots' })
    assert.ok(attacker.libp2p.getConnections(victim.node.peerId).length > 0, 'the attacker is still connected')
    assert.equal(await honest.node.get('brick'), undefined)
    assert.equal((await honest.node.get('gone'))?.deleted, true)
  })
})

describe('trusted writers (--trusted-peers)', () => {
  const nodes: TestEngram[] = []
  after(async () => { await stopEngrams(nodes) })

  it('takes writes by the listed nodes, refuses and counts a member\'s own signed writes otherwise', async () => {
    const writer = await startEngram()
    const outsider = await startEngram({ join: [writer.node.addresses()[0]!] })
    nodes.push(writer, outsider)
    const guarded = await startEngram({ join: [writer.node.addresses()[0]!], trustedPeers: [writer.node.peerId.toString()] })
    nodes.push(guarded)
    const refusedHere: RefusedInfo[] = []
    guarded.node.addEventListener('refused', ev => { refusedHere.push(ev.detail) })
    await waitForMesh(nodes)
    await writer.node.put('by-writer', { confidence: 0.5 })
    await outsider.node.put('by-outsider', { confidence: 0.5 })
    for (const from of [writer, outsider]) {
      const r = await guarded.node.syncNow(from.node.peerId.toString())
      assert.ok(r.outcome === 'synced' || r.outcome === 'in-sync', JSON.stringify(r))
    }
    assert.ok(await guarded.node.get('by-writer'))
    assert.equal(await guarded.node.get('by-outsider'), undefined)
    assert.ok(refusedHere.some(r => r.key === 'by-outsider' && r.reason === 'untrusted'), JSON.stringify(refusedHere))
    // its own writes are always taken, and reach the others
    await guarded.node.put('by-guarded', { confidence: 0.5 })
    await writer.node.syncNow(guarded.node.peerId.toString())
    assert.ok(await writer.node.get('by-guarded'))
  })
})
