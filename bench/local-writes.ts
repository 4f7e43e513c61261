/**
 * Local writes through the API: 16 HTTP clients at once (keep-alive) PUT new patterns into a
 * node started with the real CLI, then GET them back. Every PUT is acknowledged only once it is
 * on disk (a synced LevelDB batch), so this measures durable writes per second.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BenchFn, BenchRow } from './lib/types.js'
import { int, isMain, runAlone } from './lib/main.js'
import { ensureBuilt, startCliNode, stopNode } from './lib/cli-node.js'
import { apiOf, call, CLIENTS, cpuText, load, pct, withCpu } from './lib/api-load.js'

const PUT_TARGET = 5000
const CORES = availableParallelism()

export const run: BenchFn = async ({ quick }) => {
  const n = quick ? 3000 : 20_000
  const build = await ensureBuilt()
  const dir = await mkdtemp(join(tmpdir(), 'engram-local-writes-'))
  const data = join(dir, 'data')
  let node: ChildProcess | undefined
  try {
    node = await startCliNode(data, join(dir, 'node.key'))
    const api = await apiOf(data)
    const key = (i: number): string => `bench/${i.toString(36).padStart(6, '0')}`
    // warm-up: connections, JIT
    await load(Math.min(500, n / 10), async i => await call(api, 'PUT', `/v1/patterns/warm-${i}`, { confidence: 0.5, episodes: [`e${i}`] }))
    const measured = await withCpu(node.pid as number, n, async () => await load(n, async i =>
      await call(api, 'PUT', `/v1/patterns/${encodeURIComponent(key(i))}`, { confidence: 0.5, episodes: [`ep-${i}-a`, `ep-${i}-b`] })))
    const put = measured.result
    const get = await load(n, async i => await call(api, 'GET', `/v1/patterns/${encodeURIComponent(key((i * 7919) % n))}`))
    api.agent.destroy()
    const rows: BenchRow[] = [
      {
        metric: `local writes: PUT of a new pattern through the API, ${CLIENTS} clients at once, acknowledged on disk`,
        ours: `${int(Math.round(put.perS))} PUT/s (p50 ${pct(put.ms, 0.5).toFixed(1)} ms, p99 ${pct(put.ms, 0.99).toFixed(1)} ms)`,
        design: '-',
        target: `>= ${int(PUT_TARGET)} PUT/s`,
        met: put.perS >= PUT_TARGET
      },
      {
        metric: `CPU per PUT: the node's main thread + its other threads / the ${CLIENTS} clients; the bound each gives (event loop / ${CORES} cores)`,
        ours: cpuText(measured, 'PUT/s'),
        design: '-',
        target: '-'
      },
      {
        metric: `local reads: GET of a pattern through the API, ${CLIENTS} clients at once`,
        ours: `${int(Math.round(get.perS))} GET/s (p50 ${pct(get.ms, 0.5).toFixed(1)} ms, p99 ${pct(get.ms, 0.99).toFixed(1)} ms)`,
        design: '-',
        target: '-'
      }
    ]
    return {
      id: 'local-writes',
      title: 'Local writes and reads through the API',
      rows,
      notes: [
        `${build}; \`bin/engram start\` in a fresh data dir on 127.0.0.1 (no peers), ${CLIENTS} keep-alive HTTP clients in the bench process; ` +
          `${int(n)} PUTs of new keys (two episodes each), then ${int(n)} GETs of those keys; a warm-up of 500 PUTs first. ` +
          'A PUT is answered after its write is in a synced LevelDB batch (concurrent writes share one: group commit).',
        'CPU per PUT: user + system time from /proc during the PUTs, of the node\'s main thread (HTTP, JSON, signing, ' +
          'the index: all on one event loop), of its other threads, and of the bench process (its clients share the machine). ' +
          'The event loop\'s bound is one second of it per PUT cost; the cores\' bound is every core busy on this work alone.'
      ],
      data: {
        clients: CLIENTS,
        n,
        put: { perS: put.perS, p50: pct(put.ms, 0.5), p99: pct(put.ms, 0.99), cpuUs: measured.cpuUs, boundPerS: measured.boundPerS },
        get: { perS: get.perS, p50: pct(get.ms, 0.5), p99: pct(get.ms, 0.99) }
      }
    }
  } finally {
    if (node !== undefined) await stopNode(node)
    await rm(dir, { recursive: true, force: true })
  }
}

if (isMain(import.meta.url)) await runAlone(run)
