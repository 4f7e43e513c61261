/**
 * CPU profiles through the inspector (the same sampler as `node --cpu-prof`), started and
 * stopped around just the part being measured, and summarised by self time: top functions
 * and a split by where the code lives (our src/ modules, libp2p, LevelDB, node internals, GC).
 */
import { Session } from 'node:inspector/promises'
import { writeFile } from 'node:fs/promises'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  hitCount?: number
  children?: number[]
}

export interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export interface ProfileSummary {
  totalMs: number
  /** self time per function, highest first */
  top: Array<{ fn: string, where: string, ms: number, pct: number }>
  /** self time per area, highest first */
  areas: Array<{ area: string, ms: number, pct: number }>
}

export async function profile<T> (fn: () => Promise<T>, opts: { saveTo?: string, intervalUs?: number } = {}): Promise<{ result: T, profile: CpuProfile }> {
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: opts.intervalUs ?? 500 })
    await session.post('Profiler.start')
    let outcome: { ok: true, value: T } | { ok: false, error: unknown }
    try {
      outcome = { ok: true, value: await fn() }
    } catch (error) {
      outcome = { ok: false, error }
    }
    const { profile } = await session.post('Profiler.stop') as unknown as { profile: CpuProfile }
    if (!outcome.ok) throw outcome.error
    if (opts.saveTo !== undefined) await writeFile(opts.saveTo, JSON.stringify(profile))
    return { result: outcome.value, profile }
  } finally {
    session.disconnect()
  }
}

/** Which part of the system a frame belongs to. */
export function areaOf (url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC'
  if (fn === '(idle)' || fn === '(program)') return fn
  const src = /\/src\/((?:[^/]+\/)*[^/]+)\.ts/.exec(url)
  if (src !== null) return `src/${src[1]}`
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (mod !== null) return mod[1] as string
  if (url.startsWith('node:') || url === '') return `node internals${fn !== '' ? '' : ''}`
  return url.replace(/^.*\/(bench\/.*)$/, '$1')
}

export function summarize (p: CpuProfile, topN = 15): ProfileSummary {
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  // the profiler's own start/stop calls (inspector post) are not the code under test
  const own = new Set<number>()
  const mark = (id: number): void => { own.add(id); for (const c of byId.get(id)?.children ?? []) mark(c) }
  for (const n of p.nodes) if (n.callFrame.functionName === 'post' && n.callFrame.url === 'node:inspector') mark(n.id)
  const self = new Map<number, number>()
  const samples = p.samples ?? []
  const deltas = p.timeDeltas ?? []
  let totalMs = 0
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number
    if (own.has(id)) continue
    const ms = (deltas[i] ?? 0) / 1000
    totalMs += ms
    self.set(id, (self.get(id) ?? 0) + ms)
  }
  const fns = new Map<string, { fn: string, where: string, ms: number }>()
  const areas = new Map<string, number>()
  for (const [id, ms] of self) {
    const n = byId.get(id)
    if (n === undefined) continue
    const { functionName, url, lineNumber } = n.callFrame
    const fn = functionName === '' ? '(anonymous)' : functionName
    const where = `${areaOf(url, functionName)}${url !== '' ? `:${lineNumber + 1}` : ''}`
    const key = `${fn} ${where}`
    const e = fns.get(key) ?? { fn, where, ms: 0 }
    e.ms += ms
    fns.set(key, e)
    const area = areaOf(url, functionName)
    areas.set(area, (areas.get(area) ?? 0) + ms)
  }
  const pct = (ms: number): number => Math.round(1000 * ms / Math.max(totalMs, 1e-9)) / 10
  return {
    totalMs,
    top: [...fns.values()].sort((a, b) => b.ms - a.ms).slice(0, topN).map(e => ({ ...e, ms: Math.round(e.ms), pct: pct(e.ms) })),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, ms]) => ({ area, ms: Math.round(ms), pct: pct(ms) }))
  }
}

export function formatSummary (s: ProfileSummary, areasN = 10, topN = 10): string[] {
  return [
    `by area (self time of ${Math.round(s.totalMs)} ms): ` + s.areas.slice(0, areasN).map(a => `${a.area} ${a.pct}%`).join(', '),
    'top functions: ' + s.top.slice(0, topN).map(t => `${t.fn} (${t.where}) ${t.pct}%`).join('; ')
  ]
}

/**
 * Share of the sampled time spent inside each named function (anywhere on the stack, its
 * callees included), in the order given; a sample counts for the first name that matches
 * walking up from the leaf, so the shares do not overlap. '(garbage collector)' works too.
 */
export function stackShares (p: CpuProfile, names: string[]): Array<{ fn: string, ms: number, pct: number }> {
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const wanted = new Set(names)
  const ms = new Map<string, number>(names.map(n => [n, 0]))
  let total = 0
  const samples = p.samples ?? []
  const deltas = p.timeDeltas ?? []
  for (let i = 0; i < samples.length; i++) {
    const d = (deltas[i] ?? 0) / 1000
    let id: number | undefined = samples[i]
    let hit: string | undefined
    for (let depth = 0; id !== undefined && depth < 500; depth++) {
      const n = byId.get(id)
      if (n === undefined) break
      if (n.callFrame.functionName === 'post' && n.callFrame.url === 'node:inspector') { hit = ''; break }
      if (hit === undefined && wanted.has(n.callFrame.functionName)) hit = n.callFrame.functionName
      id = parent.get(id)
    }
    if (hit === '') continue
    total += d
    if (hit !== undefined) ms.set(hit, (ms.get(hit) ?? 0) + d)
  }
  return names.map(fn => ({ fn, ms: Math.round(ms.get(fn) ?? 0), pct: Math.round(1000 * (ms.get(fn) ?? 0) / Math.max(total, 1e-9)) / 10 }))
}
