/** Running system commands for the network harness: bounded in time, failures explained. */
import { execFile, spawn, type ChildProcess } from 'node:child_process'

export interface ShResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command; rejects with its stderr unless `allowFail`. Every call has a timeout. */
export async function sh (cmd: string, args: string[], opts: { allowFail?: boolean, timeoutMs?: number, env?: NodeJS.ProcessEnv } = {}): Promise<ShResult> {
  return await new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as any).code === 'number' ? (err as any).code : 1
      if (code !== 0 && opts.allowFail !== true) {
        // killed by our timeout (or a signal): say so, not just "failed (1)"
        const e = err as any
        const why = e?.killed === true
          ? `killed after its ${opts.timeoutMs ?? 30_000} ms timeout`
          : e?.signal != null ? `killed by ${String(e.signal)}` : String(code)
        reject(new Error(`${cmd} ${args.join(' ')} failed (${why}): ${stderr.trim() || stdout.trim() || String(err?.message)}`))
        return
      }
      resolve({ code, stdout, stderr })
    })
  })
}

/** `ip netns exec <ns> <cmd...>` */
export async function nsExec (ns: string, args: string[], opts: { allowFail?: boolean, timeoutMs?: number } = {}): Promise<ShResult> {
  return await sh('ip', ['netns', 'exec', ns, ...args], opts)
}

export function spawnInNs (ns: string, args: string[], logFile: number): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', logFile, logFile], detached: false })
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Polls until `cond` is true; throws after `timeoutMs` (and after a bounded number of polls). */
export async function until (what: string, cond: () => Promise<boolean>, timeoutMs: number, intervalMs = 500): Promise<number> {
  const start = Date.now()
  const maxPolls = Math.ceil(timeoutMs / intervalMs) + 1
  let last: unknown
  for (let i = 0; i < maxPolls && Date.now() - start <= timeoutMs; i++) {
    try {
      if (await cond()) return Date.now() - start
      last = undefined
    } catch (err) {
      last = err
    }
    await sleep(intervalMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last !== undefined ? `; last error: ${(last as Error).message}` : ''}`)
}
