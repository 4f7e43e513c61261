/**
 * Asks a victim's local API for its status every PROBE_EVERY_MS, in a process of its own, so
 * that the time an answer takes is the victim's and not the test process's (which runs the
 * attacker and the honest peer). Started by under-attack.ts with the API's URL and token; on
 * { stop } over IPC it sends { probes, slowestMs, failures } and exits.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { call } from '../api.js'

export interface ProbeResult {
  probes: number
  slowestMs: number
  failures: string[]
}

/** An answer slower than this is a failure: the node must keep answering its operator. */
export const API_BOUND_MS = 1000
const PROBE_EVERY_MS = 100

async function probe (api: string, token: string, stopped: () => boolean): Promise<ProbeResult> {
  const r: ProbeResult = { probes: 0, slowestMs: 0, failures: [] }
  while (!stopped()) {
    const t0 = performance.now()
    try {
      const res = await call(api, 'GET', '/v1/status', { token, timeout: 5 * API_BOUND_MS })
      if (res.status !== 200) r.failures.push(`status ${res.status}`)
    } catch (err: any) {
      r.failures.push(String(err.message))
    }
    const ms = performance.now() - t0
    r.probes++
    r.slowestMs = Math.max(r.slowestMs, ms)
    if (ms > API_BOUND_MS) r.failures.push(`answered in ${ms.toFixed(0)} ms`)
    await sleep(PROBE_EVERY_MS)
  }
  return r
}

// run as a child process (the module is also imported for its types and bound)
if (process.send !== undefined && process.argv[2] !== undefined) {
  const [api, token] = [process.argv[2], process.argv[3] ?? '']
  let stop = false
  process.on('message', () => { stop = true })
  process.on('disconnect', () => { process.exit(1) })
  const result = await probe(api, token, () => stop)
  process.send(result, () => { process.exit(0) })
}
