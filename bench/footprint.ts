/**
 * Footprint: resident memory of an idle node holding 10,000 patterns. The node is the real
 * CLI (`bin/engram start`, built by `npm run build`) in its own process on 127.0.0.1; the
 * patterns go in through `bin/engram pattern import <ndjson>` (the local API); RSS is read
 * from /proc/<pid>/status once the node has settled.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { CompactMerkleIndex } from '../src/core/compact-index.js'
import type { BenchFn, BenchRow } from './lib/types.js'
import { items } from './lib/patterns.js'
import { int, isMain, median, runAlone, sleep } from './lib/main.js'
import { cli, ensureBuilt, startCliNode, stopNode } from './lib/cli-node.js'
import { memOf } from './lib/proc-mem.js'
import { settledBytes } from './lib/held-memory.js'

const TARGET_MB = 120

/** Heap and array-buffer bytes the store's index (a CompactMerkleIndex) of n random keys holds (held-memory.ts). */
async function indexBytes (n: number): Promise<number> {
  let index: CompactMerkleIndex | undefined = new CompactMerkleIndex()
  index.setMany(Array.from({ length: n }, () => ({ kh: randomBytes(32), digest: randomBytes(32) })))
  index.root()
  const withIndex = await settledBytes()
  if (index.size !== n) throw new Error(`the index holds ${index.size} entries, not ${n}`)
  index = undefined
  return withIndex - await settledBytes()
}

interface Settled {
  rssMB: number
  /** highest sample (the plateau before V8's memory reducer shrinks the heap) */
  peakMB: number
  /** seconds until the last 8 samples stayed within 1 MB after the drop (or the limit) */
  seconds: number
  reduced: boolean
  samples: number[]
}

/**
 * Samples VmRSS every second. An idle node keeps the heap the import grew until V8's memory
 * reducer runs (tens of seconds later), so it waits (bounded by maxS) for RSS to fall below
 * 90 % of its peak and stay flat for 8 s; without a drop it ends at maxS.
 */
async function settle (pid: number, maxS: number): Promise<Settled> {
  const samples: number[] = []
  for (let i = 0; i < maxS; i++) {
    await sleep(1000)
    samples.push(Math.round((await memOf(pid)).rssMB * 10) / 10)
    const last = samples.slice(-8)
    const peak = Math.max(...samples)
    const flat = last.length === 8 && Math.max(...last) - Math.min(...last) <= 1
    if (flat && (samples.at(-1) as number) < 0.9 * peak) return { rssMB: median(last), peakMB: peak, seconds: i + 1, reduced: true, samples }
  }
  return { rssMB: median(samples.slice(-8)), peakMB: Math.max(...samples), seconds: maxS, reduced: false, samples }
}

export const run: BenchFn = async ({ quick }) => {
  const n = 10_000
  const maxSettleS = quick ? 90 : 180
  const build = await ensureBuilt()
  const dir = await mkdtemp(join(tmpdir(), 'engram-footprint-'))
  const data = join(dir, 'data')
  const key = join(dir, 'node.key')
  let node: ChildProcess | undefined
  try {
    node = await startCliNode(data, key)
    const pid = node.pid as number
    await sleep(5000)
    const empty = await memOf(pid)

    const file = join(dir, 'patterns.ndjson')
    const lines = items(n).map(({ key, op }) => JSON.stringify({ key, episodes: op.addEpisodes, confidence: op.confidence, summary: op.summary }))
    await writeFile(file, lines.join('\n') + '\n')
    const t = performance.now()
    await cli(['pattern', 'import', file, '--data', data, '--chunk', '1000'])
    const importS = (performance.now() - t) / 1000
    const status = JSON.parse(await cli(['status', '--data', data, '--json'])) as { patterns: number }
    if (status.patterns !== n) throw new Error(`node holds ${status.patterns} patterns, expected ${n}`)
    const full = await settle(pid, maxSettleS)
    const { hwmMB } = await memOf(pid)

    const rows: BenchRow[] = [
      {
        metric: `footprint: RSS of an idle node holding ${int(n)} patterns (real CLI process, settled)`,
        ours: `${full.rssMB.toFixed(1)} MB`,
        design: '-',
        target: `<= ${TARGET_MB} MB`,
        met: full.rssMB <= TARGET_MB
      },
      {
        metric: 'footprint: RSS right after the import, until V8\'s memory reducer ran',
        ours: `${full.peakMB.toFixed(1)} MB (${full.reduced ? `for ~${full.seconds - 8} s` : `no reduction within ${full.seconds} s`})`,
        design: '-',
        target: '-'
      },
      { metric: 'footprint: RSS of the same node empty, 5 s after start', ours: `${empty.rssMB.toFixed(1)} MB`, design: '-', target: '-' },
      { metric: 'footprint: peak RSS (VmHWM)', ours: `${hwmMB.toFixed(1)} MB`, design: '-', target: '-' },
      { metric: `footprint: engram pattern import of ${int(n)} patterns (chunks of 1,000)`, ours: `${importS.toFixed(1)} s`, design: '-', target: '-' }
    ]
    const notes = [
      `${build}; \`bin/engram start --listen /ip4/127.0.0.1/tcp/0 --api 127.0.0.1:0\` in a fresh data dir (no peers, timer rounds on, ` +
        `default settings otherwise), ${int(n)} patterns (~300 B encoded each) written with \`bin/engram pattern import\`, checked with ` +
        '`engram status`. VmRSS from /proc/<pid>/status sampled every second after the import; the figure is the median of the last 8 ' +
        'samples once RSS fell below 90 % of its peak and stayed flat (V8 keeps the heap the import grew until its memory reducer ' +
        `runs, ~30 s into idleness), or at ${maxSettleS} s. MB = 2^20 bytes.`,
      `RSS samples after the import (1 s apart): ${full.samples.join(', ')} MB.`
    ]
    const merkle = await indexBytes(n)
    notes.push(`Where it goes: the store's Merkle index of ${int(n)} random entries, built in this process, ` +
      `holds ${(merkle / 2 ** 20).toFixed(1)} MB (JS heap and array buffers; ${Math.round(merkle / n)} B per pattern: ` +
      'a 62-byte entry each, and at this size mostly the fixed arrays of its 65,536 leaves, their counts and cached hashes); ' +
      `the empty node is ${empty.rssMB.toFixed(0)} MB ` +
      '(the Node runtime with libp2p, the DHT and LevelDB loaded), the rest is LevelDB\'s caches and V8 heap headroom.')
    if (full.rssMB > TARGET_MB) {
      notes.push(`Target missed: settled RSS ${full.rssMB.toFixed(1)} MB.`)
    } else if (full.peakMB > TARGET_MB) {
      const how = full.reduced ? `for ~${full.seconds - 8} s` : `(no reduction within ${full.seconds} s)`
      notes.push(`Right after the import RSS was ${full.peakMB.toFixed(0)} MB ${how}: V8 keeps the heap the import grew ` +
        '(young generation, parsed request bodies) until its memory reducer runs once the node is idle; the settled figure is the idle node.')
    }
    return {
      id: 'footprint',
      title: 'Footprint (idle node with 10,000 patterns)',
      rows,
      notes,
      data: {
        patterns: n,
        rssMB: full.rssMB,
        peakMB: full.peakMB,
        settleS: full.seconds,
        reduced: full.reduced,
        emptyRssMB: empty.rssMB,
        hwmMB,
        importS,
        samples: full.samples
      }
    }
  } finally {
    if (node !== undefined) await stopNode(node)
    await rm(dir, { recursive: true, force: true })
  }
}

if (isMain(import.meta.url)) await runAlone(run)
