/**
 * Convergence at scale, simulated: the product's reconciliation and merge code (sans-IO
 * Initiator/Responder, wire codec, mergeIncoming, MerkleIndex; bench/lib/mem-net.ts) on an
 * in-memory network of N = 100, 1,000, 10,000 nodes (quick: 100 and 1,000). One new pattern
 * is written on one random node; nodes then run push-pull sessions with uniformly random
 * peers until every node holds it. Seeded, so a run is reproducible.
 *
 *   node --import tsx bench/convergence-sim.ts [--quick] [--json]
 */
import type { BenchFn, BenchRow, BenchSection } from './lib/types.js'
import { fmt, mean, meanCurve, percentile, round, seededRng, stddev } from './lib/figures.js'
import { permutationTrial, timerTrial, type TrialResult } from './lib/sim-schedules.js'
import {
  ASYNC_EARLY_GROWTH, closedForms, expectedRounds, logisticCurve, meanFieldAsyncRounds, meanFieldSyncRounds, syncPushPullTrial
} from './lib/sim-theory.js'
import { isMain, runAlone } from './lib/main.js'
import type { Series } from './lib/svg.js'
import { ROUND_JITTER } from '../src/gossip/constants.js'

const DESIGN_ROUNDS_N100 = 6.8
const TARGET_MEAN_N100 = 4.5
const SEED = 0x5eed
const TIMER_CURVE_STEP = 0.5
const JITTER = ROUND_JITTER

interface Plan {
  n: number
  permutationTrials: number
  timerTrials: number
  syncTrials: number
  /** stop adding trials of one kind after this long (the loops are bounded in count and time) */
  budgetMs: number
}

const FULL: Plan[] = [
  { n: 100, permutationTrials: 1000, timerTrials: 1000, syncTrials: 2000, budgetMs: 30_000 },
  { n: 1000, permutationTrials: 200, timerTrials: 200, syncTrials: 500, budgetMs: 45_000 },
  { n: 10_000, permutationTrials: 40, timerTrials: 20, syncTrials: 100, budgetMs: 120_000 }
]
const QUICK: Plan[] = [
  { n: 100, permutationTrials: 100, timerTrials: 100, syncTrials: 500, budgetMs: 10_000 },
  { n: 1000, permutationTrials: 20, timerTrials: 20, syncTrials: 100, budgetMs: 15_000 }
]

function trials<T> (count: number, budgetMs: number, one: (i: number) => T): { results: T[], ms: number } {
  const t0 = performance.now()
  const results: T[] = []
  for (let i = 0; i < count && (i === 0 || performance.now() - t0 < budgetMs); i++) results.push(one(i))
  return { results, ms: performance.now() - t0 }
}

function summary (xs: number[]): { trials: number, mean: number, stderr: number, p50: number, p99: number, max: number, unfinished: number } {
  const done = xs.filter(Number.isFinite)
  return {
    trials: xs.length,
    mean: round(mean(done), 3),
    stderr: round(stddev(done) / Math.sqrt(Math.max(1, done.length)), 3),
    p50: round(percentile(done, 50), 3),
    p99: round(percentile(done, 99), 3),
    max: round(Math.max(...done), 3),
    unfinished: xs.length - done.length
  }
}

function traffic (rs: TrialResult[]): Record<string, number> {
  const sum = (f: (r: TrialResult) => number): number => rs.reduce((s, r) => s + f(r), 0)
  const sessions = sum(r => r.traffic.sessions)
  const transfers = sum(r => r.traffic.transfers)
  return {
    sessionsPerTrial: round(sessions / rs.length, 1),
    inSyncShare: round(sum(r => r.traffic.inSync) / sessions, 4),
    bytesPerTrial: Math.round(sum(r => r.traffic.bytes) / rs.length),
    bytesPerInSyncSession: round((sum(r => r.traffic.bytes) - sum(r => r.traffic.transferBytes)) / Math.max(1, sessions - transfers), 1),
    bytesPerTransferSession: round(sum(r => r.traffic.transferBytes) / Math.max(1, transfers), 1),
    roundTripsPerTransferSession: round(sum(r => r.traffic.transferRoundTrips) / Math.max(1, transfers), 3),
    deviationsFromIdealPushPull: sum(r => r.traffic.deviations)
  }
}

function simulateSize (p: Plan): Record<string, any> {
  const perm = trials(p.permutationTrials, p.budgetMs, i => permutationTrial(p.n, seededRng(SEED + 1_000_003 * p.n + i), i))
  const timer = trials(p.timerTrials, p.budgetMs, i => timerTrial(p.n, seededRng(SEED + 7_000_001 * p.n + i), i, JITTER, TIMER_CURVE_STEP))
  const sync = trials(p.syncTrials, p.budgetMs / 4, i => syncPushPullTrial(p.n, seededRng(SEED + 13_000_007 * p.n + i)))
  const mfAsync = meanFieldAsyncRounds(p.n)
  const mfSync = meanFieldSyncRounds(p.n)
  return {
    n: p.n,
    permutation: {
      ...summary(perm.results.map(r => r.rounds)),
      ms: Math.round(perm.ms),
      /** mean informed fraction after round r = 0, 1, 2, ... */
      curve: meanCurve(perm.results.map(r => r.curve)).map(x => round(x, 5)),
      traffic: traffic(perm.results)
    },
    timer: {
      ...summary(timer.results.map(r => r.rounds)),
      ms: Math.round(timer.ms),
      countedRoundsPerNode: round(mean(timer.results.map(r => r.countedMean as number)), 3),
      countedRoundsMaxNode: round(mean(timer.results.map(r => r.countedMax as number)), 3),
      curveStep: TIMER_CURVE_STEP,
      /** mean informed fraction at t = k * curveStep intervals after the write */
      curve: meanCurve(timer.results.map(r => r.curve)).map(x => round(x, 5))
    },
    syncReference: { ...summary(sync.results), ms: Math.round(sync.ms) },
    theory: {
      meanFieldAsync: { expectedRounds: round(expectedRounds(mfAsync, p.n), 3), curve: mfAsync.map(x => round(x, 5)) },
      meanFieldSync: { expectedRounds: round(expectedRounds(mfSync, p.n), 3), curve: mfSync.map(x => round(x, 5)) },
      logisticPoisson: logisticCurve(p.n, TIMER_CURVE_STEP).map(([t, x]) => [t, round(x, 5)]),
      closedForms: Object.fromEntries(Object.entries(closedForms(p.n)).map(([k, v]) => [k, round(v, 3)]))
    }
  }
}

/** least-squares slope of y against log10(n) */
function perDecade (points: Array<[number, number]>): number {
  const xs = points.map(([n]) => Math.log10(n))
  const ys = points.map(([, y]) => y)
  const mx = mean(xs)
  const my = mean(ys)
  const num = xs.reduce((s, x, i) => s + (x - mx) * ((ys[i] as number) - my), 0)
  const den = xs.reduce((s, x) => s + (x - mx) ** 2, 0)
  return den === 0 ? NaN : num / den
}

/** for bench/run.ts: measured fraction-vs-round curves per N, and the mean-field curves dashed */
function chart (sizes: Array<Record<string, any>>): { title: string, series: Series[] } {
  const series: Series[] = []
  for (const s of sizes) series.push({ label: `N=${s.n} simulated`, points: s.permutation.curve })
  for (const s of sizes) series.push({ label: `N=${s.n} mean-field`, points: s.theory.meanFieldAsync.curve, dashed: true })
  const first = sizes[0] as Record<string, any>
  series.push({ label: `N=${first.n} sync push-pull`, points: first.theory.meanFieldSync.curve, dashed: true })
  return { title: 'Simulated convergence: one write, async push-pull rounds', series }
}

export const run: BenchFn = async (opts) => {
  const plan = opts.quick ? QUICK : FULL
  const sizes = plan.map(simulateSize)
  const rows: BenchRow[] = []
  for (const s of sizes) {
    const n100 = s.n === 100
    rows.push({
      metric: `rounds until all N=${s.n.toLocaleString('en-US')} nodes have a new write, mean / p99 ` +
        `(async push-pull, real reconcile code, ${s.permutation.trials} trials)`,
      ours: `${fmt(s.permutation.mean)} / ${fmt(s.permutation.p99, 0)}`,
      design: n100 ? String(DESIGN_ROUNDS_N100) : '-',
      // whole rounds (a write everywhere during round 5 counts 5), so this runs ~0.4 above the timer model
      target: '-'
    })
  }
  for (const s of sizes) {
    rows.push({
      metric: `intervals until all N=${s.n.toLocaleString('en-US')} have it, mean / p99 ` +
        `(product timer: interval × U(${1 - JITTER}, ${1 + JITTER}), ${s.timer.trials} trials)`,
      ours: `${fmt(s.timer.mean)} / ${fmt(s.timer.p99)}`,
      design: s.n === 100 ? String(DESIGN_ROUNDS_N100) : '-',
      target: s.n === 100 ? `≤ ${TARGET_MEAN_N100} mean` : '-',
      ...(s.n === 100 ? { met: s.timer.mean <= TARGET_MEAN_N100 } : {})
    })
  }
  const growth = perDecade(sizes.map(s => [s.n, s.permutation.mean]))
  const mfGrowth = perDecade(sizes.map(s => [s.n, s.theory.meanFieldAsync.expectedRounds]))
  rows.push({
    metric: `rounds added per 10× nodes, fit over N=${sizes.map(s => s.n).join(', ')} (mean-field of this model: ${fmt(mfGrowth)}; log3 N: 2.10)`,
    ours: fmt(growth),
    design: '-',
    target: '-'
  })
  const s100 = sizes[0] as Record<string, any>
  rows.push({
    metric: `reference: synchronous push-pull (all nodes exchange at once, abstract model), mean rounds (N=100, ${s100.syncReference.trials} trials)`,
    ours: fmt(s100.syncReference.mean),
    design: String(DESIGN_ROUNDS_N100),
    target: '-'
  })

  const dev = sizes.reduce((n, s) => n + (s.permutation.traffic.deviationsFromIdealPushPull as number), 0)
  const t100 = s100.permutation.traffic
  const trialCounts = sizes.map(s => `N=${s.n}: ${s.permutation.trials} round-model (${(s.permutation.ms / 1000).toFixed(1)} s), ` +
    `${s.timer.trials} timer-model, ${s.syncReference.trials} sync-reference`).join('; ')
  const notes = [
    `Model (rows 1-${sizes.length}): asynchronous rounds. In every round each node acts once, in a fresh random order (a model of unsynchronised timers), ` +
      'and runs one push-pull session with a uniformly random other node; a write that is everywhere by the end of round 5 took 5 rounds. ' +
      'Every exchange is a real session: Initiator/Responder state machines, frames encoded and decoded by the ' +
      'wire codec, patterns merged with mergeIncoming into a MerkleIndex (bench/lib/mem-net.ts). No libp2p nodes.',
    `The real code behaved exactly as ideal push-pull: ${dev} sessions (of all trials and sizes) left one side without a pattern the other had.`,
    `Rows ${sizes.length + 1}-${2 * sizes.length}: the product's own schedule (next round interval × U(${1 - JITTER}, ${1 + JITTER}) ` +
      'after the previous one, phases stationary), time from the write in intervals; sessions take no time here. ' +
      `Initiator rounds per node in that time: ${sizes.map(s => `${fmt(s.timer.countedRoundsPerNode)} at N=${s.n}`).join(', ')} ` +
      '(what convergence-real counts via \'round\' events).',
    'Theory: a mean-field of this schedule (bench/lib/sim-theory.ts) predicts ' +
      `E[rounds] ${sizes.map(s => `${fmt(s.theory.meanFieldAsync.expectedRounds)} at N=${s.n}`).join(', ')} ` +
      `(measured ${sizes.map(s => fmt(s.permutation.mean)).join(', ')}). While few nodes are informed it grows ×2e ≈ 5.44 per round ` +
      '(an informed node pushes once and newly informed nodes that have not acted yet push in the same round; uninformed ones pull), ' +
      `so rounds ≈ log_2e N + an O(ln ln N) tail: asymptotically ${fmt(Math.log(10) / Math.log(ASYNC_EARLY_GROWTH))} rounds per 10× ` +
      `nodes, ${fmt(mfGrowth)} over these N in the mean-field (the tail still grows), measured ${fmt(growth)}. Logarithmic growth holds.`,
    'The issue\'s reference "log3 N + O(ln ln N)" is the synchronous push-pull result (Karp et al. ' +
      '2000: the informed set triples per round, then the pull tail squares the uninformed fraction): ' +
      `log3 100 = 4.19 is only its leading term; on the abstract synchronous model the full figure is ${fmt(s100.syncReference.mean)} ` +
      `at N=100 (mean-field ${fmt(s100.theory.meanFieldSync.expectedRounds)}), close to the design's ${DESIGN_ROUNDS_N100}. ` +
      'ln N (the leading term of asynchronous push-pull with Poisson clocks) ' +
      `is ${fmt(Math.log(100))} at N=100; the product timer schedule measures ${fmt(s100.timer.mean)}.`,
    `Target ≤ ${TARGET_MEAN_N100} at N=100: ${s100.permutation.mean <= TARGET_MEAN_N100 ? 'met' : 'not met'} ` +
      `by the round model (${fmt(s100.permutation.mean)} ± ${fmt(s100.permutation.stderr)} s.e.), ` +
      `${s100.timer.mean <= TARGET_MEAN_N100 ? 'met' : 'not met'} in intervals by the timer model (${fmt(s100.timer.mean)} ± ${fmt(s100.timer.stderr)}). ` +
      'Both are what one push-pull exchange per node per interval can do (the code loses nothing, see above); ' +
      'going below needs more exchanges while news is fresh (e.g. eager push), not better reconciliation.',
    `Cost per session at N=100: ${t100.bytesPerInSyncSession} B when roots are equal (${fmt(100 * t100.inSyncShare, 1)} % of sessions, 1 round trip), ` +
      `${t100.bytesPerTransferSession} B and ${t100.roundTripsPerTransferSession} round ` +
      'trips when it moves the pattern (frames incl. length prefix, no Noise/Yamux overhead).',
    `Trials: ${trialCounts}. ` +
      `p99 is nearest-rank (the maximum when there are fewer than 100 trials). Seed ${SEED}.`,
    'data.sizes[i].permutation.curve[r] is the mean fraction of nodes holding the write after round r; timer.curve[k] at ' +
      'k × 0.5 intervals; theory.* holds the mean-field and logistic (dx/dt = 2x(1-x), Poisson clocks) curves for the chart.'
  ]
  const section: BenchSection = {
    id: 'convergence-sim',
    title: 'Convergence at scale (simulated network, real reconciliation code)',
    rows,
    notes,
    data: {
      curves: chart(sizes),
      seed: SEED,
      jitter: JITTER,
      designRoundsN100: DESIGN_ROUNDS_N100,
      targetMeanN100: TARGET_MEAN_N100,
      roundsPerDecade: round(growth, 3),
      meanFieldRoundsPerDecade: round(mfGrowth, 3),
      sizes
    }
  }
  return section
}

if (isMain(import.meta.url)) await runAlone(run)
