/**
 * What a structure holds in memory, measured in the bench process: JS heap plus external (array
 * buffer) bytes while it is alive minus the same once it is dropped, both read after forced GCs
 * with pauses between them. V8 frees array buffers on a background thread after a GC returns, so a
 * reading taken right after gc() still counts some freed ones; a baseline taken before building
 * counts garbage that goes later. Either skews a figure by several bytes per entry.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { setTimeout as sleep } from 'node:timers/promises'

const SETTLE_ROUNDS = 4
const SETTLE_PAUSE_MS = 50

/** Heap and external bytes once garbage is collected and freed. */
export async function settledBytes (): Promise<number> {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  for (let i = 0; i < SETTLE_ROUNDS; i++) {
    gc()
    await sleep(SETTLE_PAUSE_MS)
  }
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}
