/**
 * The inner nodes of the compact index's fixed tree (compact-index.ts), depth 0 (the root) down to
 * the pages: per depth, each node's pattern count, its hash as last computed and whether that is
 * stale, in flat arrays rather than an object per node. A change marks its whole path stale, so a
 * clean node has clean children, and the children of a node sit side by side in the depth below:
 * a stale node hashes its children's run in place, with no copy per child.
 */
import { sha256 } from './hash.js'
import { HASH_LEN } from './index-page.js'
import { MERKLE_DEPTH, MERKLE_FANOUT } from './merkle.js'

/** The depth of the pages: the deepest inner nodes, whose children are leaves. */
export const PAGE_DEPTH = MERKLE_DEPTH - 1

interface Level {
  counts: Uint32Array
  /** the 32-byte hashes of the level's nodes, back to back */
  hashes: Uint8Array
  dirty: Uint8Array
}

export class InnerLevels {
  /** levels[d]: the MERKLE_FANOUT ** d nodes at depth d */
  private readonly levels: Level[] = Array.from({ length: MERKLE_DEPTH }, (_, d) => {
    const n = MERKLE_FANOUT ** d
    return { counts: new Uint32Array(n), hashes: new Uint8Array(n * HASH_LEN), dirty: new Uint8Array(n) }
  })

  /** a node's hash input, reused: the inner tag, then its children's hashes */
  private readonly input = Uint8Array.of(1, ...new Uint8Array(MERKLE_FANOUT * HASH_LEN))

  /** `leafHashes(page)`: the up-to-date hashes of a page's leaves, back to back. */
  constructor (private readonly leafHashes: (page: number) => Uint8Array) {}

  count (depth: number, slot: number): number {
    return (this.levels[depth] as Level).counts[slot] as number
  }

  /** A copy of a node's hash, brought up to date first. */
  hash (depth: number, slot: number): Uint8Array {
    this.refresh(depth, slot)
    return (this.levels[depth] as Level).hashes.slice(slot * HASH_LEN, (slot + 1) * HASH_LEN)
  }

  /** Adds `delta` patterns under page `page` to every node on its path, and marks the path stale. */
  touch (page: number, delta: number): void {
    for (let d = PAGE_DEPTH, slot = page; d >= 0; d--, slot = Math.floor(slot / MERKLE_FANOUT)) {
      const level = this.levels[d] as Level
      level.counts[slot] = (level.counts[slot] as number) + delta
      level.dirty[slot] = 1
    }
  }

  /** Brings a node's stored hash up to date, its stale children first; an empty node's is EMPTY_HASH (zeros). */
  private refresh (depth: number, slot: number): void {
    const level = this.levels[depth] as Level
    if (level.dirty[slot] === 0) return
    level.dirty[slot] = 0
    if (level.counts[slot] === 0) {
      level.hashes.fill(0, slot * HASH_LEN, (slot + 1) * HASH_LEN)
      return
    }
    const first = slot * MERKLE_FANOUT
    let kids: Uint8Array
    if (depth === PAGE_DEPTH) {
      kids = this.leafHashes(slot)
    } else {
      for (let i = 0; i < MERKLE_FANOUT; i++) this.refresh(depth + 1, first + i)
      kids = (this.levels[depth + 1] as Level).hashes.subarray(first * HASH_LEN, (first + MERKLE_FANOUT) * HASH_LEN)
    }
    // the children are all up to date by now, so one input serves every node
    this.input.set(kids, 1)
    level.hashes.set(sha256(this.input), slot * HASH_LEN)
  }
}
