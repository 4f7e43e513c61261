/**
 * A resumable watch over the change feed: the entries after `since` read page by page from the
 * store, then, once caught up, the next page each time a change commits. Reading from the
 * store every time (never from a buffer of events) keeps the memory of a slow watcher bounded
 * and the order exact: every seq once, ascending, whatever the writes do meanwhile.
 */
import { InvalidSinceError } from './errors.js'

export interface FeedPage<T> {
  changes: T[]
  /** the seq the read reached */
  last: number
  /** the read stopped before the end */
  more: boolean
}

/** What a watch needs of the node's feed. */
export interface FeedSource<T> {
  readonly lastSeq: number
  changes(since: number, options: { prefix?: string, limit: number }): Promise<FeedPage<T>>
  /** calls `listener` after each commit; returns the unsubscribe */
  onChange(listener: () => void): () => void
}

export interface WatchOptions {
  /** the last seq already seen (default 0: the whole feed) */
  since?: number
  /** only keys starting with this */
  prefix?: string
  /** go on waiting for new changes once caught up (default true); false ends at the end of the feed */
  live?: boolean
  /** ends the watch (the iterator throws the signal's reason) */
  signal?: AbortSignal
  /** changes read per store read (default 100) */
  pageSize?: number
}

/** Checks a `since` against the feed: a seq this node never handed out is refused, not waited for. */
export function checkSince (since: unknown, lastSeq: number): number {
  if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) {
    throw new InvalidSinceError(`since must be a whole number ≥ 0 (a seq of this node's feed), got ${String(since)}`)
  }
  if (since > lastSeq) {
    throw new InvalidSinceError(`since ${since} is ahead of this node's newest change (${lastSeq}): a seq means something only on ` +
      'the node and data dir that gave it; start again from 0')
  }
  return since
}

export async function * watchFeed<T extends { seq: number }> (source: FeedSource<T>, options: WatchOptions = {}): AsyncGenerator<T> {
  const { prefix, signal, live = true } = options
  let cursor = checkSince(options.since ?? 0, source.lastSeq)
  const limit = options.pageSize ?? 100
  // set by every commit after the read began; a read that raced a commit is simply repeated
  let changed = false
  let wake: (() => void) | undefined
  const unsubscribe = source.onChange(() => {
    changed = true
    wake?.()
  })
  const onAbort = (): void => wake?.()
  signal?.addEventListener('abort', onAbort)
  try {
    for (;;) {
      signal?.throwIfAborted()
      changed = false
      const page = await source.changes(cursor, { limit, ...(prefix !== undefined ? { prefix } : {}) })
      for (const c of page.changes) {
        signal?.throwIfAborted()
        if (c.seq > cursor) yield c
        cursor = Math.max(cursor, c.seq)
      }
      cursor = Math.max(cursor, page.last)
      if (page.more || changed) continue
      if (!live) return
      signal?.throwIfAborted()
      await new Promise<void>(resolve => { wake = resolve })
      wake = undefined
    }
  } finally {
    unsubscribe()
    signal?.removeEventListener('abort', onAbort)
  }
}
