/**
 * The change feed's cost and speed: a bulk pull of signed patterns with the feed and without it
 * (the same real pull as the bulk-sync section, alternating), local writes with and without it
 * (16 writers at once on a Replica, each write acknowledged on disk), and how long a change takes
 * from its commit on a node to its line on a live feed read over HTTP (EngramClient.watch).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { startApiServer } from '../src/api/server.js'
import { authorOf } from '../src/auth/author.js'
import { EngramClient } from '../src/client/index.js'
import { internalsOf } from '../src/node/internals.js'
import { Replica } from '../src/store/replica.js'
import { DeadlineError, withDeadline } from '../src/utils/deadline.js'
import { pull } from './bulk-sync.js'
import { int, isMain, runAlone, sleep } from './lib/main.js'
import { connect, startBenchNode, type BenchNode } from './lib/nodes.js'
import { patternKey, writeOp } from './lib/patterns.js'
import { spawnPeer, type Peer } from './lib/peer-process.js'
import type { BenchFn, BenchRow } from './lib/types.js'

/** the bound on what the feed may cost a bulk pull */
const MAX_OVERHEAD = 0.10
const WRITERS = 16

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)] as number
}

function pct (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number
}

/**
 * Pulls alternate feed on / off (off, on, on, off, ...), so drift of the machine hits both alike,
 * after one pull not counted (the first pull of a process warms its code and the peer's caches).
 */
async function pulls (peer: Peer, runs: number): Promise<{ on: number[], off: number[] }> {
  const out = { on: [] as number[], off: [] as number[] }
  for (let i = -1; i < 2 * runs; i++) {
    const feed = i >= 0 && (i % 4 === 1 || i % 4 === 2)
    const p = await pull(peer, feed ? {} : { changeFeed: false })
    try {
      const r = await p.run()
      if (i >= 0) (feed ? out.on : out.off).push(r.seconds)
    } finally {
      await p.node.stop()
    }
  }
  return out
}

/** Writes per second of WRITERS concurrent local writers (group commit, fsync per batch). */
async function localWrites (n: number, changeFeed: boolean): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'engram-bench-feed-'))
  const key = await generateKeyPair('Ed25519')
  const replica = await Replica.open({ dir, author: authorOf(peerIdFromPrivateKey(key), key), changeFeed })
  try {
    let next = 0
    const t = performance.now()
    await Promise.all(Array.from({ length: WRITERS }, async () => {
      for (let i = next++; i < n; i = next++) await replica.write(patternKey(i, 'local'), writeOp(i))
    }))
    return n / ((performance.now() - t) / 1000)
  } finally {
    await replica.close()
    await rm(dir, { recursive: true, force: true })
  }
}

interface Latency { commitToLine: number[], putToLine: number[] }

/** A feed line, or an error naming the write whose line never came (a push can be lost: anti-entropy is off here). */
async function within<T> (line: Promise<T>, what: string, ms = 10_000): Promise<T> {
  return await withDeadline(ms, undefined, async () => await line).catch((err: unknown) => {
    throw err instanceof DeadlineError ? new Error(`no feed line for ${what} within ${ms} ms`) : err
  })
}

/** a writes, its eager push reaches b, b's feed is watched over HTTP: one change at a time, no queueing. */
async function latency (count: number): Promise<Latency> {
  const nodes: BenchNode[] = []
  const stop = new AbortController()
  try {
    const a = await startBenchNode({ fanout: 'auto' })
    nodes.push(a)
    const b = await startBenchNode({ fanout: 'auto' })
    nodes.push(b)
    await connect(a, b)
    // a pushes only to peers identify named as gossip peers: wait for that, not for a fixed time
    const listsB = async (): Promise<boolean> => (await a.node.status()).gossipPeers.includes(b.node.peerId.toString())
    for (let i = 0; i < 200 && !await listsB(); i++) await sleep(50)
    if (!await listsB()) throw new Error('a never listed b as a gossip peer')
    const token = 'bench-token'
    const api = await startApiServer({ node: b.node, host: '127.0.0.1', port: 0, token })
    const client = new EngramClient({ url: api.url, token })
    const committed = new Map<string, number>()
    internalsOf(b.node).replica.onChange(ev => { for (const p of ev.patterns) committed.set(p.state.key, performance.now()) })
    const out: Latency = { commitToLine: [], putToLine: [] }
    const lines = client.watch({ since: 'now', signal: stop.signal, prefix: 'lat/' })[Symbol.asyncIterator]()
    // the watch is open once a first change went through it
    const warm = lines.next()
    await a.node.put('lat/warm', { confidence: 0.5 })
    await within(warm, 'the warm-up write')
    for (let i = 0; i < count; i++) {
      const key = `lat/${i}`
      const t0 = performance.now()
      const line = lines.next()
      await a.node.put(key, writeOp(i))
      const got = await within(line, key)
      const t1 = performance.now()
      if (got.done === true || got.value.key !== key) throw new Error(`expected ${key} on the feed, got ${JSON.stringify(got.value?.key)}`)
      out.commitToLine.push(t1 - (committed.get(key) ?? t1))
      out.putToLine.push(t1 - t0)
    }
    stop.abort()
    await lines.return?.(undefined)
    await api.close()
    return out
  } finally {
    stop.abort()
    for (const n of nodes) await n.stop()
  }
}

export const run: BenchFn = async ({ quick }) => {
  const n = quick ? 20_000 : 100_000
  const runs = quick ? 2 : 3
  const writes = quick ? 3_000 : 20_000
  let peer: Peer | undefined
  let pulled: { on: number[], off: number[] }
  try {
    peer = await spawnPeer(n, { writers: 100 })
    pulled = await pulls(peer, runs)
  } finally {
    await peer?.stop()
  }
  const local = { on: [] as number[], off: [] as number[] }
  for (let i = 0; i < 2 * runs; i++) (i % 2 === 0 ? local.on : local.off).push(await localWrites(writes, i % 2 === 0))
  const lat = await latency(quick ? 50 : 300)

  const on = median(pulled.on)
  const off = median(pulled.off)
  const overhead = on / off - 1
  const wOn = median(local.on)
  const wOff = median(local.off)
  const rows: BenchRow[] = [
    {
      metric: `change feed: bulk pull of ${int(n)} signed patterns, with the feed / without (median of ${runs} each)`,
      ours: `${on.toFixed(2)} s / ${off.toFixed(2)} s (${overhead >= 0 ? '+' : ''}${(overhead * 100).toFixed(1)} %)`,
      design: '-',
      target: `<= +${MAX_OVERHEAD * 100} %`,
      met: overhead <= MAX_OVERHEAD
    },
    {
      metric: `change feed: local writes, ${WRITERS} writers at once on the Replica (acknowledged on disk), with / without`,
      ours: `${int(wOn)} / ${int(wOff)} writes/s (${((wOn / wOff - 1) * 100).toFixed(1)} %)`,
      design: '-',
      target: '-'
    },
    {
      metric: 'change feed: a merge (eager push) committed on the node -> its line on a live feed over HTTP (EngramClient.watch), p50 / p99',
      ours: `${pct(lat.commitToLine, 0.5).toFixed(2)} ms / ${pct(lat.commitToLine, 0.99).toFixed(2)} ms`,
      design: '-',
      target: '-'
    },
    {
      metric: 'change feed: a write on a peer -> its line on this node\'s live feed, p50 / p99',
      ours: `${pct(lat.putToLine, 0.5).toFixed(2)} ms / ${pct(lat.putToLine, 0.99).toFixed(2)} ms`,
      design: '-',
      target: '-'
    }
  ]
  return {
    id: 'change-feed',
    title: 'Change feed (what it costs, how fast it tells)',
    rows,
    notes: [
      'Bulk pull: the bulk-sync section\'s pull (a fresh node pulls everything from a peer in its own process, every signature checked), ' +
        'alternating a puller that keeps the feed (one entry record more per pattern, of ~25 bytes, and 9 bytes more in its key record, in ' +
        'the same LevelDB batch) with one ' +
        `created with changeFeed: false. All pulls: with ${pulled.on.map(s => s.toFixed(2)).join(', ')} s; ` +
        `without ${pulled.off.map(s => s.toFixed(2)).join(', ')} s.`,
      `Local writes: ${int(writes)} new patterns by ${WRITERS} concurrent Replica.write calls (group commit: one synced batch per group), ` +
        `alternating with and without the feed: with ${local.on.map(int).join(', ')}; without ${local.off.map(int).join(', ')} writes/s.`,
      'Latency: node A writes one pattern at a time; its eager push reaches node B (TCP, 127.0.0.1); B\'s API serves a live feed ' +
        '(GET /v1/changes?feed=live) read by EngramClient.watch in the same process. "Commit" is B\'s Replica change event, right after ' +
        `the LevelDB batch; the line is the parsed NDJSON line. ${lat.commitToLine.length} changes.`
    ],
    data: { patterns: n, pulled, local, latency: lat }
  }
}

if (isMain(import.meta.url)) await runAlone(run)
