/** Small helpers the convergence benchmarks share: a seeded RNG and summary statistics. */

export interface Rng {
  /** uniform in [0, 1) */
  (): number
}

/** mulberry32: a tiny, fast, seedable 32-bit generator (good enough for simulation). */
export function seededRng (seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** uniform integer in [0, n) */
export function randInt (rng: Rng, n: number): number {
  return Math.floor(rng() * n)
}

/** uniform integer in [0, n) other than `not` */
export function randOther (rng: Rng, n: number, not: number): number {
  const j = randInt(rng, n - 1)
  return j >= not ? j + 1 : j
}

/** Fisher-Yates in place */
export function shuffleInPlace<T> (rng: Rng, a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randInt(rng, i + 1)
    const t = a[i] as T
    a[i] = a[j] as T
    a[j] = t
  }
  return a
}

export function mean (xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length
}

/** nearest-rank percentile (p in 0..100); with fewer than 100 samples p99 is the maximum */
export function percentile (xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN
  const sorted = [...xs].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(rank, sorted.length) - 1] as number
}

export function stddev (xs: readonly number[]): number {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1))
}

export function round (x: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** "4.32" / "∞" style formatting for tables */
export function fmt (x: number, digits = 2): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-'
  return x.toFixed(digits)
}

/** Mean over trials of per-round curves of different lengths; a finished trial stays at its last value. */
export function meanCurve (curves: readonly number[][]): number[] {
  const len = Math.max(0, ...curves.map(c => c.length))
  const out: number[] = []
  for (let r = 0; r < len; r++) {
    out.push(mean(curves.map(c => c[Math.min(r, c.length - 1)] as number)))
  }
  return out
}
