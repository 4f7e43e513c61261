/** Small helpers shared by the benchmark sections: running one alone, formatting figures. */
import { cpus } from 'node:os'
import type { BenchFn, BenchSection } from './types.js'

/** True when the module at `url` is the script node was started with. */
export function isMain (url: string): boolean {
  return url === `file://${process.argv[1] ?? ''}`
}

export function printSection (s: BenchSection): void {
  const out: string[] = [`## ${s.title} (${s.id})`, '']
  const w = [6, 4, 6, 6].map((m, i) => Math.max(m, ...s.rows.map(r => [r.metric, r.ours, r.design, r.target][i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(w[i]!)).join(' | ')
  out.push(line(['metric', 'ours', 'design', 'target']) + ' | met')
  for (const r of s.rows) out.push(line([r.metric, r.ours, r.design, r.target]) + ` | ${r.met === undefined ? '-' : r.met ? 'yes' : 'NO'}`)
  out.push('')
  for (const n of s.notes) out.push(`- ${n}`)
  process.stdout.write(out.join('\n') + '\n')
}

/** `node --import tsx bench/<file>.ts [--quick] [--json]`: runs one section and prints it. */
export async function runAlone (run: BenchFn): Promise<void> {
  const quick = process.argv.includes('--quick')
  const t = performance.now()
  const s = await run({ quick })
  printSection(s)
  const machine = `node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`
  process.stdout.write(`\n(${quick ? 'quick' : 'full'} run, ${((performance.now() - t) / 1000).toFixed(1)} s, ${machine})\n`)
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(s) + '\n')
}

export function kb (bytes: number): string {
  return bytes < 10_000 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`
}

export function int (n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

export function median (xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
