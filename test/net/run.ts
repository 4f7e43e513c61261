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
import { EngramHost } from './cluster.js'
import { table, type ScenarioResult } from './results.js'
import { crashDuringSync, longIsolation, lossyLink, noFixedSeed, partitionAndHeal, type Ctx } from './scenarios.js'

const SUITE_TIMEOUT_MS = 10 * 60_000

function seeded (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

async function main (): Promise<number> {
  const missing = await requirements()
  if (missing !== undefined) {
    process.stdout.write(`SKIP network tests: ${missing}\n0 passed, 0 failed, 5 skipped\n`)
    return 0
  }
  const work = await mkdtemp(join(tmpdir(), 'engram-net-'))
  let topo: Topology | undefined
  const hosts: EngramHost[] = []
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled(hosts.map(async h => { await h.kill('SIGKILL') }))
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
    const ctx: Ctx = { topo, hosts, random: seeded(seed) }
    const scenarios: Array<[string, (c: Ctx) => Promise<ScenarioResult>]> = [
      ['no fixed seed', noFixedSeed],
      ['partition and heal', partitionAndHeal],
      ['lossy slow WAN', lossyLink],
      ['long isolation', longIsolation],
      ['crash during sync', crashDuringSync]
    ]
    for (const [name, run] of scenarios) {
      const t0 = Date.now()
      process.stdout.write(`\n== ${name}\n`)
      try {
        const r = await run(ctx)
        results.push(r)
        process.stdout.write(`ok ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`)
      } catch (err: any) {
        failed++
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
        process.stdout.write(`not ok ${name}: ${String(err?.stack ?? err)}\n`)
        // a failed scenario may leave the cluster broken: the later ones would only fail the same way
        if (name === 'no fixed seed') break
      }
    }
  } finally {
    clearTimeout(watchdog)
    await cleanup()
  }
  process.stdout.write('\n' + table(results))
  process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`)
  return failed === 0 && results.length > 0 ? 0 : 1
}

main().then(code => { process.exitCode = code }, err => {
  process.stderr.write(`network suite crashed: ${String(err?.stack ?? err)}\n`)
  process.exitCode = 1
})
