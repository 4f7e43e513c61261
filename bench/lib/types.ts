/** What every benchmark section returns; bench/run.ts turns these into results.md and results.json. */

export interface BenchRow {
  /** what is measured, with its unit, e.g. "rounds to full convergence, mean (N=100)" */
  metric: string
  /** our figure, formatted for the table */
  ours: string
  /** the design's figure for the same thing, or '-' */
  design: string
  /** our target, or '-' */
  target: string
  /** whether the target is met; undefined where there is no target */
  met?: boolean
}

export interface BenchSection {
  id: string
  title: string
  rows: BenchRow[]
  /** how it was measured, what remains and why */
  notes: string[]
  /** raw figures for results.json (and charts) */
  data?: unknown
}

export interface BenchOptions {
  /** smaller sizes and fewer trials: the whole suite in <= 3 minutes */
  quick: boolean
}

export type BenchFn = (opts: BenchOptions) => Promise<BenchSection>
