/** HTTP load on a node's API from the bench process: keep-alive clients, calls per second, latencies. */
import { Agent, request } from 'node:http'
import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { int } from './main.js'
import { cpuSecondsOf, mainThreadCpuSecondsOf } from './proc-cpu.js'

export const CLIENTS = 16

export interface Api { url: URL, token: string, agent: Agent }

/** The API of a node started with the CLI in `data` (its api.json and token file). */
export async function apiOf (data: string): Promise<Api> {
  const info = JSON.parse(await readFile(join(data, 'api.json'), 'utf8')) as { url: string }
  const token = (await readFile(join(data, 'api.token'), 'utf8')).trim()
  return { url: new URL(info.url), token, agent: new Agent({ keepAlive: true, maxSockets: CLIENTS }) }
}

/** One call; resolves with the time it was answered (200) and the body. */
export async function callBody (api: Api, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<{ at: number, body: string }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  return await new Promise((resolve, reject) => {
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
      timeout: timeoutMs
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        res.statusCode === 200 ? resolve({ at: performance.now(), body: text }) : reject(new Error(`${method} ${path}: ${res.statusCode ?? 0} ${text}`))
      })
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(data)
  })
}

export async function call (api: Api, method: string, path: string, body?: unknown): Promise<number> {
  return (await callBody(api, method, path, body)).at
}

/** `total` calls from CLIENTS loops at once; returns calls per second and the latencies in ms, sorted */
export async function load (total: number, one: (i: number) => Promise<number>): Promise<{ perS: number, ms: number[] }> {
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

export const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN

/** CPU per call in µs, from /proc: the node's main thread (its event loop), all its threads, and this process (the clients). */
export interface CpuPerCall { main: number, node: number, clients: number }

/** What a load cost per call, and the rate each bound allows: the node's event loop, or every core, busy on it alone. */
export interface CpuCost { cpuUs: CpuPerCall, boundPerS: { loop: number, cores: number } }

/**
 * `run` (a load of `calls` calls on the node `pid`'s API) with what it cost per call, and the rate
 * each bound allows: the node's event loop busy on nothing else, or every core busy on this work alone.
 */
export async function withCpu<T> (pid: number, calls: number, run: () => Promise<T>): Promise<{ result: T } & CpuCost> {
  const [node0, main0, clients0] = [await cpuSecondsOf(pid), await mainThreadCpuSecondsOf(pid), process.cpuUsage()]
  const result = await run()
  const clients = process.cpuUsage(clients0)
  const cpuUs = {
    main: (await mainThreadCpuSecondsOf(pid) - main0) / calls * 1e6,
    node: (await cpuSecondsOf(pid) - node0) / calls * 1e6,
    clients: (clients.user + clients.system) / calls
  }
  return { result, cpuUs, boundPerS: { loop: 1e6 / cpuUs.main, cores: availableParallelism() * 1e6 / (cpuUs.node + cpuUs.clients) } }
}

/** A withCpu figure as the bench prints it: main thread + other threads / clients, then the two bounds. */
export function cpuText (c: CpuCost, unit: string): string {
  const { main, node, clients } = c.cpuUs
  return `${int(main)} + ${int(node - main)} µs / ${int(clients)} µs; ${int(c.boundPerS.loop)} / ${int(c.boundPerS.cores)} ${unit}`
}
