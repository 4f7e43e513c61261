/**
 * The real CLI for benchmarks: `npm run build` when dist/ is older than src/, `bin/engram`
 * commands, and a node started with `bin/engram start` on 127.0.0.1 in its own process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sleep } from './main.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const ENGRAM = join(ROOT, 'bin', 'engram')

/** newest mtime under dir (bounded walk) */
async function newest (dir: string, depth = 6): Promise<number> {
  let t = 0
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory() && depth > 0) t = Math.max(t, await newest(p, depth - 1))
    else if (e.isFile()) t = Math.max(t, (await stat(p)).mtimeMs)
  }
  return t
}

/** `npm run build` unless dist/ is newer than every file in src/. */
export async function ensureBuilt (): Promise<string> {
  const built = await stat(join(ROOT, 'dist', 'cli', 'main.js')).then(s => s.mtimeMs, () => 0)
  if (built > await newest(join(ROOT, 'src'))) return 'dist/ up to date'
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 })
  if (r.status !== 0) throw new Error(`npm run build failed: ${r.stderr}${r.stdout}`)
  return 'ran npm run build'
}

export async function cli (args: string[], timeoutMs = 120_000): Promise<string> {
  const child = spawn(process.execPath, [ENGRAM, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', d => { out += String(d) })
  child.stderr.on('data', d => { err += String(d) })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  if (code !== 0) throw new Error(`engram ${args.join(' ')} exited ${code}: ${err}${out}`)
  return out
}

/** A node started by `engram start`: its process and everything it printed so far. */
export interface CliNode {
  child: ChildProcess
  output: () => string
}

/**
 * `engram start` in `data` on 127.0.0.1 (random ports), once it says it started; with a new key in
 * `key` unless `reuseKey`. With ENGRAM_BENCH_CPU_PROF=<dir> set, the node writes a V8 CPU profile
 * there when it stops.
 */
export async function startCli (data: string, key: string, extra: string[] = [], opts: { reuseKey?: boolean, readyS?: number } = {}): Promise<CliNode> {
  if (opts.reuseKey !== true) await cli(['key', 'generate', key])
  const profDir = process.env.ENGRAM_BENCH_CPU_PROF
  const prof = profDir === undefined || profDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]
  const node = spawn(process.execPath, [...prof, ENGRAM, 'start', '--data', data, '--key', key, '--listen', '/ip4/127.0.0.1/tcp/0',
    '--api', '127.0.0.1:0', '--log-level', 'error', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  node.stdout?.on('data', d => { out += String(d) })
  node.stderr?.on('data', d => { out += String(d) })
  const readyS = opts.readyS ?? 30
  for (let i = 0; i < readyS * 50 && !/engram node started/.test(out); i++) {
    if (node.exitCode !== null) throw new Error(`engram start exited ${node.exitCode}: ${out}`)
    await sleep(20)
  }
  if (!/engram node started/.test(out)) {
    node.kill('SIGKILL')
    throw new Error(`engram start not ready in ${readyS} s: ${out}`)
  }
  return { child: node, output: () => out }
}

/** `engram start` with a new key in `data`, on 127.0.0.1 (random ports), once it says it started. */
export async function startCliNode (data: string, key: string, extra: string[] = []): Promise<ChildProcess> {
  return (await startCli(data, key, extra)).child
}

export async function stopNode (child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const [code] = await exited as [number | null]
  clearTimeout(timer)
  return code
}
