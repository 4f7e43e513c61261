/** The Replica's change feed as the node gives it out: a watch (change-stream.ts) of pattern records. */
import type { Replica } from '../store/replica.js'
import type { ChangesOptions } from '../store/level-store.js'
import { watchFeed, type WatchOptions } from './change-stream.js'
import { FeedDisabledError } from './errors.js'
import { toRecord } from './records.js'
import type { ChangeRecord } from './types.js'

export async function * replicaFeed (replica: Replica, options: WatchOptions): AsyncGenerator<ChangeRecord> {
  if (!replica.changeFeed) throw new FeedDisabledError('this node keeps no change feed (it was created with changeFeed: false)')
  const source = {
    get lastSeq () { return replica.lastSeq },
    changes: async (since: number, o: ChangesOptions) => await replica.changes(since, o),
    onChange: (listener: () => void) => replica.onChange(listener)
  }
  for await (const c of watchFeed(source, options)) {
    yield { seq: c.seq, key: c.key, origin: c.origin, peer: c.peer ?? null, pattern: toRecord(c.pattern) }
  }
}
