/** The benchmark sections, in the order `npm run bench` runs them. */
import type { BenchFn } from './types.js'

export const SECTIONS: Array<[string, () => Promise<{ run: BenchFn }>]> = [
  ['convergence-real', async () => await import('../convergence-real.js')],
  ['convergence-sim', async () => await import('../convergence-sim.js')],
  ['idle-round', async () => await import('../idle-round.js')],
  ['diff-cost', async () => await import('../diff-cost.js')],
  ['bulk-sync', async () => await import('../bulk-sync.js')],
  ['footprint', async () => await import('../footprint.js')],
  ['local-writes', async () => await import('../local-writes.js')],
  ['change-feed', async () => await import('../change-feed.js')],
  ['scale', async () => await import('../scale.js')],
  ['core', async () => await import('../core.bench.js')]
]
