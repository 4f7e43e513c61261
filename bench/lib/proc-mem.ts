/** Memory of another process, from /proc (Linux): what an operator's tools would show. */
import { readFile } from 'node:fs/promises'
import { sleep } from './main.js'

export interface Mem {
  rssMB: number
  hwmMB: number
  /** RSS split: anonymous memory (heap, buffers, malloc) and file pages mapped in (LevelDB maps its table files) */
  anonMB: number
  fileMB: number
}

export async function memOf (pid: number): Promise<Mem> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024, anonMB: kb('RssAnon') / 1024, fileMB: kb('RssFile') / 1024 }
}

/** Samples the memory of some processes every `everyMs` until stopped; the sample of each with the highest RSS. */
export function sampleRss (pids: number[], everyMs = 200): { stop: () => Promise<Mem[]> } {
  const peaks: Mem[] = pids.map(() => ({ rssMB: 0, hwmMB: 0, anonMB: 0, fileMB: 0 }))
  const state = { running: true }
  const loop = (async () => {
    while (state.running) {
      for (const [i, pid] of pids.entries()) {
        const m = await memOf(pid).catch(() => undefined)
        if (m !== undefined && m.rssMB > (peaks[i] as Mem).rssMB) peaks[i] = m
      }
      await sleep(everyMs)
    }
  })()
  return { stop: async () => { state.running = false; await loop; return peaks } }
}
