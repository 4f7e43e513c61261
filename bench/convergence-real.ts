/**
 * Convergence with real nodes: full Engram nodes (LevelDB, libp2p TCP + Noise + Yamux on
 * 127.0.0.1, the gossip service with its own timers) spread over child processes
 * (bench/lib/real-cluster.ts). The mesh is dialled directly, not discovered.
 *
 * a. anti-entropy only (fanout 0), short interval: rounds until a new write is on all N.
 * b. eager push on (the product's default fanout, 'auto'), interval 60 s: wall time until every node has a write.
 *
 *   node --import tsx bench/convergence-real.ts [--quick] [--json]
 * Environment (all optional): BENCH_ONLY=ae|push runs one part; BENCH_AE_N=25,100 picks part a's sizes; BENCH_PUSH_FANOUT=<n> runs part b
 * with another fanout (to check a fix); BENCH_SHARDS=<n> processes per cluster (default 2);
 * BENCH_QUIET silences progress lines; BENCH_VERBOSE adds dial progress; BENCH_SHARD_CPU_PROF=<dir>
 * writes a CPU profile per process (to find why a target is missed).
 */
import type { BenchFn, BenchRow, BenchSection } from './lib/types.js'
import { fmt, mean, meanCurve, percentile, randInt, round, seededRng } from './lib/figures.js'
import { RealCluster } from './lib/real-cluster.js'
import type { ShardLoad } from './lib/real-shard.js'
import { infectAndDieMissed } from './lib/sim-theory.js'
import { timerTrial } from './lib/sim-schedules.js'
import { isMain, runAlone, sleep } from './lib/main.js'
import type { Series } from './lib/svg.js'
import { AUTO_FANOUT_MARGIN, fanoutFor, type Fanout } from '../src/gossip/push.js'
import { ROUND_JITTER } from '../src/gossip/constants.js'

const SEED = 0xc0ffee
const DESIGN_ROUNDS_N100 = 6.8
const TARGET_ROUNDS_N100 = 4.5
const SHARDS = Number(process.env.BENCH_SHARDS ?? 2)
/** a write counts as reached "by push" on the nodes that had it this soon */
const PUSH_WINDOW_MS = 2000
const CURVE_STEP = 0.5

interface AePlan { n: number, intervalMs: number, trials: number, randomDegree?: number }
interface PushPlan { n: number, writes: number, spacingMs: number, fanout: Fanout, tailMs: number, randomDegree?: number }

/**
 * Above 50 nodes the full mesh does not fit 2 cores: libp2p's connection monitor pings every
 * connection from both ends every 10 s (~0.55 ms of CPU per connection per second, measured),
 * so 4,950 connections alone would need ~2.8 cores. N=100 gets a random graph instead (each node
 * dials RANDOM_DEGREE random others; the DHT then adds its own connections; see the notes).
 */
const FULL_MESH_MAX = 50
const RANDOM_DEGREE = 10

function aePlans (quick: boolean): AePlan[] {
  // sessions per second = N / interval, kept at <= 50/s so that sessions stay short next to the interval
  const interval = (n: number): number => n <= 25 ? 500 : n <= 50 ? 1000 : 3000
  const only = process.env.BENCH_AE_N?.split(',').map(Number)
  return (only ?? (quick ? [10, 25] : [10, 25, 50, 100])).map(n => ({
    n, intervalMs: interval(n), trials: quick ? 6 : n >= 100 ? 40 : 20, ...(n > FULL_MESH_MAX ? { randomDegree: RANDOM_DEGREE } : {})
  }))
}

function pushPlan (quick: boolean): PushPlan {
  const raw = process.env.BENCH_PUSH_FANOUT ?? 'auto'
  const fanout: Fanout = raw === 'auto' ? 'auto' : Number(raw)
  return quick
    ? { n: 25, writes: 12, spacingMs: 300, fanout, tailMs: 20_000 }
    : { n: 100, writes: 100, spacingMs: 300, fanout, tailMs: 30_000, randomDegree: RANDOM_DEGREE }
}

const log = (s: string): void => { if (process.env.BENCH_QUIET === undefined) process.stderr.write(`  [convergence-real] ${s}\n`) }

function loadSummary (loads: ShardLoad[]): Record<string, number> {
  return {
    cpuPercentPerProcess: round(mean(loads.map(l => 100 * l.cpuMs / l.wallMs)), 1),
    eventLoopDelayP50Ms: round(mean(loads.map(l => l.eldP50)), 1),
    eventLoopDelayP99Ms: round(Math.max(...loads.map(l => l.eldP99)), 1),
    eventLoopDelayMaxMs: round(Math.max(...loads.map(l => l.eldMax)), 1),
    rssMiBTotal: Math.round(loads.reduce((s, l) => s + l.rssMiB, 0)),
    /** connection:close events during the measurement (a connection counts once per end) */
    connectionCloses: loads.reduce((s, l) => s + l.connectionsClosed, 0),
    connectionAborts: loads.reduce((s, l) => s + l.connectionsAborted, 0)
  }
}

/** how the cluster was set up: phase times, failed dials and the repair passes */
function setupSummary (c: RealCluster): Record<string, unknown> {
  return {
    ...Object.fromEntries(Object.entries(c.setupMs).map(([k, v]) => [k + 'Ms', Math.round(v)])),
    dialsFailed: c.dialStats.failed,
    dialErrors: c.dialStats.errors,
    missingAtRepairPasses: c.repairs
  }
}

async function meanGossipPeers (c: RealCluster): Promise<{ given: number, atEnd: number, minAtEnd: number }> {
  const p = await c.peers()
  return { given: round(mean(c.degrees), 1), atEnd: round(mean(p.map(x => x.gossipPeers)), 1), minAtEnd: Math.min(...p.map(x => x.gossipPeers)) }
}

const IDEAL_TRIALS = 300
/** how long the idle cluster's load is sampled before the push writes */
const IDLE_LOAD_MS = 5000
/** writes a fresh push cluster makes before the measured ones */
const WARMUP_WRITES = 3

/**
 * What ideal push-pull gives with the product's timer schedule (interval × U(1 − jitter, 1 + jitter), jitter ROUND_JITTER, instant
 * sessions, never busy; bench/lib/sim-schedules.ts), on the gossip graph the cluster really had
 * and on the complete graph: the yardstick for the measured rounds.
 */
function idealReference (n: number, graph: number[][]): Record<string, number> {
  const on = (peers: number[][] | undefined): number => {
    const rng = seededRng(SEED + n)
    return round(mean(Array.from({ length: IDEAL_TRIALS }, (_, i) => timerTrial(n, rng, i, ROUND_JITTER, 0.5, peers).rounds)), 3)
  }
  const complete = graph.every(p => p.length >= n - 1)
  const onGraph = on(graph)
  return { trials: IDEAL_TRIALS, onThisGraph: onGraph, completeGraph: complete ? onGraph : on(undefined) }
}

type RoundRow = RealCluster['rounds'][number]

/**
 * One row per timer round: a node whose peer answered busy tries up to two others at once
 * (src/gossip/service.ts timerRound), so an attempt that starts right after a busy one
 * of the same node belongs to the same round. The round's outcome is its last attempt's.
 */
function timerRounds (attempts: RoundRow[], intervalMs: number): RoundRow[] {
  const byNode = new Map<number, RoundRow[]>()
  for (const r of attempts) {
    let list = byNode.get(r[0])
    if (list === undefined) byNode.set(r[0], list = [])
    list.push(r)
  }
  const out: RoundRow[] = []
  for (const list of byNode.values()) {
    list.sort((a, b) => a[1] - b[1])
    for (const r of list) {
      const prev = out.at(-1)
      const retry = prev !== undefined && prev[0] === r[0] && prev[2] === 'busy' && r[1] - (prev[1] + prev[3]) < intervalMs / 4
      if (retry) out[out.length - 1] = [r[0], prev[1], r[2], r[1] + r[3] - prev[1], r[4]]
      else out.push(r)
    }
  }
  return out
}

interface WriteTrack { key: string, writer: number, t0: number }

/**
 * Writes `count` new keys on random nodes, `spacingMs` apart; with `settle`, each next write
 * also waits until the previous key stopped spreading (no new holder for settle.quietMs, at most
 * settle.maxMs), so that push waves do not overlap.
 */
async function writeSeries (c: RealCluster, rng: ReturnType<typeof seededRng>, prefix: string, count: number, spacingMs: number,
  settle?: { quietMs: number, maxMs: number }): Promise<WriteTrack[]> {
  const out: WriteTrack[] = []
  for (let k = 0; k < count; k++) {
    const writer = randInt(rng, c.opts.n)
    const key = `${prefix}/${k}`
    const { t0, t1 } = await c.write(writer, key)
    let m = c.got.get(key)
    if (m === undefined) c.got.set(key, m = new Map())
    m.set(writer, t1)
    out.push({ key, writer, t0 })
    if (k === count - 1) break
    await sleep(spacingMs)
    if (settle !== undefined) {
      let seen = c.holders(key)
      let since = Date.now()
      const until = t0 + settle.maxMs
      for (let i = 0; i < Math.ceil(settle.maxMs / 100) && Date.now() < until && seen < c.opts.n; i++) {
        await sleep(100)
        if (c.holders(key) !== seen) { seen = c.holders(key); since = Date.now() }
        if (Date.now() - since >= settle.quietMs) break
      }
    }
  }
  return out
}

/** time from the write to the last node that merged it, ms; Infinity if some node never did */
function timeToAll (c: RealCluster, w: WriteTrack): number {
  const m = c.got.get(w.key)
  if (m === undefined || m.size < c.opts.n) return Infinity
  return Math.max(...m.values()) - w.t0
}

async function runAntiEntropy (p: AePlan, rng: ReturnType<typeof seededRng>): Promise<Record<string, any>> {
  const t = performance.now()
  const c = await RealCluster.start({ n: p.n, intervalMs: p.intervalMs, fanout: 0, shards: SHARDS, randomDegree: p.randomDegree }, rng, log)
  try {
    // let the timers settle into their jittered phases before the first write
    await sleep(2 * p.intervalMs)
    await c.loadStart()
    const stagger = p.intervalMs
    const writes = await writeSeries(c, rng, `bench/ae/${p.n}`, p.trials, stagger)
    const deadline = (writes.at(-1) as WriteTrack).t0 + 40 * p.intervalMs
    await c.waitFor(() => writes.every(w => c.holders(w.key) === p.n) || Date.now() > deadline, 40 * p.intervalMs + 5000, 'writes to converge').catch(() => {})
    const tEnd = Date.now()
    const loads = await c.load()
    const ideal = idealReference(p.n, await c.gossipGraph())
    const attempts = c.rounds.filter(r => r[4] === 'initiator' && r[1] >= (writes[0] as WriteTrack).t0 && r[1] <= tEnd)
    const initiator = timerRounds(attempts, p.intervalMs)
    const trials = writes.map(w => {
      const ms = timeToAll(c, w)
      const end = w.t0 + (Number.isFinite(ms) ? ms : 40 * p.intervalMs)
      const perNode = new Array<number>(p.n).fill(0)
      const usefulPerNode = new Array<number>(p.n).fill(0)
      for (const r of initiator) {
        if (r[1] < w.t0 || r[1] > end) continue
        perNode[r[0]] = (perNode[r[0]] as number) + 1
        if (r[2] !== 'busy') usefulPerNode[r[0]] = (usefulPerNode[r[0]] as number) + 1
      }
      const times = [...(c.got.get(w.key)?.values() ?? [])].map(x => x - w.t0)
      const curve: number[] = []
      for (let k = 0; k <= 80; k++) {
        curve.push(times.filter(x => x <= k * CURVE_STEP * p.intervalMs).length / p.n)
        if (curve.at(-1) === 1) break
      }
      return {
        writer: w.writer,
        ms: round(ms, 1),
        roundsByTime: ms / p.intervalMs,
        countedMean: mean(perNode),
        countedMax: Math.max(...perNode),
        usefulMean: mean(usefulPerNode),
        curve
      }
    })
    const done = trials.filter(x => Number.isFinite(x.ms))
    const outcomes: Record<string, number> = {}
    for (const r of attempts) outcomes[r[2]] = (outcomes[r[2]] ?? 0) + 1
    const sessionMs = attempts.filter(r => r[2] === 'in-sync' || r[2] === 'synced').map(r => r[3])
    const elapsed = (tEnd - (writes[0] as WriteTrack).t0) / 1000
    const byTime = done.map(x => x.roundsByTime)
    const counted = done.map(x => x.countedMean)
    return {
      n: p.n,
      intervalMs: p.intervalMs,
      trials: trials.length,
      unfinished: trials.length - done.length,
      roundsByTime: {
        mean: round(mean(byTime), 3),
        se: round(stdError(byTime), 3),
        p50: round(percentile(byTime, 50), 3),
        p99: round(percentile(byTime, 99), 3)
      },
      roundsCounted: {
        mean: round(mean(counted), 3),
        se: round(stdError(counted), 3),
        p99: round(percentile(counted, 99), 3),
        maxNodeMean: round(mean(done.map(x => x.countedMax)), 2)
      },
      /** initiator rounds that were not answered busy, per node, until all had it */
      roundsCountedNotBusy: { mean: round(mean(done.map(x => x.usefulMean)), 3), p99: round(percentile(done.map(x => x.usefulMean), 99), 3) },
      gossipPeersPerNode: await meanGossipPeers(c),
      ideal,
      initiatorRoundsPerNodePerInterval: round(initiator.length / p.n / (elapsed * 1000 / p.intervalMs), 3),
      outcomes,
      busyShare: round((outcomes.busy ?? 0) / Math.max(1, attempts.length), 4),
      /** timer rounds in which every peer tried answered busy */
      allBusyRounds: initiator.filter(r => r[2] === 'busy').length,
      sessionMs: { p50: round(percentile(sessionMs, 50), 1), p99: round(percentile(sessionMs, 99), 1) },
      curveStep: CURVE_STEP,
      curve: meanCurve(trials.map(x => x.curve)).map(x => round(x, 4)),
      perTrial: trials.map(x => ({ writer: x.writer, ms: x.ms, roundsByTime: round(x.roundsByTime, 3), countedMean: round(x.countedMean, 3) })),
      load: loadSummary(loads),
      setup: setupSummary(c),
      wallSeconds: round((performance.now() - t) / 1000, 1)
    }
  } finally {
    await c.stop()
  }
}

async function runPush (p: PushPlan, rng: ReturnType<typeof seededRng>): Promise<Record<string, any>> {
  const t = performance.now()
  const c = await RealCluster.start({ n: p.n, intervalMs: 60_000, fanout: p.fanout, shards: SHARDS, randomDegree: p.randomDegree }, rng, log)
  try {
    await sleep(1000)
    // the cluster's own upkeep before any write (connection-monitor pings, DHT): what the push waves share the cores with
    await c.loadStart()
    await sleep(IDLE_LOAD_MS)
    const idleLoads = await c.load()
    // a fresh cluster's first writes open each pair's gossip stream and warm the JIT: not in the figures, reported apart
    const warmup = await writeSeries(c, rng, `bench/push-warmup/${p.n}`, WARMUP_WRITES, p.spacingMs, { quietMs: 500, maxMs: 5000 })
    await c.waitFor(() => warmup.every(w => c.holders(w.key) === p.n), 10_000, 'warm-up writes').catch(() => {})
    const warmupMs = warmup.map(w => timeToAll(c, w))
    await c.loadStart()
    const writes = await writeSeries(c, rng, `bench/push/${p.n}`, p.writes, p.spacingMs, { quietMs: 500, maxMs: 5000 })
    const deadline = (writes.at(-1) as WriteTrack).t0 + p.tailMs
    await c.waitFor(() => writes.every(w => c.holders(w.key) === p.n) || Date.now() > deadline, p.tailMs + 5000, 'writes to arrive').catch(() => {})
    const loads = await c.load()
    const end = Date.now()
    const ms = writes.map(w => timeToAll(c, w))
    const idleCpuShare = idleLoads.reduce((x, l) => x + l.cpuMs / l.wallMs, 0)
    const waveCpuMs = loads.reduce((x, l) => x + l.cpuMs - idleCpuShare / loads.length * l.wallMs, 0) / writes.length
    // a write not everywhere at the end was watched for (end - its write) ms: its time is at least that
    const censoredFloorMs = Math.min(...writes.filter((_, i) => !Number.isFinite(ms[i] as number)).map(w => end - w.t0))
    const byPush = writes.map(w => [...(c.got.get(w.key)?.values() ?? [])].filter(x => x - w.t0 <= PUSH_WINDOW_MS).length)
    const model = Array.from({ length: 4000 }, () => infectAndDieMissed(p.n, p.fanout, rng))
    const graph = await c.gossipGraph()
    const onGraph = Array.from({ length: 4000 }, () => infectAndDieMissed(p.n, p.fanout, rng, graph))
    const rounds = c.rounds.filter(r => r[1] >= (writes[0] as WriteTrack).t0)
    const pushOut = rounds.filter(r => r[4] === 'push-out')
    const pushIn = rounds.filter(r => r[4] === 'push-in')
    // nodes whose first copy came through an anti-entropy session: push never reached them (the writer is not counted)
    const viaSession = writes.map(w => [...(c.gotVia.get(w.key)?.values() ?? [])].filter(v => v === 'session').length)
    return {
      n: p.n,
      fanout: p.fanout,
      intervalMs: 60_000,
      writes: writes.length,
      waitedAfterLastWriteMs: p.tailMs,
      /** null: not everywhere when the run ended, i.e. more than censoredFloorMs */
      msToAll: {
        p50: round(percentile(ms, 50), 1),
        p90: round(percentile(ms, 90), 1),
        p99: round(percentile(ms, 99), 1),
        max: round(Math.max(...ms), 1),
        unfinished: ms.filter(x => !Number.isFinite(x)).length,
        censoredFloorMs: Math.round(censoredFloorMs)
      },
      /** time to all for the writes that push alone brought everywhere */
      msToAllByPush: (() => {
        const b = ms.filter((x, i) => byPush[i] === p.n)
        return { writes: b.length, p50: round(percentile(b, 50), 1), p99: round(percentile(b, 99), 1) }
      })(),
      allByPushShare: round(byPush.filter(x => x === p.n).length / writes.length, 3),
      missedByPushMean: round(mean(byPush.map(x => p.n - x)), 3),
      pushesPerWrite: round(pushOut.length / writes.length, 1),
      pushErrors: pushOut.filter(r => r[2] !== 'synced').length,
      /** push frames received (a lost frame would show as fewer than sent) and failed on receipt */
      pushesOut: pushOut.length,
      pushesIn: pushIn.length,
      pushInErrors: pushIn.filter(r => r[2] !== 'synced').length,
      /** writes that some node got only through anti-entropy, and such nodes per write */
      writesMissedByPush: viaSession.filter(x => x > 0).length,
      notReachedByPushMean: round(mean(viaSession), 3),
      gossipPeersPerNode: await meanGossipPeers(c),
      model: {
        what: 'infect-and-die push (bench/lib/sim-theory.ts infectAndDieMissed), 4000 runs',
        allReachedShare: round(model.filter(x => x.missed === 0).length / model.length, 3),
        missedMean: round(mean(model.map(x => x.missed)), 3),
        pushesPerWrite: round(mean(model.map(x => x.pushes)), 1),
        /** the same on the gossip graph the cluster really had */
        onThisGraph: {
          allReachedShare: round(onGraph.filter(x => x.missed === 0).length / onGraph.length, 3),
          missedMean: round(mean(onGraph.map(x => x.missed)), 3)
        },
        allReachedByFanout: Object.fromEntries(([4, 6, 8, 10, 12, 'auto'] as Fanout[]).map(f => {
          const runs = Array.from({ length: 2000 }, () => infectAndDieMissed(p.n, f, rng))
          return [f, round(runs.filter(x => x.missed === 0).length / runs.length, 3)]
        }))
      },
      perWrite: writes.map((w, i) => ({ writer: w.writer, ms: round(ms[i] as number, 1), byPush: byPush[i], viaSession: viaSession[i] })),
      load: loadSummary(loads),
      /** before the first write, over IDLE_LOAD_MS: the cluster's upkeep alone */
      idleLoad: loadSummary(idleLoads),
      /** CPU of all processes per write, above the idle upkeep: the push wave's own cost */
      waveCpuMs: Math.round(waveCpuMs),
      /** time to all of the warm-up writes (not in msToAll) */
      warmupMs: warmupMs.map(x => round(x, 1)),
      setup: setupSummary(c),
      wallSeconds: round((performance.now() - t) / 1000, 1)
    }
  } finally {
    await c.stop()
  }
}

/** "4: 12 %, 6: 40 %, ...": share of infect-and-die runs that reached every node, per fixed fanout */
function fixedFanoutShares (byFanout: Record<string, number>): string {
  return Object.entries(byFanout).filter(([f]) => f !== 'auto').map(([f, v]) => `${f}: ${fmt(100 * v, 0)} %`).join(', ')
}

/** standard error of the mean (trials overlap in time, so this is a lower bound) */
function stdError (xs: number[]): number {
  const m = mean(xs)
  return xs.length < 2 ? NaN : Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) / xs.length)
}

const secs = (ms: number, floorMs?: number): string => Number.isFinite(ms)
  ? `${(ms / 1000).toFixed(2)} s`
  : floorMs !== undefined && Number.isFinite(floorMs) ? `> ${(floorMs / 1000).toFixed(0)} s` : '∞'

export const run: BenchFn = async (opts) => {
  const rng = seededRng(SEED)
  const only = process.env.BENCH_ONLY
  const ae: Array<Record<string, any>> = []
  if (only !== 'push') {
    for (const p of aePlans(opts.quick)) {
      log(`anti-entropy N=${p.n}, interval ${p.intervalMs} ms, ${p.trials} writes`)
      ae.push(await runAntiEntropy(p, rng))
    }
  }
  const pp = pushPlan(opts.quick)
  let push: Record<string, any> | undefined
  if (only !== 'ae') {
    log(`eager push N=${pp.n}, fanout ${pp.fanout}, interval 60 s, ${pp.writes} writes`)
    push = await runPush(pp, rng)
  }

  const rows: BenchRow[] = []
  for (const a of ae) {
    const n100 = a.n === 100
    rows.push({
      metric: `anti-entropy only: rounds until all N=${a.n} real nodes have a write, ` +
        `mean / p99 — by time (elapsed ÷ ${a.intervalMs} ms interval); ${a.trials} writes`,
      ours: `${fmt(a.roundsByTime.mean)} / ${fmt(a.roundsByTime.p99)}`,
      design: n100 ? String(DESIGN_ROUNDS_N100) : '-',
      target: n100 ? `≤ ${TARGET_ROUNDS_N100} mean` : '-',
      ...(n100 ? { met: a.roundsByTime.mean <= TARGET_ROUNDS_N100 } : {})
    })
    rows.push({
      metric: `  same, counted: timer rounds each node ran until all had it (mean over nodes), mean / p99 (N=${a.n})`,
      ours: `${fmt(a.roundsCounted.mean)} / ${fmt(a.roundsCounted.p99)}`,
      design: n100 ? String(DESIGN_ROUNDS_N100) : '-',
      target: n100 ? `≤ ${TARGET_ROUNDS_N100} mean` : '-',
      ...(n100 ? { met: a.roundsCounted.mean <= TARGET_ROUNDS_N100 } : {})
    })
    rows.push({
      metric: `  yardstick: ideal push-pull with the same timers on the same gossip graph (simulated, instant sessions, never busy), mean intervals (N=${a.n})`,
      ours: fmt(a.ideal.onThisGraph),
      design: '-',
      target: '-'
    })
  }
  if (push !== undefined) {
    const m = push.msToAll
    const f = m.censoredFloorMs as number
    rows.push({
      metric: `eager push (fanout ${push.fanout}, interval 60 s): time until all ` +
        `N=${push.n} nodes have a write, p50 (${push.writes} writes, one after another)`,
      ours: secs(m.p50, f),
      design: '-',
      target: '< 1 s',
      met: m.p50 < 1000
    })
    rows.push({
      metric: `  same, p99${m.unfinished > 0 ? ` (${m.unfinished} writes were not everywhere when the run ended)` : ''}`,
      ours: secs(m.p99, f),
      design: '-',
      target: '< 3 s',
      met: m.p99 < 3000
    })
    rows.push({
      metric: `  writes that push alone brought to all ${push.n} nodes within ${PUSH_WINDOW_MS / 1000} s ` +
        `(infect-and-die model: ${fmt(100 * push.model.allReachedShare, 0)} %)`,
      ours: `${fmt(100 * push.allByPushShare, 0)} %`,
      design: '-',
      target: '-'
    })
  }

  const meshOf = (x: Record<string, any>, part: string): string => x.gossipPeersPerNode.given >= x.n - 1
    ? `${part} N=${x.n}: full mesh`
    : `${part} N=${x.n}: random graph, ${x.gossipPeersPerNode.given} neighbours per node dialled, ` +
      `${x.gossipPeersPerNode.atEnd} gossip peers per node at the end (min ${x.gossipPeersPerNode.minAtEnd})`
  const notes: string[] = [
    'Real nodes: EngramNode.create (LevelDB in temp dirs, libp2p TCP + Noise + Yamux on 127.0.0.1, Kad-DHT and ' +
      `discovery on, gossip service with its own jittered timers) in ${SHARDS} child processes per cluster. ` +
      'Connections are dialled directly (shuffled pair order), not found by DHT discovery; ' +
      'every node must list all its neighbours as gossip peers before the first write. ' +
      'Node starts are spread over min(10 s, 0.1 s × N), so that the co-hosted nodes\' 10-s connection-monitor ' +
      'ping rounds do not fire in the same tick (that burst stalled the event loop for 1-3 s at N=100). ' +
      `Up to N=${FULL_MESH_MAX} that is a full mesh. Beyond it the full mesh does not fit 2 cores: libp2p's connection ` +
      'monitor pings every connection from both ends every 10 s, ~0.55 ms of CPU per connection-second here, ' +
      'so N=100\'s 4,950 connections would need ~2.8 cores before any gossip; N=100 gets a random graph ' +
      `(each node dials ${RANDOM_DEGREE} random others) and the DHT's own self-queries then add connections. ` +
      [...ae.map(a => meshOf(a, 'a')), ...(push !== undefined ? [meshOf(push, 'b')] : [])].join('; ') + '.',
    'a: eager push off (fanout 0). Writes on random nodes, one interval apart, so several spread at once: each spreads through ' +
      'the same sessions independently (a session syncs every differing key); trials are correlated but each is a fair sample. ' +
      'Rounds by time = (last node merged − write) ÷ interval; counted = timer rounds (from the \'round\' events; an ' +
      'attempt right after a busy answer is part of the same round) each node started in that time, mean over nodes.',
    ...(ae.length > 0
      ? [`a: interval ${ae.map(a => `${a.intervalMs} ms at N=${a.n}`).join(', ')}, keeping ≤ 50 sessions/s: a ` +
          'round costs a few ms of CPU for both ends here (Noise, Yamux, multistream-select when a stream is new). ' +
          'Load per process during the trials: ' +
          ae.map(a => `N=${a.n} ${a.load.cpuPercentPerProcess} % CPU, event-loop delay ` +
            `p99 ${a.load.eventLoopDelayP99Ms} ms (max ${a.load.eventLoopDelayMaxMs})`)
            .join('; ') + '.',
      'a: busy replies (the responder was in another inbound session: maxConcurrentSessions = 2, one of them inbound; the node then tries up to two other ' +
          `peers at once) were ${ae.map(a => `${fmt(100 * a.busyShare, 1)} % at N=${a.n}`).join(', ')} of session attempts; ` +
          `timer rounds in which every peer tried was busy: ${ae.map(a => `${a.allBusyRounds} at N=${a.n}`).join(', ')}; ` +
          `counted without the all-busy rounds: ${ae.map(a => `${fmt(a.roundsCountedNotBusy.mean)} at N=${a.n}`).join(', ')}. ` +
          `Session wall time p50 / p99: ${ae.map(a => `${a.sessionMs.p50} / ${a.sessionMs.p99} ms`).join(', ')}. ` +
          `Initiator rounds per node per interval: ${ae.map(a => a.initiatorRoundsPerNodePerInterval).join(', ')} ` +
          '(1.0 if every timer fired on time and none was skipped because a session was running). ' +
          `Yardstick (ideal push-pull, same timers, ${IDEAL_TRIALS} simulated trials): on the ` +
          `measured gossip graph ${ae.map(a => `${fmt(a.ideal.onThisGraph)} at N=${a.n}`).join(', ')}; ` +
          `on a complete graph ${ae.map(a => `${fmt(a.ideal.completeGraph)}`).join(', ')}.`,
      ...ae.filter(a => a.n === 100).map(a => {
        const met = a.roundsByTime.mean <= TARGET_ROUNDS_N100 && a.roundsCounted.mean <= TARGET_ROUNDS_N100
        return `a: target at N=100 (≤ ${TARGET_ROUNDS_N100} mean): ${met ? 'met' : 'not met'} ` +
            `— by time ${fmt(a.roundsByTime.mean)} ± ${fmt(a.roundsByTime.se)}, counted ${fmt(a.roundsCounted.mean)} ` +
            `± ${fmt(a.roundsCounted.se)} (± one standard error over ${a.trials} trials). ` +
            `The same timers doing ideal push-pull on the same graph (every session instant, nobody ever busy) take ${fmt(a.ideal.onThisGraph)}: ` +
            'that is the most one exchange per node per interval can do, and the design\'s 6.8 is the synchronous-rounds figure. ' +
            `What remains, ${fmt(a.roundsCounted.mean - a.ideal.onThisGraph)} rounds counted (${fmt(a.roundsByTime.mean - a.ideal.onThisGraph)} by time), ` +
            `is what real sessions cost on 2 shared cores: a session takes time (p99 ${a.sessionMs.p99} ms) during which the news is not yet passed on, ` +
            `timers fire late behind event-loop stalls (p99 ${a.load.eventLoopDelayP99Ms} ms, ` +
            `max ${a.load.eventLoopDelayMaxMs} ms; ${a.initiatorRoundsPerNodePerInterval} initiator rounds per node ` +
            `per interval instead of 1), and ${a.allBusyRounds} timer rounds found all three peers they tried busy. ` +
            'The reconciliation itself loses nothing (simulation section: no session left a difference); ' +
            'beating the yardstick needs more exchanges while news is fresh, which is eager push\'s job (part b).'
      })]
      : []),
    ...(push !== undefined
      ? [`b: ${push.writes} writes on random nodes (after ${push.warmupMs.length} warm-up writes that opened the gossip streams ` +
          `between the pairs and warmed the JIT, to all in ${push.warmupMs.map((x: number) => secs(x)).join(', ')}), each once ` +
          'the previous one stopped spreading (no new node for 0.5 s, at most 5 s), so push waves do not overlap; time to all ' +
          `= last node's 'merged' event − the write; the run ends ${push.waitedAfterLastWriteMs / 1000} s after the last write. ` +
          `p50 ${secs(push.msToAll.p50, push.msToAll.censoredFloorMs)}, p90 ${secs(push.msToAll.p90, push.msToAll.censoredFloorMs)}, ` +
          `p99 ${secs(push.msToAll.p99, push.msToAll.censoredFloorMs)} (nearest rank), max ${secs(push.msToAll.max, push.msToAll.censoredFloorMs)}; ` +
          `writes that push alone completed: ${push.msToAllByPush.writes}, p50 ${secs(push.msToAllByPush.p50)}, p99 ${secs(push.msToAllByPush.p99)}. ` +
          `Pushes per write ${push.pushesPerWrite} (model ${push.model.pushesPerWrite}), ` +
          `failed pushes ${push.pushErrors}. Load: ${push.load.cpuPercentPerProcess} % CPU per process, ` +
          `event-loop delay p99 ${push.load.eventLoopDelayP99Ms} ms, RSS ${push.load.rssMiBTotal} MiB in all.`,
      'b: nodes whose first copy came from an anti-entropy session, not a push (a timer round that ran during the wave, or push ' +
          `missed them): ${push.writesMissedByPush} of ${push.writes} writes, ${push.notReachedByPushMean} nodes per write on average; ` +
          'the infect-and-die model on the gossip graph this cluster really had predicts push misses ' +
          `in ${fmt(100 * (1 - push.model.onThisGraph.allReachedShare), 1)} % of writes, ${push.model.onThisGraph.missedMean} nodes per write. ` +
          `A node push missed waits for anti-entropy (interval 60 s × U(${1 - ROUND_JITTER}, ${1 + ROUND_JITTER})): such ` +
          `a write takes up to about a minute, and more than ${Math.floor(push.writes / 100)} of them put the p99 there. ` +
          `Every node forwards once to ${push.fanout === 'auto' ? `ln(its gossip peers + 1) + ${AUTO_FANOUT_MARGIN}` : push.fanout} ` +
          'random peers; node v is missed with probability Π over its neighbours u of (1 − fanout_u / peers_u): ' +
          `in a full mesh of ${push.n} (${fanoutFor('auto', push.n - 1)} of ${push.n - 1} peers each) that is ` +
          `e^-${fanoutFor('auto', push.n - 1)} per node and all are reached in ${fmt(100 * push.model.allReachedShare, 1)} % of writes ` +
          `(fixed fanouts: ${fixedFanoutShares(push.model.allReachedByFanout)}); ` +
          `here the graph is sparse and uneven (${push.gossipPeersPerNode.atEnd} gossip peers per node, as few ` +
          `as ${push.gossipPeersPerNode.minAtEnd}), so a node with few peers whose neighbours have many is missed far more often. ` +
          `Push frames sent ${push.pushesOut}, received ${push.pushesIn}, failed on the sender ${push.pushErrors}, on the receiver ${push.pushInErrors}.`,
        `b: the writes push brought everywhere took p50 ${secs(push.msToAllByPush.p50)}, ` +
          `p99 ${secs(push.msToAllByPush.p99)}; that time is CPU queueing of 100 nodes on 2 cores. ` +
          `Before the first write the idle cluster alone used ${push.idleLoad.cpuPercentPerProcess} % CPU per ` +
          'process (libp2p\'s connection monitor pings every connection from both ends every 10 s, DHT upkeep), ' +
          `and each write's wave cost ${(push.waveCpuMs / 1000).toFixed(2)} CPU-s more (${push.pushesPerWrite} pushes: ` +
          `Noise, Yamux, merge, LevelDB write, forwarding; ${fmt(push.waveCpuMs / push.pushesPerWrite, 2)} ms each), ` +
          'worked off one push after another by the 2 event loops (event-loop delay ' +
          `p99 ${push.load.eventLoopDelayP99Ms} ms, max ${push.load.eventLoopDelayMaxMs} ms). ` +
          `On 100 machines a node does only its own ~${fanoutFor('auto', Math.round(push.gossipPeersPerNode.atEnd))} ` +
          'pushes per write and a wave is a few network hops.']
      : [])
  ]
  const section: BenchSection = {
    id: 'convergence-real',
    title: 'Convergence with real nodes over TCP on 127.0.0.1',
    rows,
    notes,
    data: { seed: SEED, shards: SHARDS, pushWindowMs: PUSH_WINDOW_MS, antiEntropy: ae, push, curves: chart(ae) }
  }
  return section
}

/** for bench/run.ts: fraction of nodes holding a write vs rounds (elapsed ÷ interval), integer rounds */
function chart (ae: Array<Record<string, any>>): { title: string, series: Series[] } {
  const step = Math.round(1 / CURVE_STEP)
  return {
    title: 'Real nodes, anti-entropy only: nodes holding a new write',
    series: ae.map(a => ({ label: `N=${a.n} (${a.intervalMs} ms)`, points: (a.curve as number[]).filter((_, i) => i % step === 0) }))
  }
}

if (isMain(import.meta.url)) await runAlone(run)
