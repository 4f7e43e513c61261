/**
 * Local writes through the API: 16 HTTP clients at once (keep-alive) PUT new patterns into a
 * node started with the real CLI, then GET them back. Every PUT is acknowledged only once it is
 * on disk (a synced LevelDB batch), so this measures durable writes per second.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BenchFn, BenchRow } from './lib/types.js'
import { int, isMain, runAlone } from './lib/main.js'
import { ensureBuilt, startCliNode, stopNode } from './lib/cli-node.js'

const CLIENTS = 16
const PUT_TARGET = 5000

interface Api { url: URL, token: string, agent: Agent }

async function call (api: Api, method: string, path: string, body?: unknown): Promise<number> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  return await new Promise<number>((resolve, reject) => {
    const req = request({
      host: api.url.hostname,
      port: api.url.port,
      method,
      path,
      agent: api.agent,
      headers: {
        authorization: `Bearer ${api.token}`,
        ...(data === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(data.length) })
      },
      timeout: 30_000
    }, res => {
      res.resume()
      res.on('end', () => { res.statusCode === 200 ? resolve(performance.now()) : reject(new Error(`${method} ${path}: ${res.statusCode ?? 0}`)) })
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)))
    req.on('error', reject)
    req.end(data)
  })
}

/** `total` calls from CLIENTS loops at once; returns calls per second and the latencies in ms */
async function load (total: number, one: (i: number) => Promise<number>): Promise<{ perS: number, ms: number[] }> {
  let next = 0
  const ms: number[] = []
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < total) {
      const i = next++
      const start = performance.now()
      ms.push(await one(i) - start)
    }
  }))
  return { perS: total / ((performance.now() - t0) / 1000), ms: ms.sort((a, b) => a - b) }
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN

export const run: BenchFn = async ({ quick }) => {
  const n = quick ? 3000 : 20_000
  const build = await ensureBuilt()
  const dir = await mkdtemp(join(tmpdir(), 'engram-local-writes-'))
  const data = join(dir, 'data')
  let node: ChildProcess | undefined
  try {
    node = await startCliNode(data, join(dir, 'node.key'))
    const info = JSON.parse(await readFile(join(data, 'api.json'), 'utf8')) as { url: string }
    const token = (await readFile(join(data, 'api.token'), 'utf8')).trim()
    const api: Api = { url: new URL(info.url), token, agent: new Agent({ keepAlive: true, maxSockets: CLIENTS }) }
    const key = (i: number): string => `bench/${i.toString(36).padStart(6, '0')}`
    // warm-up: connections, JIT
    await load(Math.min(500, n / 10), async i => await call(api, 'PUT', `/v1/patterns/warm-${i}`, { confidence: 0.5, episodes: [`e${i}`] }))
    const put = await load(n, async i =>
      await call(api, 'PUT', `/v1/patterns/${encodeURIComponent(key(i))}`, { confidence: 0.5, episodes: [`ep-${i}-a`, `ep-${i}-b`] }))
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
          'A PUT is answered after its write is in a synced LevelDB batch (concurrent writes share one: group commit).'
      ],
      data: {
        clients: CLIENTS,
        n,
        put: { perS: put.perS, p50: pct(put.ms, 0.5), p99: pct(put.ms, 0.99) },
        get: { perS: get.perS, p50: pct(get.ms, 0.5), p99: pct(get.ms, 0.99) }
      }
    }
  } finally {
    if (node !== undefined) await stopNode(node)
    await rm(dir, { recursive: true, force: true })
  }
}

if (isMain(import.meta.url)) await runAlone(run)
