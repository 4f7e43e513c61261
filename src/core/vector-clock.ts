/**
 * Vector clocks: node id -> counter. A missing entry means 0, so zero entries are
 * never stored; that keeps equal clocks equal as maps and as bytes.
 */
import { ByteReader, ByteWriter, compareUtf8 } from './bytes.js'
import { InvalidEncodingError, LimitExceededError } from './errors.js'
import { MAX_CLOCK_ENTRIES, MAX_COUNTER, MAX_NODE_ID_BYTES } from './limits.js'

export type NodeId = string
export type VectorClock = ReadonlyMap<NodeId, number>

/** How clock `a` relates to clock `b`. */
export type ClockOrder = 'before' | 'after' | 'equal' | 'concurrent'

export const EMPTY_CLOCK: VectorClock = new Map()

export function checkCounter (counter: number): void {
  if (!Number.isSafeInteger(counter) || counter < 1 || counter > MAX_COUNTER) {
    throw new RangeError(`clock counter must be an integer in [1, ${MAX_COUNTER}], got ${counter}`)
  }
}

/** Builds a clock from entries, dropping zeros; throws on negative or non-integer counters. */
export function vectorClock (entries: Iterable<readonly [NodeId, number]> | Record<NodeId, number> = []): VectorClock {
  const list = Symbol.iterator in Object(entries)
    ? entries as Iterable<readonly [NodeId, number]>
    : Object.entries(entries as Record<NodeId, number>)
  const out = new Map<NodeId, number>()
  for (const [id, n] of list) {
    if (n === 0) continue
    checkCounter(n)
    out.set(id, Math.max(n, out.get(id) ?? 0))
  }
  if (out.size > MAX_CLOCK_ENTRIES) throw new LimitExceededError(`clock has ${out.size} entries, limit ${MAX_CLOCK_ENTRIES}`)
  return out
}

export function counterOf (c: VectorClock, node: NodeId): number {
  return c.get(node) ?? 0
}

/** True when the clock has seen event `counter` of `node`. */
export function covers (c: VectorClock, node: NodeId, counter: number): boolean {
  return counterOf(c, node) >= counter
}

export function compareClocks (a: VectorClock, b: VectorClock): ClockOrder {
  let aAhead = false
  let bAhead = false
  for (const [id, n] of a) {
    const m = b.get(id) ?? 0
    if (n > m) aAhead = true
    else if (n < m) bAhead = true
  }
  for (const [id, m] of b) {
    if (!a.has(id) && m > 0) bAhead = true
  }
  if (aAhead && bAhead) return 'concurrent'
  if (aAhead) return 'after'
  if (bAhead) return 'before'
  return 'equal'
}

/** Pointwise maximum: the least clock that has seen everything both have seen. */
export function joinClocks (a: VectorClock, b: VectorClock): VectorClock {
  const out = new Map(a)
  for (const [id, n] of b) {
    if (n > (out.get(id) ?? 0)) out.set(id, n)
  }
  if (out.size > MAX_CLOCK_ENTRIES) throw new LimitExceededError(`joined clock has ${out.size} entries, limit ${MAX_CLOCK_ENTRIES}`)
  return out
}

/** Records event `counter` of `node` (which must be newer than what the clock holds for it). */
export function advanceClock (c: VectorClock, node: NodeId, counter: number): VectorClock {
  checkCounter(counter)
  if (counter <= counterOf(c, node)) throw new RangeError(`counter ${counter} for ${node} is not newer than ${counterOf(c, node)}`)
  const out = new Map(c)
  out.set(node, counter)
  if (out.size > MAX_CLOCK_ENTRIES) throw new LimitExceededError(`clock has ${out.size} entries, limit ${MAX_CLOCK_ENTRIES}`)
  return out
}

/** Node ids in canonical (UTF-8 byte) order. */
export function sortedNodeIds (c: VectorClock): NodeId[] {
  return [...c.keys()].sort(compareUtf8)
}

export function clockToObject (c: VectorClock): Record<NodeId, number> {
  const out: Record<NodeId, number> = {}
  for (const id of sortedNodeIds(c)) out[id] = c.get(id) as number
  return out
}

export function writeClock (w: ByteWriter, c: VectorClock): void {
  const ids = sortedNodeIds(c)
  w.varint(ids.length)
  for (const id of ids) w.string(id).varint(c.get(id) as number)
}

/** Reads a clock written by `writeClock`, insisting on canonical order and positive counters. */
export function readClock (r: ByteReader): VectorClock {
  // each entry takes at least 3 bytes: id length, one id byte, counter
  const n = r.count(MAX_CLOCK_ENTRIES, 3, 'clock entries')
  const out = new Map<NodeId, number>()
  let prev: string | undefined
  for (let i = 0; i < n; i++) {
    const id = r.string(MAX_NODE_ID_BYTES, 'node id')
    if (id.length === 0) throw new InvalidEncodingError('clock: empty node id')
    if (prev !== undefined && compareUtf8(prev, id) >= 0) throw new InvalidEncodingError('clock: entries not in canonical order')
    const counter = r.varint()
    if (counter === 0) throw new InvalidEncodingError('clock: zero counter is not canonical')
    out.set(id, counter)
    prev = id
  }
  return out
}

export function encodeClock (c: VectorClock): Uint8Array {
  const w = new ByteWriter()
  writeClock(w, c)
  return w.finish()
}

export function decodeClock (bytes: Uint8Array): VectorClock {
  const r = new ByteReader(bytes, 'clock')
  const c = readClock(r)
  r.end()
  return c
}
