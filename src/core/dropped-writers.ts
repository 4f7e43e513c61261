/**
 * The table of dropped writers in a pattern's encoding (format 3, see encoding.ts): writers a
 * full clock no longer keeps (writer-rank.ts) that the deps of a kept version still name. Their
 * ids stay because the version's signature covers its deps; nothing else of them is kept.
 */
import { type ByteReader, compareBytes, compareUtf8 } from './bytes.js'
import { InvalidEncodingError } from './errors.js'
import { MAX_CLOCK_ENTRIES, MAX_NODE_ID_BYTES } from './limits.js'
import type { PatternState } from './pattern.js'
import type { NodeId, VectorClock } from './vector-clock.js'
import { lastKeptWriter, writerRank } from './writer-rank.js'

/** Node ids the versions' deps name that the clock does not hold, in canonical order. */
export function droppedWritersNamed (s: PatternState): NodeId[] {
  if (s.clock.size < MAX_CLOCK_ENTRIES) return [] // only a full clock has dropped anyone
  const out = new Set<NodeId>()
  for (const v of s.versions) for (const node of v.deps.keys()) if (!s.clock.has(node)) out.add(node)
  return [...out].sort(compareUtf8)
}

/**
 * Reads the table, refusing ids out of order, ids the clock holds, and ids the clock would still
 * take: only a full clock has dropped writers, and only ones that rank after all it keeps.
 */
export function readDroppedWriters (r: ByteReader, key: string, clock: VectorClock): NodeId[] {
  // each id takes at least its length byte and one byte; a version's deps name at most a clock's worth
  const n = r.count(MAX_CLOCK_ENTRIES * MAX_CLOCK_ENTRIES, 2, 'dropped writers')
  if (n === 0) throw new InvalidEncodingError('pattern: format 3 with no dropped writer')
  const last = lastKeptWriter(key, clock)
  if (last === undefined) throw new InvalidEncodingError('pattern: dropped writers under a clock that is not full')
  const out: NodeId[] = []
  for (let i = 0; i < n; i++) {
    const id = r.string(MAX_NODE_ID_BYTES, 'dropped writer')
    const prev = out[i - 1]
    if (id.length === 0 || (prev !== undefined && compareUtf8(prev, id) >= 0)) throw new InvalidEncodingError('pattern: dropped writers not in canonical order')
    if (clock.has(id)) throw new InvalidEncodingError(`pattern: dropped writer ${id} is in the clock`)
    if (compareBytes(writerRank(key, id), last.rank) <= 0) throw new InvalidEncodingError(`pattern: dropped writer ${id} ranks among the kept`)
    out.push(id)
  }
  return out
}
