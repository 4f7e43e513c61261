/**
 * Scale: one node holding 100k and 1M patterns (`--quick`: 100k; `npm run bench:10m`: 10M alone),
 * all through the real CLI in processes of their own. Per size: `engram pattern import` of an NDJSON
 * file into a fresh node, its RSS, a restart (start to API answering, then idle RSS), PUT/s and GET/s
 * with 16 clients, a fresh node joining it and pulling everything (time, both peers' peak RSS), and
 * one change after convergence (the pulling node's sync round: round trips and bytes).
 */
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import type { BenchFn, BenchRow } from './lib/types.js'
import { int, isMain, median, runAlone, sleep } from './lib/main.js'
import { cli, ensureBuilt, startCli, stopNode, type CliNode } from './lib/cli-node.js'
import { type Api, apiOf, call, callBody, type CpuCost, cpuText, load, pct, withCpu } from './lib/api-load.js'
import { type Mem, memOf, sampleRss } from './lib/proc-mem.js'
import { cpuSecondsOf, exitedChildrenCpuSeconds } from './lib/proc-cpu.js'
import { type SignatureCost, signatureCost } from './lib/signature-cost.js'
import { scaleChart } from './lib/scale-chart.js'
import { type IndexAtScale, indexAtScale } from './lib/index-at-scale.js'

const TARGETS = { importPerS: 50_000, idleMB: 300, openS: 2, putPerS: 5000, pullS: 20, servingMB: 400 }
const LOAD_CALLS = 10_000

/** n NDJSON lines like an operator's export: a key, three episodes, a confidence, a short summary. */
async function writeInput (file: string, n: number): Promise<void> {
  const out = createWriteStream(file)
  for (let i = 0; i < n; i++) {
    const line = JSON.stringify({
      key: `scale/${i.toString(36).padStart(7, '0')}`,
      episodes: [`ep-${i}-a`, `ep-${i}-b`, `ep-${i}-c`],
      confidence: ((i % 97) + 1) / 100,
      summary: `pattern ${i}: a recurring situation, consolidated`
    }) + '\n'
    if (!out.write(line)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'close')
}

async function status (api: Api): Promise<{ patterns: number, peerId: string }> {
  return JSON.parse((await callBody(api, 'GET', '/v1/status')).body) as { patterns: number, peerId: string }
}

/**
 * Samples before an idle reading counts: V8 keeps the heap a restart grew (the index check reads
 * every key-hash record) until its memory reducer runs once the node has been idle a while, and
 * until then RSS can sit flat on a plateau that is not the idle node.
 */
const IDLE_MIN_S = 30

/** RSS once it stops falling, no earlier than IDLE_MIN_S (bounded wait). */
async function idleRss (pid: number, maxS: number): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < maxS; i++) {
    await sleep(1000)
    samples.push((await memOf(pid)).rssMB)
    const last = samples.slice(-6)
    if (samples.length >= IDLE_MIN_S && Math.max(...last) - Math.min(...last) <= 1) break
  }
  return median(samples.slice(-6))
}

export interface ScaleRun {
  n: number
  importS: number
  rssAfterImportMB: number
  stopS: number
  openS: number
  idleMB: number
  /** the idle node's anonymous memory and LevelDB's table files mapped in, read once it settled */
  idleSplit: Mem
  put: { perS: number, p50: number, p99: number }
  /** what the PUTs cost per PUT (api-load.ts withCpu) */
  putCpu: CpuCost
  get: { perS: number, p50: number, p99: number }
  pullS: number
  /** RSS at the serving / pulling peer's highest sample, and its anonymous and file-mapped parts then */
  serving: Mem
  puller: Mem
  oneChange: { roundTrips: number, bytes: number, patternsIn: number }
  bigOpenS: number
  /** CPU seconds (all threads): the importing node and the import client; the pulling and the serving node during the pull */
  cpu: { importNode: number, importClient: number, pulling: number, serving: number }
  /** one Ed25519 signature and one check alone, measured in this process (µs) */
  signature: SignatureCost
  /** the machine's cores (what the floors below divide by) */
  cores: number
}

export async function scaleRun (n: number, log: (s: string) => void = () => {}): Promise<ScaleRun> {
  const dir = await mkdtemp(join(tmpdir(), 'engram-scale-'))
  const dataA = join(dir, 'a')
  const dataB = join(dir, 'b')
  const nodes: CliNode[] = []
  const start = async (data: string, key: string, extra: string[], reuseKey = false): Promise<CliNode> => {
    const node = await startCli(data, key, extra, { reuseKey, readyS: 600 })
    nodes.push(node)
    return node
  }
  try {
    // timed first, while no node runs
    const signature = signatureCost()
    const file = join(dir, 'patterns.ndjson')
    await writeInput(file, n)
    // eager push off on A: the one change later must travel by a sync round, the path measured
    const aArgs = ['--fanout', '0']
    let a = await start(dataA, join(dir, 'a.key'), aArgs)
    const [nodeCpu0, clientCpu0] = [await cpuSecondsOf(a.child.pid as number), await exitedChildrenCpuSeconds()]
    let t = performance.now()
    await cli(['pattern', 'import', '--data', dataA, '--chunk', '1000', file], 3_600_000)
    const importS = (performance.now() - t) / 1000
    const importNodeCpu = await cpuSecondsOf(a.child.pid as number) - nodeCpu0
    const importClientCpu = await exitedChildrenCpuSeconds() - clientCpu0
    log(`imported ${n} in ${importS.toFixed(1)} s`)
    const rssAfterImportMB = (await memOf(a.child.pid as number)).rssMB
    t = performance.now()
    await stopNode(a.child)
    const stopS = (performance.now() - t) / 1000
    t = performance.now()
    a = await start(dataA, join(dir, 'a.key'), aArgs, true)
    const api = await apiOf(dataA)
    const statusA = await status(api)
    const openS = (performance.now() - t) / 1000
    if (statusA.patterns !== n) throw new Error(`A holds ${statusA.patterns} patterns after the import, not ${n}`)
    const idleMB = await idleRss(a.child.pid as number, 90)
    const idleSplit = await memOf(a.child.pid as number)
    log(`open ${openS.toFixed(2)} s, idle ${idleMB.toFixed(0)} MB`)

    const key = (i: number): string => `load/${i.toString(36)}`
    await load(500, async i => await call(api, 'PUT', `/v1/patterns/warm-${i}`, { confidence: 0.5, episodes: [`e${i}`] }))
    const putRun = await withCpu(a.child.pid as number, LOAD_CALLS, async () => await load(LOAD_CALLS, async i =>
      await call(api, 'PUT', `/v1/patterns/${encodeURIComponent(key(i))}`, { confidence: 0.5, episodes: [`e${i}`] })))
    const put = putRun.result
    const get = await load(LOAD_CALLS, async i => await call(api, 'GET', `/v1/patterns/${encodeURIComponent(key((i * 7919) % LOAD_CALLS))}`))
    const total = (await status(api)).patterns
    log(`put ${put.perS.toFixed(0)}/s get ${get.perS.toFixed(0)}/s`)

    // a fresh node joins A with the join line A printed (its address and cluster secret) and pulls everything
    const hint = /to join this node.*\n(.*)\n/.exec(a.output())?.[1] ?? ''
    const joinArgs = ['--join', '--swarm-key'].flatMap(flag => {
      const v = new RegExp(`${flag} (\\S+)`).exec(hint)?.[1]
      return v === undefined ? [] : [flag, v]
    })
    if (!joinArgs.includes('--join')) throw new Error(`no join line in A's output: ${a.output()}`)
    const servingCpu0 = await cpuSecondsOf(a.child.pid as number)
    t = performance.now()
    const b = await start(dataB, join(dir, 'b.key'), [...aArgs, ...joinArgs])
    const rss = sampleRss([a.child.pid as number, b.child.pid as number])
    let apiB = await apiOf(dataB)
    let pulled = 0
    for (let i = 0; i < 36_000 && pulled < total; i++) {
      await sleep(100)
      pulled = (await status(apiB)).patterns
    }
    const pullS = (performance.now() - t) / 1000
    const [pullingCpu, servingCpu] = [await cpuSecondsOf(b.child.pid as number), await cpuSecondsOf(a.child.pid as number) - servingCpu0]
    const [serving, puller] = await rss.stop() as [Mem, Mem]
    if (pulled < total) throw new Error(`B pulled ${pulled} of ${total} patterns in an hour`)
    log(`pull ${pullS.toFixed(1)} s, peaks A ${JSON.stringify(serving)}, B ${JSON.stringify(puller)}`)

    // one change on A after convergence (no eager push): B's next round carries it
    await call(api, 'PUT', '/v1/patterns/scale%2Fone-change', { confidence: 0.7, episodes: ['e-one'] })
    const round = JSON.parse((await callBody(apiB, 'POST', '/v1/sync', { peer: statusA.peerId }, 90_000)).body) as
      { roundTrips: number, bytesIn: number, bytesOut: number, patternsIn: number, outcome: string }
    if (round.outcome !== 'synced' || round.patternsIn !== 1) throw new Error(`one-change round: ${JSON.stringify(round)}`)

    // and a restart of the node that pulled: its first open saves nothing yet, its second loads saved pages
    await stopNode(b.child)
    t = performance.now()
    const b2 = await start(dataB, join(dir, 'b.key'), aArgs, true)
    await status(apiB = await apiOf(dataB))
    const bigOpenS = (performance.now() - t) / 1000
    void b2
    api.agent.destroy()
    apiB.agent.destroy()
    return {
      n,
      importS,
      rssAfterImportMB,
      stopS,
      openS,
      idleMB,
      idleSplit,
      put: { perS: put.perS, p50: pct(put.ms, 0.5), p99: pct(put.ms, 0.99) },
      putCpu: { cpuUs: putRun.cpuUs, boundPerS: putRun.boundPerS },
      get: { perS: get.perS, p50: pct(get.ms, 0.5), p99: pct(get.ms, 0.99) },
      pullS,
      serving,
      puller,
      oneChange: { roundTrips: round.roundTrips, bytes: round.bytesIn + round.bytesOut, patternsIn: round.patternsIn },
      bigOpenS,
      cpu: { importNode: importNodeCpu, importClient: importClientCpu, pulling: pullingCpu, serving: servingCpu },
      signature,
      cores: availableParallelism()
    }
  } finally {
    for (const node of nodes) await stopNode(node.child)
    await rm(dir, { recursive: true, force: true })
  }
}

function label (n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`
}

const split = (m: Mem): string => `${m.rssMB.toFixed(0)} MB (${m.anonMB.toFixed(0)} + ${m.fileMB.toFixed(0)})`

function rowsOf (r: ScaleRun): BenchRow[] {
  const l = label(r.n)
  // the targets are set at 1M: other sizes show them for the trend, unjudged
  const big = r.n === 1_000_000
  /** a row; its target is judged at 1M (and shown for the trend below it) */
  const row = (metric: string, ours: string, target = '-', ok?: boolean): BenchRow => ({
    metric: `${l}: ${metric}`,
    ours,
    design: '-',
    target: target === '-' || big ? target : `${target} (at 1M)`,
    ...(ok !== undefined && big ? { met: ok } : {})
  })
  const importPerS = r.n / r.importS
  return [
    row('engram pattern import', `${int(importPerS)} patterns/s (${r.importS.toFixed(1)} s)`,
      `>= ${int(TARGETS.importPerS)}/s`, importPerS >= TARGETS.importPerS),
    row('RSS after the import / idle after a restart (its anonymous part + mapped table files)',
      `${r.rssAfterImportMB.toFixed(0)} MB / ${r.idleMB.toFixed(0)} MB (${r.idleSplit.anonMB.toFixed(0)} + ${r.idleSplit.fileMB.toFixed(0)})`,
      `idle <= ${TARGETS.idleMB} MB`, r.idleMB <= TARGETS.idleMB),
    row('restart, start to API answering (the stop before it)', `${r.openS.toFixed(2)} s (${r.stopS.toFixed(2)} s)`,
      `<= ${TARGETS.openS} s`, r.openS <= TARGETS.openS),
    row('PUT through the API, 16 clients, on disk', `${int(r.put.perS)} PUT/s (p50 ${r.put.p50.toFixed(1)} ms)`,
      `>= ${int(TARGETS.putPerS)} PUT/s`, r.put.perS >= TARGETS.putPerS),
    row(`PUT, CPU per PUT: the node's main thread + its other threads / the clients; the bound each gives (event loop / ${r.cores} cores)`,
      cpuText(r.putCpu, 'PUT/s')),
    row('GET through the API, 16 clients', `${int(r.get.perS)} GET/s (p50 ${r.get.p50.toFixed(1)} ms)`),
    row('a fresh node pulls all of it (start to full count)', `${r.pullS.toFixed(1)} s`, `<= ${TARGETS.pullS} s`, r.pullS <= TARGETS.pullS),
    row('peak RSS during the pull, serving / pulling peer (its anonymous part + LevelDB\'s mapped table files)',
      `${split(r.serving)} / ${split(r.puller)}`, `serving <= ${TARGETS.servingMB} MB anonymous`, r.serving.anonMB <= TARGETS.servingMB),
    row('one change after convergence, sync round', `${r.oneChange.roundTrips} RTT, ${int(r.oneChange.bytes)} B`),
    row('restart of the pulling peer (index saved at its stop)', `${r.bigOpenS.toFixed(2)} s`),
    ...cpuRows(r, row)
  ]
}

/**
 * Where the import's and the pull's time goes: CPU per pattern (all threads of each process) and,
 * divided by the cores, the fastest this machine could go with every core busy on that work alone.
 * Each imported pattern is signed once and each pulled one checked once: those costs alone are shown.
 */
function cpuRows (r: ScaleRun, row: (metric: string, ours: string) => BenchRow): BenchRow[] {
  const us = (s: number): number => s * 1e6 / r.n
  const importUs = us(r.cpu.importNode + r.cpu.importClient)
  const pullUs = us(r.cpu.pulling + r.cpu.serving)
  return [
    row(`import, CPU per pattern: node + import client (an Ed25519 signature alone: ${r.signature.signUs.toFixed(0)} µs); at most, on ${r.cores} cores`,
      `${us(r.cpu.importNode).toFixed(0)} + ${us(r.cpu.importClient).toFixed(0)} µs; ${int(r.cores * 1e6 / importUs)} patterns/s`),
    row(`pull, CPU per pattern: pulling + serving node (an Ed25519 check alone: ${r.signature.checkUs.toFixed(0)} µs); at least, on ${r.cores} cores`,
      `${us(r.cpu.pulling).toFixed(0)} + ${us(r.cpu.serving).toFixed(0)} µs; ${(pullUs * r.n / 1e6 / r.cores).toFixed(1)} s`)
  ]
}

/** `--sizes=a,b` overrides the sizes (the 10M run is `--sizes=10000000`). */
function sizesFromArgs (quick: boolean): number[] {
  const arg = process.argv.find(a => a.startsWith('--sizes='))
  if (arg !== undefined) return arg.slice('--sizes='.length).split(',').map(Number)
  return quick ? [100_000] : [100_000, 1_000_000]
}

function indexRows (x: IndexAtScale): BenchRow[] {
  const l = `${label(x.n)} (the index alone, random entries)`
  return [
    {
      metric: `${l}: memory, per pattern`,
      ours: `${x.indexMB.toFixed(0)} MiB, ${x.bytesPerPattern.toFixed(1)} B`,
      design: '-',
      target: '<= 1 GiB',
      met: x.indexMB <= 1024
    },
    { metric: `${l}: built in 50k batches / root`, ours: `${x.buildS.toFixed(1)} s / ${x.rootS.toFixed(2)} s`, design: '-', target: '-' },
    {
      metric: `${l}: pages saved at a clean stop / loaded at the next open`,
      ours: `${x.saveS.toFixed(1)} s / ${x.loadS.toFixed(1)} s`,
      design: '-',
      target: '-'
    }
  ]
}

export const run: BenchFn = async ({ quick }) => {
  const build = await ensureBuilt()
  const runs: ScaleRun[] = []
  for (const n of sizesFromArgs(quick)) runs.push(await scaleRun(n, s => process.stderr.write(`scale ${label(n)}: ${s}\n`)))
  // the index at 10M costs a minute; a whole node at 10M is the opt-in `npm run bench:10m`
  const big = quick || process.argv.some(a => a.startsWith('--sizes=')) ? undefined : await indexAtScale(10_000_000)
  // a chart needs two sizes (the 10M run alone is recorded in bench/results-10m.md)
  if (runs.length > 1) {
    const chart = scaleChart(runs.map(r => ({ n: r.n, idleMB: r.idleMB, openS: r.openS, servingPeakMB: r.serving.anonMB })))
    await writeFile(new URL('./scale.svg', import.meta.url), chart)
  }
  return {
    id: 'scale',
    title: 'Scale: one node with many patterns, through the CLI',
    rows: [...runs.flatMap(rowsOf), ...(big === undefined ? [] : indexRows(big))],
    notes: [
      `${build}; every node is \`bin/engram start\` in a process of its own on 127.0.0.1, RSS read from /proc. Input: NDJSON lines of a key, ` +
        'three episodes, a confidence and a one-line summary, imported with `engram pattern import --chunk 1000`. The restart is timed from ' +
        'spawn to the first answered GET /v1/status; idle RSS is the median of 6 flat one-second samples after it, ' +
        `no earlier than ${IDLE_MIN_S} s in (V8 shrinks the heap a restart grew only once the node has been idle a while). PUTs write ` +
        `${int(LOAD_CALLS)} new keys, GETs read them back. The pulling node starts with the join line the first printed (a Kad-DHT join, sync on ` +
        'connect) and is timed until its status counts every pattern; RSS of both sampled every 200 ms, with its split at the highest sample: ' +
        'anonymous memory (heap, buffers, malloc) and file pages mapped in (LevelDB reads its table files through mmap, so a peer that reads ' +
        'its whole store shows the store\'s file pages in its RSS: page cache the kernel takes back under pressure). The target is on the ' +
        'anonymous part. One change: a PUT on the first ' +
        'node (eager push off) and POST /v1/sync on the second. Chart: bench/scale.svg.',
      'Targets hold for 1M; at other sizes the same rows are shown for the trend, unjudged.',
      'CPU rows: user + system time of each process from /proc (all its threads: LevelDB\'s, the signature workers\'), per pattern, during the ' +
        'import and the pull. Divided by the cores it gives the fastest this machine could do that work with every core busy on it and nothing ' +
        'else: an upper bound on the import rate and a lower bound on the pull time. The signature and check costs are libsodium\'s, timed alone here. ' +
        'The PUTs\' CPU row splits the node\'s share into its main thread (its one event loop, which bounds PUTs on its own) and its other threads.',
      ...(big === undefined
        ? []
        : ['10M: the store\'s index alone (bench/lib/index-at-scale.ts), in this process: memory is heap and external bytes after forced GCs; ' +
            'its pages saved into and loaded from a LevelDB in a temp dir as a clean stop and the next open do. A whole node at 10M: `npm run bench:10m`.'])
    ],
    data: { runs, index10m: big }
  }
}

if (isMain(import.meta.url)) await runAlone(run)
