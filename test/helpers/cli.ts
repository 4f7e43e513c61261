/** Runs the real `bin/engram` as a child process (it needs `npm run build`, which `npm test` does first). */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'

export const ENGRAM = fileURLToPath(new URL('../../bin/engram', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export async function runCli (args: string[], opts: { cwd?: string, timeout?: number, env?: Record<string, string>, stdin?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [ENGRAM, ...args], {
    cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']
  })
  // the child may stop reading early (a bad line): a broken pipe is its answer, not ours
  child.stdin?.on('error', () => {})
  child.stdin?.end(opts.stdin)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', d => { stdout += String(d) })
  child.stderr?.on('data', d => { stderr += String(d) })
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 30_000)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr }
}

export interface RunningCli {
  child: ChildProcess
  output: () => string
  stderr: () => string
  /** resolves with the exit code after SIGTERM (or SIGKILL after the timeout) */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

/** Starts a long-running command and waits (bounded) until its stdout matches `ready`. */
export async function startCli (
  args: string[],
  opts: { cwd?: string, ready?: RegExp, timeout?: number, env?: Record<string, string> } = {}
): Promise<RunningCli> {
  const child = spawn(process.execPath, [ENGRAM, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', d => { stdout += String(d) })
  child.stderr!.on('data', d => { stderr += String(d) })
  const ready = opts.ready ?? /engram node started[\s\S]*to join this node/
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`not ready in time; stdout: ${stdout} stderr: ${stderr}`))
    }, opts.timeout ?? 30_000)
    const check = (): void => {
      if (ready.test(stdout)) { clearTimeout(timer); resolve() }
    }
    child.stdout!.on('data', check)
    void exited.then(code => { clearTimeout(timer); reject(new Error(`exited with ${code} before ready; stdout: ${stdout} stderr: ${stderr}`)) })
  })
  return {
    child,
    output: () => stdout,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return child.exitCode
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a node that must come back on the same one). */
export async function freePort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise(resolve => srv.close(resolve))
  return port
}
