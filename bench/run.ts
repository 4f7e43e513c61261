/**
 * `npm run bench [-- --quick] [-- --only id,id]`: every benchmark section, one after the
 * other, each in its own process, then bench/results.md, bench/results.json and the convergence chart(s) in bench/.
 * Figures only: nothing here asserts timings. Full suite <= 20 minutes on 2 cores; --quick <= 3.
 */
import { writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { fork } from 'node:child_process'
import type { BenchSection } from './lib/types.js'
import { SECTIONS } from './lib/sections.js'
import { lineChart, type Series } from './lib/svg.js'

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url))

function markdown (sections: BenchSection[], machine: string, quick: boolean, when: string): string {
  const out: string[] = ['# Benchmark results', '', `${when}, ${machine}${quick ? ', **quick mode**' : ''}. Produced by \`npm run bench\`.`, '']
  for (const s of sections) {
    out.push(`## ${s.title}`, '', '| metric | ours | design | target | met |', '| --- | --- | --- | --- | --- |')
    for (const r of s.rows) out.push(`| ${r.metric} | ${r.ours} | ${r.design} | ${r.target} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`)
    out.push('')
    for (const n of s.notes) out.push(`- ${n}`)
    out.push('')
  }
  return out.join('\n')
}

/** Charts from sections that give `data.curves`: { title, series: Series[] }. */
async function charts (sections: BenchSection[]): Promise<string[]> {
  const written: string[] = []
  for (const s of sections) {
    const curves = (s.data as { curves?: { title: string, series: Series[] } } | undefined)?.curves
    if (curves === undefined || curves.series.length === 0) continue
    const file = `${s.id}.svg`
    await writeFile(here(file), lineChart(curves.title, 'rounds', 'nodes that have the pattern', curves.series))
    written.push(file)
  }
  return written
}

/** One section in its own process (bench/lib/section-child.ts): sections do not share a heap or an event loop. */
async function runInChild (id: string, quick: boolean): Promise<BenchSection> {
  const child = fork(here('lib/section-child.ts'), [id, ...(quick ? ['--quick'] : [])],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return await new Promise<BenchSection>((resolve, reject) => {
    let result: BenchSection | undefined
    child.on('message', m => { result = m as BenchSection })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (result !== undefined) resolve(result)
      else reject(new Error(`section ${id} exited with ${signal ?? code} before sending a result`))
    })
  })
}

async function main (): Promise<void> {
  const quick = process.argv.includes('--quick')
  const onlyArg = process.argv.find(a => a.startsWith('--only='))?.slice('--only='.length)
  const only = onlyArg?.split(',')
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`
  const sections: BenchSection[] = []
  const t0 = Date.now()
  for (const [id] of SECTIONS) {
    if (only !== undefined && !only.includes(id)) continue
    const t = Date.now()
    process.stdout.write(`\n== ${id}${quick ? ' (quick)' : ''}\n`)
    try {
      const section = await runInChild(id, quick)
      sections.push(section)
      for (const r of section.rows) {
        const met = r.met === undefined ? '' : r.met ? ', met' : ', NOT met'
        process.stdout.write(`${r.metric}: ${r.ours}  (design ${r.design}, target ${r.target}${met})\n`)
      }
    } catch (err: any) {
      process.stdout.write(`section ${id} failed: ${String(err?.stack ?? err)}\n`)
      sections.push({ id, title: `${id} (failed)`, rows: [], notes: [`failed: ${String(err?.message ?? err)}`] })
    }
    process.stdout.write(`(${((Date.now() - t) / 1000).toFixed(1)} s)\n`)
  }
  const when = new Date().toISOString().slice(0, 10)
  const svgs = await charts(sections)
  const md = markdown(sections, machine, quick, when) + (svgs.length > 0 ? '\n' + svgs.map(f => `![${f}](${f})`).join('\n') + '\n' : '')
  if (only === undefined) {
    await writeFile(here('results.md'), md)
    await writeFile(here('results.json'), JSON.stringify({ date: when, machine, quick, sections }, null, 2) + '\n')
    const files = `bench/results.md, bench/results.json${svgs.map(f => ', bench/' + f).join('')}`
    process.stdout.write(`\nwrote ${files} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`)
  } else {
    process.stdout.write(`\n(--only: results files not rewritten) ${((Date.now() - t0) / 1000).toFixed(0)} s\n`)
  }
}

await main()
