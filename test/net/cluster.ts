/**
 * Real `engram` processes on the namespaced hosts, driven only through the CLI
 * (`engram start`, `engram pattern put|import|list`, `engram status --json`).
 */
import { type ChildProcess } from 'node:child_process'
import { access, mkdir, open, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Host } from './topology.js'
import { nsExec, sh, sleep, spawnInNs, until } from './sh.js'

const ENGRAM = fileURLToPath(new URL('../../bin/engram', import.meta.url))
/** the suite's usual gossip interval: short, so that the scenarios do not wait on timer rounds */
export const GOSSIP_INTERVAL_S = 1
/** the product's default interval, for the scenarios that check what does not wait for the timer */
export const PRODUCTION_INTERVAL_S = 60

/** One pattern as `engram pattern list --json` shows it (the fields the scenarios compare). */
export interface Digest { digest: string, deleted: boolean, confidence: number, episodes: string[] }

export interface NodeStatusJson {
  peerId: string
  addresses: string[]
  root: string
  patterns: number
  gossipPeers: string[]
  lastRounds: Array<{
    peer: string, role: string, outcome: string, startedAt: number, ms: number, patternsIn: number, patternsOut: number, patternsChanged: number
  }>
}

export class EngramHost {
  proc: ChildProcess | undefined
  peerId = ''
  /** the --interval the node was last started with */
  intervalS = GOSSIP_INTERVAL_S
  constructor (readonly host: Host, readonly dir: string) {}

  get data (): string { return join(this.dir, 'data') }
  get key (): string { return join(this.dir, 'node.key') }
  get addr (): string { return `/ip4/${this.host.ip}/tcp/4001/p2p/${this.peerId}` }
  get running (): boolean { return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null }

  /** the cluster secret every host of the suite shares (one file in the work dir, made by the first host) */
  get swarmKey (): string { return join(dirname(this.dir), 'swarm.key') }

  async init (): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    if (!await access(this.swarmKey).then(() => true, () => false)) await sh(process.execPath, [ENGRAM, 'key', 'swarm', this.swarmKey])
    const r = await sh(process.execPath, [ENGRAM, 'key', 'generate', this.key])
    this.peerId = /peer id: (\S+)/.exec(r.stdout)?.[1] ?? ''
  }

  /** whether a node ever ran on this data dir (a restart needs no --join: it has remembered peers) */
  async hasData (): Promise<boolean> {
    return await access(this.data).then(() => true, () => false)
  }

  /**
   * engram start in the host's namespace; resolves once it printed its addresses. The gossip
   * interval is the suite's 1 s unless `opts.intervalS` says otherwise (a restart keeps the data dir).
   */
  async start (join: EngramHost | undefined, extra: string[] = [], opts: { intervalS?: number } = {}): Promise<void> {
    const from = (await this.log()).length // the log is appended to across restarts
    const log = await open(join_(this.dir, 'node.log'), 'a')
    this.intervalS = opts.intervalS ?? GOSSIP_INTERVAL_S
    const args = [process.execPath, ENGRAM, 'start', '--data', this.data, '--key', this.key,
      '--listen', `/ip4/${this.host.ip}/tcp/4001`, '--api', '127.0.0.1:5480',
      '--interval', String(this.intervalS), '--swarm-key', this.swarmKey, ...(join !== undefined ? ['--join', join.addr] : []), ...extra]
    this.proc = spawnInNs(this.host.ns, args, log.fd)
    this.proc.once('exit', () => { void log.close() })
    await until(`${this.host.ns} to start`, async () => {
      if (!this.running) throw new Error(`engram on ${this.host.ns} exited: ${(await this.log()).slice(-800)}`)
      return /to join this node/.test((await this.log()).slice(from))
    }, 30_000, 200)
  }

  async log (): Promise<string> {
    return await readFile(join_(this.dir, 'node.log'), 'utf8').catch(() => '')
  }

  async kill (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc
    if (p === undefined || !this.running) return
    const exited = new Promise(resolve => p.once('exit', resolve))
    p.kill(signal)
    await Promise.race([exited, sleep(15_000)])
    if (this.running) p.kill('SIGKILL')
  }

  /** One CLI command (60 s: a burst of ~30 concurrent commands on 2 busy cores took over 30 s). */
  async cli (args: string[], timeoutMs = 60_000): Promise<string> {
    const r = await nsExec(this.host.ns, [process.execPath, ENGRAM, ...args, '--data', this.data], { timeoutMs })
    return r.stdout
  }

  async status (): Promise<NodeStatusJson> {
    return JSON.parse(await this.cli(['status', '--json']))
  }

  async put (key: string, episodes: string[], confidence: number): Promise<void> {
    await this.cli(['pattern', 'put', key, ...episodes.flatMap(e => ['--episode', e]), '--confidence', String(confidence)])
  }

  async rm (key: string): Promise<void> {
    await this.cli(['pattern', 'rm', key])
  }

  /** Bulk writes through `engram pattern import` (a file of NDJSON lines). */
  async import (items: Array<{ key: string, episodes: string[], confidence: number, summary?: string }>): Promise<void> {
    const file = join_(this.dir, `import-${Date.now()}.ndjson`)
    await writeFile(file, items.map(i => JSON.stringify(i)).join('\n') + '\n')
    await this.cli(['pattern', 'import', file], 120_000)
  }

  /** key -> digest of every pattern (tombstones included), all pages; only keys under `prefix` if given. */
  async digests (prefix?: string): Promise<Map<string, Digest>> {
    const out = new Map<string, Digest>()
    let cursor: string | null = null
    for (let page = 0; page < 1000; page++) {
      const args = ['pattern', 'list', '--json', '--limit', '1000',
        ...(prefix !== undefined ? ['--prefix', prefix] : []), ...(cursor !== null ? ['--cursor', cursor] : [])]
      const res = JSON.parse(await this.cli(args)) as {
        patterns: Array<{ key: string, digest: string, deleted: boolean, confidence: number, episodes: string[] }>
        nextCursor: string | null
      }
      for (const p of res.patterns) out.set(p.key, { digest: p.digest, deleted: p.deleted, confidence: p.confidence, episodes: p.episodes })
      cursor = res.nextCursor
      if (cursor === null) break
    }
    return out
  }

  /** A counter from the node's Prometheus metrics (summed over labels). */
  async metric (name: string): Promise<number> {
    return Object.values(await this.metricSeries(name)).reduce((a, b) => a + b, 0)
  }

  /** Each series of a metric: labels as written (e.g. `{role="push-in"}`, '' for none) -> value. */
  async metricSeries (name: string): Promise<Record<string, number>> {
    const text = await this.cli(['metrics'])
    const out: Record<string, number> = {}
    for (const line of text.split('\n')) {
      if (line.startsWith(name + '{') || line.startsWith(name + ' ')) {
        out[line.slice(name.length, line.lastIndexOf(' '))] = Number(line.slice(line.lastIndexOf(' ') + 1))
      }
    }
    return out
  }
}

function join_ (...p: string[]): string {
  return join(...p)
}

/** Status of every running host, in parallel. */
export async function statuses (hosts: EngramHost[]): Promise<NodeStatusJson[]> {
  return await Promise.all(hosts.map(async h => await h.status()))
}

export async function sameRoot (hosts: EngramHost[]): Promise<boolean> {
  const s = await statuses(hosts)
  return new Set(s.map(x => x.root)).size === 1
}

/**
 * (Re)starts every given host with one gossip interval: running ones are stopped cleanly
 * (SIGTERM) and started again on their data dir, from their remembered peers; a host that
 * never ran joins through the first one up.
 */
export async function startAll (hosts: EngramHost[], intervalS: number): Promise<void> {
  await Promise.all(hosts.map(async h => { await h.kill('SIGTERM') }))
  const up: EngramHost[] = []
  for (const h of hosts) {
    await h.start(await h.hasData() ? undefined : up[0], [], { intervalS })
    up.push(h)
  }
}

/** Waits until every host sees every other running host as a gossip peer. */
export async function waitForMesh (hosts: EngramHost[], timeoutMs = 90_000): Promise<number> {
  return await until('every host to gossip with every other', async () => {
    const s = await statuses(hosts)
    return s.every(x => hosts.every(h => h.peerId === x.peerId || x.gossipPeers.includes(h.peerId)))
  }, timeoutMs, 1000)
}
