/** Synthetic patterns for the benchmarks: deterministic keys, ~300 B canonical encoding. */
import type { WriteOp } from '../../src/core/pattern.js'

export interface Item {
  key: string
  op: WriteOp
}

/** summary filler; with a 52-char PeerId as node id a pattern encodes to ~300 B */
const FILLER = 'consolidated memory of a recurring situation, kept as a pattern across episodes; '

export function patternKey (i: number, prefix = 'bench'): string {
  return `${prefix}/${i.toString(36).padStart(6, '0')}`
}

export function writeOp (i: number, variant = '', summaryBytes = 160): WriteOp {
  const summary = `#${i}${variant} ${FILLER.repeat(Math.ceil(summaryBytes / FILLER.length))}`.slice(0, summaryBytes)
  return {
    addEpisodes: [`ep-${i}-a${variant}`, `ep-${i}-b`, `ep-${i}-c`],
    confidence: ((i % 97) + 1) / 100,
    summary
  }
}

/** n items with keys patternKey(start..start+n-1). */
export function items (n: number, opts: { start?: number, prefix?: string, variant?: string, summaryBytes?: number } = {}): Item[] {
  const start = opts.start ?? 0
  const out: Item[] = []
  for (let i = start; i < start + n; i++) out.push({ key: patternKey(i, opts.prefix), op: writeOp(i, opts.variant, opts.summaryBytes) })
  return out
}

/** Calls fn on consecutive slices of at most `size` items (bulk writes in bounded batches). */
export async function inBatches<T> (all: readonly T[], size: number, fn: (batch: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < all.length; i += size) await fn(all.slice(i, i + size))
}
