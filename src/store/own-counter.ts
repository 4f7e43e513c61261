/** The node's counter when its stored copy is lost: our own dots in the stored clocks are the best lower bound. */
import { highestCounterOf } from '../core/pattern.js'
import type { NodeId } from '../core/vector-clock.js'
import type { LevelPatternStore } from './level-store.js'

const SCAN_PAGE = 1000

export async function highestOwnCounter (store: LevelPatternStore, nodeId: NodeId): Promise<number> {
  let highest = 0
  let after: string | undefined
  for (;;) {
    const page = await store.list(after === undefined ? { limit: SCAN_PAGE } : { after, limit: SCAN_PAGE })
    for (const s of page) highest = Math.max(highest, highestCounterOf(s, nodeId))
    const last = page[page.length - 1]
    if (last === undefined || page.length < SCAN_PAGE) return highest
    after = last.key
  }
}
