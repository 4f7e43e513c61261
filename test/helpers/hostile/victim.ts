/** The parent's side of victim-process.ts: start it, ask it for its CPU and heap, stop it. */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { VictimInit, VictimMessage, VictimRequest } from './victim-process.js'

const SCRIPT = fileURLToPath(new URL('./victim-process.ts', import.meta.url))
const START_TIMEOUT_MS = 30_000
const ANSWER_TIMEOUT_MS = 10_000

export interface VictimSample {
  /** V8 heap used after full GCs */
  heapUsed: number
  /** the process's user + system CPU since it started */
  cpuUs: number
  /** the longest event-loop delay since the last sample */
  maxDelayMs: number
}

export interface Victim {
  addr: string
  /** the local API's base URL, and its token */
  api: string
  token: string
  peerId: string
  measure(): Promise<VictimSample>
  stop(): Promise<void>
}

async function answer (child: ChildProcess, timeoutMs: number): Promise<VictimMessage> {
  const ac = new AbortController()
  const timer = setTimeout(() => { ac.abort(new Error(`the victim did not answer in ${timeoutMs} ms`)) }, timeoutMs)
  try {
    const [m] = await once(child, 'message', { signal: ac.signal }) as [VictimMessage]
    return m
  } finally {
    clearTimeout(timer)
  }
}

export async function startVictim (init: VictimInit = {}): Promise<Victim> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, JSON.stringify(init)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  let stderr = ''
  child.stderr!.on('data', d => { stderr += String(d) })
  const exited = once(child, 'exit')
  const ready = await Promise.race([
    answer(child, START_TIMEOUT_MS),
    exited.then(([code]) => { throw new Error(`the victim exited with ${String(code)} before it was ready: ${stderr}`) })
  ]).catch(err => { child.kill('SIGKILL'); throw err })
  if (ready.type !== 'ready') throw new Error(`unexpected first message ${ready.type}`)
  const ask = (m: VictimRequest): void => { child.send(m) }
  return {
    addr: ready.addr,
    api: ready.api,
    token: ready.token,
    peerId: ready.peerId,
    async measure () {
      ask({ type: 'measure' })
      const m = await answer(child, ANSWER_TIMEOUT_MS)
      if (m.type !== 'measured') throw new Error(`unexpected answer ${m.type}`)
      return { heapUsed: m.heapUsed, cpuUs: m.cpuUs, maxDelayMs: m.maxDelayMs }
    },
    async stop () {
      if (child.exitCode !== null) return
      ask({ type: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), ANSWER_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    }
  }
}
