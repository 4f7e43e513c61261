/**
 * A child process that hosts some of a benchmark cluster's Engram nodes (bench/lib/nodes.ts:
 * EngramNode.create on 127.0.0.1, temp data dirs) and obeys the parent over IPC
 * (bench/lib/real-cluster.ts). Several shards spread a 100-node cluster over the cores.
 * It reports every pattern a node merged (key, node, time) and every gossip round it ran.
 * Times are epoch ms with sub-ms precision (performance.timeOrigin + now), comparable across
 * processes on one machine.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { multiaddr } from '@multiformats/multiaddr'
import { startBenchNode, type BenchNode } from './nodes.js'
import type { Fanout } from '../../src/gossip/push.js'
// dials, hang-ups and connection events are the network's own: internals on purpose
import { internalsOf } from '../../src/node/internals.js'

export type ShardCommand =
  | { id: number, cmd: 'start', indices: number[], total: number, spreadMs: number, intervalMs: number, fanout: Fanout }
  | { id: number, cmd: 'dial', pairs: Array<[number, string]>, concurrency: number, onlyMissing: boolean }
  | { id: number, cmd: 'peers' }
  | { id: number, cmd: 'drop-non-gossip' }
  | { id: number, cmd: 'graph' }
  | { id: number, cmd: 'write', index: number, key: string }
  | { id: number, cmd: 'load-start' }
  | { id: number, cmd: 'load' }
  | { id: number, cmd: 'stop' }

export interface ShardLoad {
  /** CPU time of this process since load-start, ms */
  cpuMs: number
  wallMs: number
  /** event-loop delay since load-start, ms */
  eldP50: number
  eldP99: number
  eldMax: number
  rssMiB: number
  /** connection:close events on this shard's nodes (each connection counts on both ends), and those aborted */
  connectionsClosed: number
  connectionsAborted: number
}

/** [node index, startedAt epoch ms, outcome, duration ms, role] */
export type RoundTuple = [number, number, string, number, string]
/** key, node index, epoch ms, how it came ('push' | 'session') */
export type GotTuple = [string, number, number, string]

export type ShardEvent =
  | { ev: 'reply', id: number, ok: true, value: unknown }
  | { ev: 'reply', id: number, ok: false, error: string }
  | { ev: 'got', items: GotTuple[] }
  | { ev: 'rounds', items: RoundTuple[] }

const now = (): number => performance.timeOrigin + performance.now()
const FLUSH_MS = 100
const MAX_DIAL_ATTEMPTS = 4

const nodes = new Map<number, BenchNode>()
let got: GotTuple[] = []
let rounds: RoundTuple[] = []
let loadT0 = 0
/** connections that closed (any reason) and were aborted, since load-start */
let closed = 0
let aborted = 0
let cpu0 = process.cpuUsage()
const eld = monitorEventLoopDelay({ resolution: 5 })

function send (m: ShardEvent): void {
  process.send?.(m)
}

const flusher = setInterval(() => {
  if (got.length > 0) { send({ ev: 'got', items: got }); got = [] }
  if (rounds.length > 0) { send({ ev: 'rounds', items: rounds }); rounds = [] }
}, FLUSH_MS)

/**
 * Starts the nodes, node i at (i / total) * spreadMs after the first: co-hosted nodes started
 * together would fire their periodic work (libp2p's connection-monitor pings every 10 s to
 * every connection) in the same tick, a burst no real cluster sees.
 */
async function start (
  indices: number[], total: number, spreadMs: number, intervalMs: number, fanout: Fanout
): Promise<Array<{ index: number, peerId: string, addr: string }>> {
  const out: Array<{ index: number, peerId: string, addr: string }> = []
  const t0 = now()
  for (const index of indices) {
    const wait = t0 + (index / total) * spreadMs - now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    // discovery stays on (the product's wiring) but slow: the benchmark dials the mesh itself
    const n = await startBenchNode({
      intervalMs,
      fanout,
      discovery: { interval: 3_600_000, provideInterval: 3_600_000, lookupTimeout: 5000, dialTimeout: 10_000, dialDiscovered: false }
    })
    nodes.set(index, n)
    internalsOf(n.node).libp2p.addEventListener('connection:close', ev => {
      closed++
      if (ev.detail.status === 'aborted') aborted++
    })
    n.node.addEventListener('merged', ev => {
      const t = now()
      for (const p of ev.detail.patterns) got.push([p.key, index, t, ev.detail.via])
    })
    n.node.addEventListener('round', ev => {
      const r = ev.detail
      rounds.push([index, r.startedAt, r.outcome, r.ms, r.role])
    })
    out.push({ index, peerId: n.node.peerId.toString(), addr: `/ip4/127.0.0.1/tcp/${n.port}/p2p/${n.node.peerId.toString()}` })
  }
  return out
}

async function dial (
  all: Array<[number, string]>, concurrency: number, onlyMissing: boolean
): Promise<{ ok: number, failed: number, errors: Record<string, number> }> {
  const pairs = onlyMissing
    ? all.filter(([from, to]) => {
      const id = to.split('/p2p/')[1]
      const n = nodes.get(from)
      return !(n !== undefined && internalsOf(n.node).libp2p.getConnections().some(c => c.remotePeer.toString() === id))
    })
    : all
  let next = 0
  let ok = 0
  let failed = 0
  const errors: Record<string, number> = {}
  const t0 = now()
  const progress = process.env.BENCH_VERBOSE !== undefined
    ? setInterval(() => {
      process.stderr.write(`  [shard ${process.pid}] dialled ${ok}/${pairs.length}, ${failed} failed, ${((now() - t0) / 1000).toFixed(0)} s\n`)
    }, 10_000)
    : undefined
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < pairs.length) {
      const [from, to] = pairs[next++] as [number, string]
      const n = nodes.get(from)
      if (n === undefined) throw new Error(`no node ${from} here`)
      for (let attempt = 1; attempt <= MAX_DIAL_ATTEMPTS; attempt++) {
        try {
          await internalsOf(n.node).libp2p.dial(multiaddr(to), { signal: AbortSignal.timeout(20_000) })
          ok++
          break
        } catch (err: any) {
          const name = String(err?.name ?? 'Error')
          errors[name] = (errors[name] ?? 0) + 1
          if (attempt === MAX_DIAL_ATTEMPTS) failed++
          else await new Promise(resolve => setTimeout(resolve, 200 * attempt))
        }
      }
    }
  })).finally(() => clearInterval(progress))
  return { ok, failed, errors }
}

/** hangs up connected peers that never became gossip peers (identify failed), so the next dial pass makes a fresh connection */
async function dropNonGossip (): Promise<number> {
  let dropped = 0
  for (const n of nodes.values()) {
    const gossip = new Set((await n.node.status()).gossipPeers)
    const { libp2p } = internalsOf(n.node)
    const connected = new Map(libp2p.getConnections().map(c => [c.remotePeer.toString(), c.remotePeer]))
    for (const [id, peer] of connected) {
      if (gossip.has(id)) continue
      dropped++
      await libp2p.hangUp(peer).catch(() => {})
    }
  }
  return dropped
}

async function peers (): Promise<Array<{ index: number, gossipPeers: number, connected: number, root: string, patterns: number }>> {
  return await Promise.all([...nodes].map(async ([index, n]) => {
    const s = await n.node.status()
    return { index, gossipPeers: s.gossipPeers.length, connected: s.connectedPeers.length, root: s.root, patterns: s.patterns }
  }))
}

async function write (index: number, key: string): Promise<{ t0: number, t1: number }> {
  const n = nodes.get(index)
  if (n === undefined) throw new Error(`no node ${index} here`)
  const t0 = now()
  await n.node.put(key, { addEpisodes: ['episode-1', 'episode-2'], confidence: 0.8, summary: `benchmark write ${key}` })
  return { t0, t1: now() }
}

function load (): ShardLoad {
  const c = process.cpuUsage(cpu0)
  return {
    cpuMs: (c.user + c.system) / 1000,
    wallMs: now() - loadT0,
    eldP50: eld.percentile(50) / 1e6,
    eldP99: eld.percentile(99) / 1e6,
    eldMax: eld.max / 1e6,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    connectionsClosed: closed,
    connectionsAborted: aborted
  }
}

async function stop (): Promise<void> {
  clearInterval(flusher)
  eld.disable()
  await Promise.allSettled([...nodes.values()].map(async n => { await n.stop() }))
  nodes.clear()
}

async function handle (m: ShardCommand): Promise<unknown> {
  switch (m.cmd) {
    case 'start': return await start(m.indices, m.total, m.spreadMs, m.intervalMs, m.fanout)
    case 'dial': return await dial(m.pairs, m.concurrency, m.onlyMissing)
    case 'peers': return await peers()
    case 'drop-non-gossip': return await dropNonGossip()
    case 'graph': return await Promise.all([...nodes].map(async ([index, n]) => [index, (await n.node.status()).gossipPeers]))
    case 'write': return await write(m.index, m.key)
    case 'load-start':
      loadT0 = now()
      cpu0 = process.cpuUsage()
      eld.reset()
      eld.enable()
      closed = 0
      aborted = 0
      return null
    case 'load': return load()
    case 'stop': await stop(); return null
  }
}

process.on('message', (m: ShardCommand) => {
  handle(m).then(
    value => { send({ ev: 'reply', id: m.id, ok: true, value }) },
    (err: any) => { send({ ev: 'reply', id: m.id, ok: false, error: String(err?.stack ?? err) }) }
  ).finally(() => {
    if (m.cmd === 'stop') {
      // let the reply leave before the channel closes
      setTimeout(() => { process.disconnect?.() }, 50)
    }
  })
})
// the parent died or closed the channel: stop the nodes and leave
process.on('disconnect', () => { void stop().finally(() => process.exit(0)) })
