/**
 * A cluster of N real Engram nodes on 127.0.0.1, spread over a few child processes
 * (bench/lib/real-shard.ts) so that two cores carry it. The parent dials a full mesh
 * directly (no waiting for DHT discovery), writes patterns, and collects when each node
 * merged each key and every gossip round each node ran.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { RoundTuple, ShardCommand, ShardEvent, ShardLoad } from './real-shard.js'
import { randOther, shuffleInPlace, type Rng } from './figures.js'
import type { Fanout } from '../../src/gossip/push.js'

const SHARD_FILE = fileURLToPath(new URL('./real-shard.ts', import.meta.url))
const REPLY_TIMEOUT_MS = 600_000
const MAX_REPAIR_PASSES = 10
/** node starts are spread over up to this long (the connection monitor's ping period) so periodic work does not align */
const START_SPREAD_MS = 10_000
const START_SPREAD_PER_NODE_MS = 100
const REPAIR_WAIT_MS = 4000

type CommandBody = ShardCommand extends infer C ? C extends { id: number } ? Omit<C, 'id'> : never : never

class Shard {
  private readonly child: ChildProcess
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: any) => void, reject: (e: Error) => void, timer: ReturnType<typeof setTimeout> }>()
  exited = false

  constructor (onEvent: (e: ShardEvent) => void) {
    // BENCH_SHARD_CPU_PROF=<dir>: each shard writes a CPU profile there when it exits (for finding why a target is missed)
    const prof = process.env.BENCH_SHARD_CPU_PROF
    const execArgv = ['--import', 'tsx', ...(prof !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])]
    this.child = fork(SHARD_FILE, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child.on('message', (m: ShardEvent) => {
      if (m.ev === 'reply') {
        const p = this.pending.get(m.id)
        if (p === undefined) return
        this.pending.delete(m.id)
        clearTimeout(p.timer)
        if (m.ok) p.resolve(m.value)
        else p.reject(new Error(`shard: ${m.error}`))
      } else {
        onEvent(m)
      }
    })
    this.child.on('exit', code => {
      this.exited = true
      for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error(`shard exited with ${String(code)}`)) }
      this.pending.clear()
    })
  }

  async call<T> (body: CommandBody): Promise<T> {
    if (this.exited) throw new Error('shard has exited')
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`shard did not answer ${body.cmd} in time`)) }, REPLY_TIMEOUT_MS)
      this.pending.set(id, { resolve, reject, timer })
      this.child.send({ ...body, id })
    })
  }

  /** waits up to `ms` for the process to leave by itself, then kills it */
  async end (ms: number): Promise<void> {
    if (!this.exited) {
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        new Promise<void>(resolve => this.child.once('exit', () => resolve())),
        new Promise<void>(resolve => { timer = setTimeout(resolve, ms) })
      ])
      clearTimeout(timer)
    }
    if (!this.exited) this.child.kill('SIGKILL')
  }
}

export interface ClusterOptions {
  n: number
  intervalMs: number
  fanout: Fanout
  shards: number
  /** dials at once per shard */
  dialConcurrency?: number
  /** connect each node to this many random others (a random graph of mean degree ~2x) instead of a full mesh */
  randomDegree?: number
}

export interface NodeInfo {
  index: number
  peerId: string
  addr: string
}

/** One node's answer to a shard's `peers` command. */
interface ShardPeer {
  index: number
  gossipPeers: number
  connected: number
  root: string
  patterns: number
}

export class RealCluster {
  private readonly shards: Shard[] = []
  readonly nodes: NodeInfo[] = []
  /** key -> node index -> epoch ms it merged the key */
  readonly got = new Map<string, Map<number, number>>()
  /** key -> node index -> how its first merge of the key came ('push' | 'session') */
  readonly gotVia = new Map<string, Map<number, string>>()
  /** every gossip round any node ran, as reported */
  readonly rounds: RoundTuple[] = []
  setupMs: { start: number, dial: number, mesh: number } = { start: 0, dial: 0, mesh: 0 }
  dialStats = { ok: 0, failed: 0, errors: {} as Record<string, number> }
  /** connections missing at each mesh repair pass */
  readonly repairs: Array<{ missing: number, notGossip: number }> = []
  /** neighbours each node was given (n - 1 in a full mesh) */
  degrees: number[] = []

  private constructor (readonly opts: ClusterOptions) {}

  private shardOf (index: number): Shard {
    return this.shards[index % this.shards.length] as Shard
  }

  private onEvent (e: ShardEvent): void {
    if (e.ev === 'got') {
      for (const [key, index, t, via] of e.items) {
        let m = this.got.get(key)
        if (m === undefined) this.got.set(key, m = new Map())
        if (!m.has(index)) {
          m.set(index, t)
          let v = this.gotVia.get(key)
          if (v === undefined) this.gotVia.set(key, v = new Map())
          v.set(index, via)
        }
      }
    } else if (e.ev === 'rounds') {
      for (const r of e.items) this.rounds.push(r)
    }
  }

  /** Starts n nodes over the shards, dials a full mesh (shuffled pair order) and waits until every node has n-1 gossip peers. */
  static async start (opts: ClusterOptions, rng: Rng, log: (s: string) => void = () => {}): Promise<RealCluster> {
    const c = new RealCluster(opts)
    try {
      await c.boot(rng, log)
      return c
    } catch (err) {
      await c.stop()
      throw err
    }
  }

  private async boot (rng: Rng, log: (s: string) => void): Promise<void> {
    const { n, shards, intervalMs, fanout } = this.opts
    for (let s = 0; s < Math.min(shards, n); s++) this.shards.push(new Shard(e => this.onEvent(e)))
    let t = performance.now()
    const started = await Promise.all(this.shards.map(async (sh, s) => {
      const indices = Array.from({ length: n }, (_, i) => i).filter(i => i % this.shards.length === s)
      const spreadMs = Math.min(START_SPREAD_MS, START_SPREAD_PER_NODE_MS * n)
      return await sh.call<NodeInfo[]>({ cmd: 'start', indices, total: n, spreadMs, intervalMs, fanout })
    }))
    for (const info of started.flat().sort((a, b) => a.index - b.index)) this.nodes.push(info)
    this.setupMs.start = performance.now() - t
    log(`started ${n} nodes in ${this.shards.length} processes (${(this.setupMs.start / 1000).toFixed(1)} s)`)

    t = performance.now()
    const pairs = this.graph(rng)
    const want = new Array<number>(n).fill(0)
    for (const [i, j] of pairs) { want[i] = (want[i] as number) + 1; want[j] = (want[j] as number) + 1 }
    this.degrees = want
    const perShard = this.shards.map(() => [] as Array<[number, string]>)
    for (const [i, j] of pairs) perShard[i % this.shards.length]?.push([i, (this.nodes[j] as NodeInfo).addr])
    const dialPass = async (onlyMissing: boolean): Promise<void> => {
      const results = await Promise.all(this.shards.map(async (sh, s) =>
        await sh.call<{ ok: number, failed: number, errors: Record<string, number> }>({
          cmd: 'dial', pairs: perShard[s] as Array<[number, string]>, concurrency: this.opts.dialConcurrency ?? 8, onlyMissing
        })))
      for (const r of results) {
        this.dialStats.ok += r.ok
        this.dialStats.failed += r.failed
        for (const [k, v] of Object.entries(r.errors)) this.dialStats.errors[k] = (this.dialStats.errors[k] ?? 0) + v
      }
    }
    await dialPass(false)
    this.setupMs.dial = performance.now() - t
    const shape = this.opts.randomDegree === undefined ? 'full mesh' : `random graph, mean degree ${(2 * pairs.length / n).toFixed(1)}`
    log(`dialed ${pairs.length} connections (${shape}) (${this.dialStats.failed} failed after retries; ${(this.setupMs.dial / 1000).toFixed(1)} s)`)

    // libp2p drops some fresh connections while a mesh forms (see the notes of convergence-real):
    // re-dial the missing pairs until every node lists all its neighbours as gossip peers
    t = performance.now()
    let last: Array<{ index: number, gossipPeers: number, connected: number }> = []
    for (let pass = 0; pass < MAX_REPAIR_PASSES; pass++) {
      const full = await this.waitFor(async () => (last = await this.peers()).every(p => p.gossipPeers >= (want[p.index] as number)),
        REPAIR_WAIT_MS, 'mesh', 500).then(() => true, () => false)
      if (full) break
      const missing = last.reduce((s, p) => s + Math.max(0, (want[p.index] as number) - p.connected), 0) / 2
      const dropped = (await Promise.all(this.shards.map(async sh => await sh.call<number>({ cmd: 'drop-non-gossip' })))).reduce((a, b) => a + b, 0)
      this.repairs.push({ missing, notGossip: dropped })
      log(`mesh repair pass ${pass + 1}: ~${missing} connections missing, ${dropped} connected peers that never became gossip peers hung up; re-dialling`)
      await dialPass(true)
    }
    if (!last.every(p => p.gossipPeers >= (want[p.index] as number))) {
      const short = last.filter(p => p.gossipPeers < (want[p.index] as number))
      throw new Error(`no full mesh after ${MAX_REPAIR_PASSES} repair passes: ${short.length} nodes short, e.g. ${JSON.stringify(short.slice(0, 5))}`)
    }
    this.setupMs.mesh = performance.now() - t
  }

  /** the pairs to connect (i < j), shuffled: every pair, or each node picks randomDegree random others */
  private graph (rng: Rng): Array<[number, number]> {
    const { n, randomDegree } = this.opts
    const pairs: Array<[number, number]> = []
    if (randomDegree === undefined || randomDegree >= n - 1) {
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j])
    } else {
      const seen = new Set<number>()
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < randomDegree; k++) {
          const j = randOther(rng, n, i)
          const a = Math.min(i, j)
          const b = Math.max(i, j)
          if (seen.has(a * n + b)) continue
          seen.add(a * n + b)
          pairs.push([a, b])
        }
      }
    }
    return shuffleInPlace(rng, pairs)
  }

  async peers (): Promise<ShardPeer[]> {
    return (await Promise.all(this.shards.map(async sh => await sh.call<ShardPeer[]>({ cmd: 'peers' })))).flat()
  }

  /** Every node's gossip peers now, as node indices. */
  async gossipGraph (): Promise<number[][]> {
    const byId = new Map(this.nodes.map(x => [x.peerId, x.index]))
    const out: number[][] = this.nodes.map(() => [])
    for (const sh of this.shards) {
      for (const [index, ids] of await sh.call<Array<[number, string[]]>>({ cmd: 'graph' })) {
        out[index] = ids.map(id => byId.get(id)).filter((x): x is number => x !== undefined)
      }
    }
    return out
  }

  /** Writes `key` on node `index`; returns the epoch ms just before and after the local write. */
  async write (index: number, key: string): Promise<{ t0: number, t1: number }> {
    return await this.shardOf(index).call<{ t0: number, t1: number }>({ cmd: 'write', index, key })
  }

  async loadStart (): Promise<void> {
    await Promise.all(this.shards.map(async sh => { await sh.call({ cmd: 'load-start' }) }))
  }

  async load (): Promise<ShardLoad[]> {
    return await Promise.all(this.shards.map(async sh => await sh.call<ShardLoad>({ cmd: 'load' })))
  }

  /** Polls `cond` every `everyMs` until true or `timeoutMs`; throws with `what` on timeout. */
  async waitFor (cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 100): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (let i = 0; i < Math.ceil(timeoutMs / everyMs) + 1 && Date.now() <= deadline; i++) {
      if (await cond()) return
      await new Promise(resolve => setTimeout(resolve, everyMs))
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
  }

  /** nodes that have `key` (the writer counts from its write) */
  holders (key: string): number {
    return this.got.get(key)?.size ?? 0
  }

  async stop (): Promise<void> {
    await Promise.allSettled(this.shards.map(async sh => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const bounded = new Promise<void>(resolve => { timer = setTimeout(resolve, 30_000) })
      await Promise.race([sh.call({ cmd: 'stop' }).catch(() => {}), bounded])
      clearTimeout(timer)
      await sh.end(10_000)
    }))
  }
}
