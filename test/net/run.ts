/**
 * `npm run test:net`: partition and rejoin scenarios on a real (namespaced) network of 8
 * hosts in two sites, driving real `engram` processes through the CLI. Needs root; skips
 * with a clear message where it cannot build the network. Bounded: the whole suite stops
 * after SUITE_TIMEOUT_MS, every wait has its own timeout, and the network and processes
 * are removed on exit, on failure and on SIGINT/SIGTERM (and leftovers at the next start).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Topology, cleanupLeftovers, requirements } from './topology.js'
import { EngramHost, GOSSIP_INTERVAL_S, startAll, waitForMesh } from './cluster.js'
import { ScenarioMissed, table, type ScenarioResult } from './results.js'
import {
  crashDuringSync, healAtProductionInterval, joinAtProductionInterval, longIsolation, lossyLink, noFixedSeed, partitionAndHeal, type Ctx
} from './scenarios.js'

/**
 * The whole suite stops after this (and then prints no table). It was 10 min for the first five
 * scenarios, which took 5-6 min on 2 shared cores; the two at the production interval add ~1.5-2
 * min (the cut held until connections break, a 100,000-pattern import) and long isolation on a
 * 20,000-pattern state ~1 min: a full run took 6.5 min, too close to 10 on a slow or busy machine.
 * 20 min: about 3x a full run, and with the ~8 min of the rest of CI far inside CI's 90 min budget.
 */
const SUITE_TIMEOUT_MS = 20 * 60_000

interface Scenario {
  name: string
  run: (c: Ctx) => Promise<ScenarioResult>
  /** needs every host running at the suite's 1 s interval (started by 'no fixed seed', or here) */
  cluster: boolean
}

const SCENARIOS: Scenario[] = [
  { name: 'no fixed seed', run: noFixedSeed, cluster: false },
  { name: 'partition and heal', run: partitionAndHeal, cluster: true },
  { name: 'lossy slow WAN', run: lossyLink, cluster: true },
  // crash during sync before long isolation: its 20,000 patterns make the isolated host's state
  // much larger than what it misses, so "only the difference moves" is told apart from "the whole
  // state moves" (with ~37 patterns held, two overlapping pulls of the 3,000 - allowed, up to 2x -
  // already exceeded the whole state: the check failed in 2 of 5 runs here since connect sync)
  { name: 'crash during sync', run: crashDuringSync, cluster: true },
  { name: 'long isolation', run: longIsolation, cluster: true },
  // these two restart the nodes at the production interval: they run last
  { name: 'heal at production interval', run: healAtProductionInterval, cluster: false },
  { name: 'join at production interval', run: joinAtProductionInterval, cluster: false }
]

/** ENGRAM_NET_ONLY=<name>,<name>: a subset of the scenarios, in suite order. */
function selected (): Scenario[] {
  const only = process.env.ENGRAM_NET_ONLY
  if (only === undefined || only.trim() === '') return SCENARIOS
  const names = only.split(',').map(n => n.trim()).filter(n => n !== '')
  const unknown = names.filter(n => !SCENARIOS.some(s => s.name === n))
  if (unknown.length > 0) {
    const names = unknown.map(n => `'${n}'`).join(', ')
    throw new Error(`ENGRAM_NET_ONLY: no scenario ${names}; the scenarios are: ${SCENARIOS.map(s => s.name).join(', ')}`)
  }
  return SCENARIOS.filter(s => names.includes(s.name))
}

/** The network as built: WAN up without delay or loss, every host on its bridge, no rate limit. */
async function resetNetwork (ctx: Ctx): Promise<void> {
  await ctx.topo.wan.heal()
  await ctx.topo.wan.set(0, 0)
  for (const h of ctx.topo.hosts) {
    await ctx.topo.limitRate(h, undefined)
    await ctx.topo.isolate(h, false)
  }
}

/** Every host running at the suite's 1 s interval (after a subset skipped the start, or a scenario changed the interval). */
async function ensureCluster (ctx: Ctx): Promise<void> {
  const ok = (h: EngramHost): boolean => h.running && h.intervalS === GOSSIP_INTERVAL_S
  if (ctx.hosts.every(ok)) return
  await Promise.all(ctx.spares.map(async h => { await h.kill('SIGTERM') }))
  await startAll(ctx.hosts, GOSSIP_INTERVAL_S)
  await waitForMesh(ctx.hosts)
}

function seeded (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

async function main (): Promise<number> {
  const suiteStart = Date.now()
  const scenarios = selected()
  const missing = await requirements()
  if (missing !== undefined) {
    process.stdout.write(`SKIP network tests: ${missing}\n0 passed, 0 failed, ${scenarios.length} skipped\n`)
    return 0
  }
  const work = await mkdtemp(join(tmpdir(), 'engram-net-'))
  let topo: Topology | undefined
  const hosts: EngramHost[] = []
  const spares: EngramHost[] = []
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled([...hosts, ...spares].map(async h => { await h.kill('SIGKILL') }))
    await topo?.destroy().catch(() => {})
    await cleanupLeftovers().catch(() => {})
    if (process.env.ENGRAM_KEEP_ARTIFACTS === undefined) await rm(work, { recursive: true, force: true })
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => { void cleanup().finally(() => process.exit(130)) })
  }
  const watchdog = setTimeout(() => {
    process.stderr.write(`network suite exceeded ${SUITE_TIMEOUT_MS / 60_000} minutes; aborting\n`)
    void cleanup().finally(() => process.exit(1))
  }, SUITE_TIMEOUT_MS)

  const results: ScenarioResult[] = []
  let failed = 0
  try {
    const seed = Number(process.env.ENGRAM_NET_SEED ?? Date.now() % 100_000)
    process.stdout.write(`network suite: 8 hosts in 2 sites, seed ${seed} (ENGRAM_NET_SEED to replay), work dir ${work}\n`)
    topo = await Topology.create(4)
    for (const h of topo.hosts) {
      const eh = new EngramHost(h, join(work, h.ns))
      await eh.init()
      hosts.push(eh)
    }
    const ctx: Ctx = { topo, hosts, spares, random: seeded(seed) }
    for (const { name, run, cluster } of scenarios) {
      const t0 = Date.now()
      process.stdout.write(`\n== ${name}\n`)
      try {
        if (cluster) await ensureCluster(ctx)
        const r = await run(ctx)
        results.push(r)
        process.stdout.write(`ok ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`)
      } catch (err: any) {
        failed++
        if (err instanceof ScenarioMissed) {
          results.push({ ...err.row, passed: false, note: `${err.message}; ${err.row.note}` })
        } else {
          results.push({
            scenario: name,
            hosts: hosts.filter(h => h.running).length,
            writes: 0,
            lost: 0,
            rounds: null,
            seconds: null,
            moved: null,
            differing: null,
            passed: false,
            note: String(err?.message ?? err).split('\n')[0] ?? ''
          })
        }
        process.stdout.write(`not ok ${name}: ${String(err?.stack ?? err)}\n`)
        // a failed scenario may have left the WAN cut or slow, a host cut off or rate-limited
        await resetNetwork(ctx).catch((e: Error) => { process.stdout.write(`network reset failed: ${e.message}\n`) })
        // a failed scenario may leave the cluster broken: the later ones would only fail the same way
        if (name === 'no fixed seed') break
      }
    }
  } finally {
    clearTimeout(watchdog)
    await cleanup()
  }
  process.stdout.write('\n' + table(results))
  process.stdout.write(`${results.length - failed} passed, ${failed} failed, ${((Date.now() - suiteStart) / 60_000).toFixed(1)} min\n`)
  return failed === 0 && results.length > 0 ? 0 : 1
}

main().then(code => { process.exitCode = code }, err => {
  process.stderr.write(`network suite crashed: ${String(err?.stack ?? err)}\n`)
  process.exitCode = 1
})
