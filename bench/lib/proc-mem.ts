/** Memory of another process, from /proc (Linux): what an operator's tools would show. */
import { readFile } from 'node:fs/promises'
import { sleep } from './main.js'

export interface Mem { rssMB: number, hwmMB: number }

export async function memOf (pid: number): Promise<Mem> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 }
}

/** Samples the RSS of some processes every `everyMs` until stopped; the highest sample of each. */
export function sampleRss (pids: number[], everyMs = 200): { stop: () => Promise<number[]> } {
  const peaks = pids.map(() => 0)
  const state = { running: true }
  const loop = (async () => {
    while (state.running) {
      for (const [i, pid] of pids.entries()) {
        const m = await memOf(pid).catch(() => undefined)
        if (m !== undefined) peaks[i] = Math.max(peaks[i] as number, m.rssMB)
      }
      await sleep(everyMs)
    }
  })()
  return { stop: async () => { state.running = false; await loop; return peaks } }
}
