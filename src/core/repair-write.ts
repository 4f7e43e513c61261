/**
 * A write over a join that other nodes would not keep or take. Writers that lie can make two
 * states, each proven alone, whose join is not a state to keep: claims that contradict each
 * other (a:1 with deps {b:2} on one side, b:1 with deps {a:2} on the other: each side overwrites
 * the other, no version stands, and no head is proven), or writes signed twice under one dot and
 * deps that leave out what their writer saw (the join keeps heads no kept version saw, which other
 * nodes refuse). Left alone, the two sides would stay apart until someone wrote the key again.
 *
 * A node that holds both sides writes over their join, as an operator's write there would: its
 * deps are the joined clock, so its one version proves every overwrite, and the state it makes
 * is newer than both sides, which take it as they take any newer state. Its content is what the
 * sides' live versions show together, as concurrent versions do (episodes united, confidence
 * their mean, the summary of the most confident); if that is over a write's limits, the content of
 * the most confident version alone. Nothing else changes what a node believes: the join's heads
 * are the sides' own, each signed by its writer and proven on its side.
 */
import { LimitExceededError } from './errors.js'
import { dotKey } from './merge.js'
import {
  applyDelete, applyWrite, type Author, compareDots, confidenceOf, episodesOf, isDeleted, type PatternState, summaryOf, type Version, type WriteOp
} from './pattern.js'

/**
 * The state after this node's write over `join` (the join of `sides`, as event `counter` of
 * `author`). Throws what the write would throw (this node ranks after a full clock's writers,
 * or no content fits).
 */
export function repairWrite (join: PatternState, sides: readonly PatternState[], author: Author, counter: number): PatternState {
  const all = withVersionsOf(join, [join, ...sides])
  if (isDeleted(all)) return applyDelete(join, author, counter)
  try {
    return applyWrite(join, join.key, { confidence: confidenceOf(all), summary: summaryOf(all), addEpisodes: episodesOf(all) }, author, counter)
  } catch (err) {
    if (!(err instanceof LimitExceededError)) throw err
    return applyWrite(join, join.key, mostConfident(join, all), author, counter)
  }
}

/** `join` holding every version of `states`, once per dot (the first met), in dot order: for its view only. */
function withVersionsOf (join: PatternState, states: readonly PatternState[]): PatternState {
  const byDot = new Map<string, Version>()
  for (const s of states) {
    for (const v of s.versions) if (!byDot.has(dotKey(v.dot))) byDot.set(dotKey(v.dot), v)
  }
  return { ...join, versions: [...byDot.values()].sort((x, y) => compareDots(x.dot, y.dot)), heads: [] }
}

/** The content of the live version whose summary the view shows (the most confident), and no episode of the join's besides. */
function mostConfident (join: PatternState, all: PatternState): WriteOp {
  let best: Version | undefined
  for (const v of all.versions) if (!v.deleted && v.stripped === undefined && (best === undefined || v.confidence > best.confidence)) best = v
  const episodes = best?.episodes ?? []
  const keep = new Set(episodes)
  return {
    confidence: best?.confidence ?? confidenceOf(all),
    summary: best?.summary ?? null,
    addEpisodes: episodes,
    removeEpisodes: episodesOf(join).filter(e => !keep.has(e))
  }
}
