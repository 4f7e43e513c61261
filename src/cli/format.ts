/** Human output of the operator commands (their --json prints the API's JSON instead). */
import type { PatternRecord, RoundReport } from '../node/types.js'

export function bytes (n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}

/** PeerIds are long; a short form is enough to tell peers apart in lists. */
export function shortId (id: string): string {
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
}

export function yesNo (v: boolean | null | undefined): string {
  return v === true ? 'yes' : v === false ? 'no' : '-'
}

/** Aligned "label: value" lines; an empty label continues the row above. */
export function fields (rows: Array<[string, string]>): string {
  const w = Math.max(...rows.map(([k]) => k.length)) + 1
  return rows.map(([k, v]) => `${(k === '' ? '' : k + ':').padEnd(w)} ${v}`).join('\n') + '\n'
}

export function patternDetails (p: PatternRecord): string {
  const clock = Object.entries(p.clock).map(([id, c]) => `${id}=${c}`)
  return fields([
    ['key', p.key],
    ['deleted', p.deleted ? 'yes (tombstone)' : 'no'],
    ['confidence', `${p.confidence}${p.versions > 1 ? ` (mean of ${p.versions} concurrent versions)` : ''}`],
    ['summary', p.summary ?? '-'],
    ['episodes', (p.episodes.length === 0 ? '-' : `${p.episodes.length}: ${p.episodes.join(', ')}`) +
      ((p.versionsWithoutContent ?? 0) > 0 ? ` (+ those of ${p.versionsWithoutContent} concurrent version(s) kept without content: size limit)` : '')],
    ['clock', clock.length === 0 ? '-' : clock.join(', ')],
    ['digest', p.digest]
  ])
}

export function patternLine (p: PatternRecord): string {
  const episodes = `${p.episodes.length} episode${p.episodes.length === 1 ? '' : 's'}`
  return `${p.key}\tconfidence ${p.confidence}\t${episodes}${p.deleted ? '\t(deleted)' : ''}`
}

/** One round as a line: who, how it ended, what moved. */
export function roundLine (r: RoundReport): string {
  const outcome = r.outcome === 'in-sync' ? 'already in sync' : r.outcome
  const skipped = r.patternsSkipped > 0 ? `, ${r.patternsSkipped} not merged (see the node's log)` : ''
  const moved = `${r.patternsIn} patterns in (${r.patternsChanged} changed${skipped}), ${r.patternsOut} out`
  const traffic = `${bytes(r.bytesIn)} in, ${bytes(r.bytesOut)} out`
  const error = r.error !== undefined ? ` - ${r.error}` : ''
  return `${r.role} ${shortId(r.peer)} ${outcome}: ${moved}, ${traffic}, ${r.roundTrips} round trip${r.roundTrips === 1 ? '' : 's'}, ${r.ms} ms${error}`
}

/** The live line of a running sync (rewritten in place with \r). */
export function progressLine (r: RoundReport): string {
  return `syncing with ${shortId(r.peer)}: ${r.patternsIn} in, ${r.patternsOut} out, ${bytes(r.bytesIn + r.bytesOut)}, ${(r.ms / 1000).toFixed(1)} s`
}
