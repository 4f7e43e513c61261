/**
 * The partition and rejoin scenarios. Each returns its row of the results table and
 * throws (with what went wrong) when its pass/fail assertion does not hold.
 */
import assert from 'node:assert/strict'
import type { Topology } from './topology.js'
import { EngramHost, GOSSIP_INTERVAL_S, sameRoot, statuses, waitForMesh } from './cluster.js'
import { sleep, until } from './sh.js'
import type { ScenarioResult } from './results.js'

export interface Ctx {
  topo: Topology
  hosts: EngramHost[]
  /** deterministic choice of "random" members, so a failing run can be replayed */
  random: () => number
}

const running = (ctx: Ctx): EngramHost[] => ctx.hosts.filter(h => h.running)
const pick = <T>(ctx: Ctx, xs: T[]): T => xs[Math.floor(ctx.random() * xs.length)] as T

/** Seconds until every running host has one root, and the mean anti-entropy rounds that took. */
async function converge (ctx: Ctx, hosts: EngramHost[], timeoutMs: number): Promise<{ seconds: number, rounds: number }> {
  const t0 = Date.now()
  await until('one root on every host', async () => await sameRoot(hosts), timeoutMs, 1000)
  const seconds = (Date.now() - t0) / 1000
  const s = await statuses(hosts)
  const rounds = s.reduce((n, x) => n + x.lastRounds.filter(r => r.role === 'initiator' && r.startedAt >= t0).length, 0) / s.length
  return { seconds, rounds }
}

/** Every host holds the same digest for every key. */
async function assertIdentical (hosts: EngramHost[]): Promise<Map<string, { digest: string, deleted: boolean, confidence: number, episodes: string[] }>> {
  const all = await Promise.all(hosts.map(async h => await h.digests()))
  const first = all[0]!
  for (const [i, d] of all.entries()) {
    assert.equal(d.size, first.size, `${hosts[i]!.host.ns} holds ${d.size} patterns, ${hosts[0]!.host.ns} ${first.size}`)
    for (const [k, v] of first) assert.equal(d.get(k)?.digest, v.digest, `${k} differs on ${hosts[i]!.host.ns}`)
  }
  return first
}

/**
 * 5. No fixed seed. h1 starts alone; every other host joins through ONE random member
 * already up, so the whole cluster was originally joined through h1. Kill h1, join h8
 * through another member, and h1 comes back from its remembered peers alone.
 */
export async function noFixedSeed (ctx: Ctx): Promise<ScenarioResult> {
  const [seed, ...rest] = ctx.hosts
  const late = rest.pop()!
  await seed!.start(undefined)
  const up = [seed!]
  for (const h of rest) {
    await h.start(pick(ctx, up))
    up.push(h)
  }
  await waitForMesh([seed!, ...rest])
  await seed!.kill('SIGKILL')
  const via = pick(ctx, rest)
  await late.start(via)
  const live = [...rest, late]
  await waitForMesh(live)
  const writer = pick(ctx, rest)
  await writer.put('seedless/1', ['after-seed-died'], 0.7)
  const { seconds, rounds } = await converge(ctx, live, 60_000)
  const d = await assertIdentical(live)
  assert.ok(d.has('seedless/1'))
  // the old seed comes back as an ordinary member, from its remembered peers alone
  await seed!.start(undefined)
  await waitForMesh(ctx.hosts)
  await converge(ctx, ctx.hosts, 60_000)
  return {
    scenario: 'no fixed seed',
    hosts: live.length,
    writes: 1,
    lost: 0,
    rounds,
    seconds,
    moved: null,
    differing: null,
    passed: true,
    note: `seed ${seed!.host.ns} killed; ${late.host.ns} joined via ${via.host.ns}; seed rejoined without --join`
  }
}

/** 1. Partition and heal, with concurrent writes of the same keys and a delete. */
export async function partitionAndHeal (ctx: Ctx): Promise<ScenarioResult> {
  const hosts = running(ctx)
  const A = hosts.filter(h => h.host.site === 'A')
  const B = hosts.filter(h => h.host.site === 'B')
  await pick(ctx, A).put('doomed', ['d'], 0.5)
  await converge(ctx, hosts, 60_000)

  await ctx.topo.wan.cut()
  const writes: Array<Promise<void>> = []
  const a1 = pick(ctx, A)
  const b1 = pick(ctx, B)
  for (let i = 0; i < 10; i++) writes.push(a1.put(`side-a/${i}`, [`a${i}`], 0.4))
  for (let i = 0; i < 10; i++) writes.push(b1.put(`side-b/${i}`, [`b${i}`], 0.6))
  for (let i = 0; i < 5; i++) {
    writes.push(pick(ctx, A).put(`shared/${i}`, ['from-A'], 0.9))
    writes.push(pick(ctx, B).put(`shared/${i}`, ['from-B'], 0.3))
  }
  await Promise.all(writes)
  await pick(ctx, A).rm('doomed')
  // each side converges on its own, and the sides differ
  await until('each side to converge alone', async () => await sameRoot(A) && await sameRoot(B), 60_000, 1000)
  assert.notEqual((await A[0]!.status()).root, (await B[0]!.status()).root)

  await ctx.topo.wan.heal()
  const { seconds, rounds } = await converge(ctx, hosts, 120_000)
  const d = await assertIdentical(hosts)
  let lost = 0
  for (let i = 0; i < 10; i++) for (const k of [`side-a/${i}`, `side-b/${i}`]) if (d.get(k) === undefined) lost++
  for (let i = 0; i < 5; i++) {
    const s = d.get(`shared/${i}`)
    if (s === undefined) { lost++; continue }
    assert.deepEqual(s.episodes, ['from-A', 'from-B'], `shared/${i} episodes`)
    assert.ok(Math.abs(s.confidence - 0.6) < 1e-9, `shared/${i} confidence ${s.confidence}`)
  }
  assert.equal(lost, 0, `${lost} acknowledged writes lost`)
  assert.equal(d.get('doomed')?.deleted, true, 'the delete did not hold')
  return {
    scenario: 'partition and heal',
    hosts: hosts.length,
    writes: 31,
    lost,
    rounds,
    seconds,
    moved: null,
    differing: null,
    passed: true,
    note: 'seconds and rounds from heal; 5 keys written on both sides merged to confidence 0.6, delete held'
  }
}

/** 3. 30 % loss and 200 ms one-way delay on the WAN: the cluster still converges. */
export async function lossyLink (ctx: Ctx): Promise<ScenarioResult> {
  const hosts = running(ctx)
  await ctx.topo.wan.set(200, 0.3)
  try {
    const a = pick(ctx, hosts.filter(h => h.host.site === 'A'))
    const b = pick(ctx, hosts.filter(h => h.host.site === 'B'))
    for (let i = 0; i < 5; i++) {
      await a.put(`lossy-a/${i}`, ['x'], 0.5)
      await b.put(`lossy-b/${i}`, ['y'], 0.5)
    }
    const { seconds, rounds } = await converge(ctx, hosts, 240_000)
    const d = await assertIdentical(hosts)
    let lost = 0
    for (let i = 0; i < 5; i++) for (const k of [`lossy-a/${i}`, `lossy-b/${i}`]) if (!d.has(k)) lost++
    assert.equal(lost, 0)
    return {
      scenario: 'lossy slow WAN (30 % loss, 200 ms)',
      hosts: hosts.length,
      writes: 10,
      lost,
      rounds,
      seconds,
      moved: null,
      differing: null,
      passed: true,
      note: ''
    }
  } finally {
    await ctx.topo.wan.set(0, 0)
  }
}

function bulk (prefix: string, n: number): Array<{ key: string, episodes: string[], confidence: number, summary: string }> {
  return Array.from({ length: n }, (_, i) => ({
    key: `${prefix}/${i}`,
    episodes: [`ep-${i}-a`, `ep-${i}-b`],
    confidence: (i % 100) / 100,
    summary: `bulk pattern ${i} ${'x'.repeat(150)}`
  }))
}

/** 4. One host cut off while the others take thousands of writes; back, it gets only the difference. */
export async function longIsolation (ctx: Ctx): Promise<ScenarioResult> {
  const hosts = running(ctx)
  const lonely = pick(ctx, hosts)
  const others = hosts.filter(h => h !== lonely)
  await converge(ctx, hosts, 60_000)
  const before = (await lonely.status()).patterns
  await ctx.topo.isolate(lonely.host, true)
  const N = 3000
  await pick(ctx, others).import(bulk('isolated', N))
  await until('the others to converge', async () => await sameRoot(others), 120_000, 1000)
  const receivedBefore = await lonely.metric('engram_patterns_received_total')
  await ctx.topo.isolate(lonely.host, false)
  const { seconds, rounds } = await converge(ctx, hosts, 180_000)
  await assertIdentical(hosts)
  const moved = (await lonely.metric('engram_patterns_received_total')) - receivedBefore
  const after = (await lonely.status()).patterns
  assert.equal(after - before, N)
  // only the difference moves: at most twice it (two peers may answer at once), far from the whole state
  assert.ok(moved >= N && moved <= 2 * N, `moved ${moved} for ${N} differing`)
  assert.ok(moved < after, `moved ${moved} of a state of ${after}`)
  return {
    scenario: 'long isolation',
    hosts: hosts.length,
    writes: N,
    lost: 0,
    rounds,
    seconds,
    moved,
    differing: N,
    passed: true,
    note: `${lonely.host.ns} held ${before} patterns, then caught up to ${after}`
  }
}

/** 2. SIGKILL a node again and again while it pulls a large state; it restarts and catches up. */
export async function crashDuringSync (ctx: Ctx): Promise<ScenarioResult> {
  const hosts = running(ctx)
  const victim = pick(ctx, hosts)
  const others = hosts.filter(h => h !== victim)
  const N = 20_000
  await victim.kill('SIGKILL')
  const writer = pick(ctx, others)
  for (let i = 0; i < N; i += 5000) await writer.import(bulk(`crash/${i / 5000}`, 5000))
  await until('the others to hold the large state', async () => await sameRoot(others), 180_000, 1000)
  const target = (await others[0]!.status()).patterns
  const peerId = victim.peerId
  const seen: number[] = []
  // a slow last mile, so that the pull lasts long enough to be interrupted
  await ctx.topo.limitRate(victim.host, '4mbit')
  for (let k = 0; k < 3; k++) {
    await victim.start(undefined)
    const s = await victim.status()
    assert.equal(s.peerId, peerId, 'the PeerId changed across a restart')
    seen.push(s.patterns)
    // kill it while it is pulling: as soon as it holds some but not all
    await until('the victim to be mid-transfer', async () => {
      const n = (await victim.status()).patterns
      return n > seen[seen.length - 1]! && n < target
    }, 60_000, 100).catch(() => {})
    await victim.kill('SIGKILL')
    assert.doesNotMatch(await victim.log(), /store repaired/)
  }
  await ctx.topo.limitRate(victim.host, undefined)
  await victim.start(undefined)
  const { seconds, rounds } = await converge(ctx, hosts, 180_000)
  await assertIdentical(hosts)
  const final = (await victim.status()).patterns
  assert.equal(final, target)
  const partial = seen.filter(n => n > 0 && n < target).length
  assert.ok(partial >= 1, `no restart found a partial state (${seen.join(', ')}): the kills missed the transfer`)
  return {
    scenario: 'crash during sync',
    hosts: hosts.length,
    writes: N,
    lost: 0,
    rounds,
    seconds,
    moved: null,
    differing: null,
    passed: true,
    note: `3 SIGKILLs mid-pull; patterns held at each restart: ${seen.join(', ')} of ${target}`
  }
}

export { GOSSIP_INTERVAL_S, sleep }
