/**
 * Group commit: local writes that arrive while one batch is being written wait for the next,
 * and all that waited go to disk together in one synced batch. Each caller is answered only
 * once the batch carrying its write landed (the same durability as a batch per write), and a
 * write that is refused fails alone. Durable writes cost one fsync per batch, not per write,
 * so concurrent writers are not serialized behind each other's disk flushes.
 */
import type { Mutex } from './mutex.js'

/** What a flush gives back for each item, in order. */
export type Outcome<R> = { ok: R } | { err: unknown }

interface Waiting<I, R> {
  item: I
  resolve: (r: R) => void
  reject: (err: unknown) => void
}

export class WriteQueue<I, R> {
  private waiting: Array<Waiting<I, R>> = []

  /** `flush` runs under `lock` (the store's mutation lock) with every item that waited. */
  constructor (private readonly lock: Mutex, private readonly flush: (items: I[]) => Promise<Array<Outcome<R>>>) {}

  async add (item: I): Promise<R> {
    return await new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject })
      // the first to wait schedules the flush; the rest ride along until it takes them
      if (this.waiting.length === 1) void this.lock.run(async () => { await this.flushWaiting() })
    })
  }

  private async flushWaiting (): Promise<void> {
    const batch = this.waiting
    this.waiting = []
    try {
      const outcomes = await this.flush(batch.map(w => w.item))
      batch.forEach((w, i) => {
        const o = outcomes[i]
        if (o === undefined) w.reject(new Error('write queue: no outcome for a write'))
        else if ('ok' in o) w.resolve(o.ok)
        else w.reject(o.err)
      })
    } catch (err) {
      for (const w of batch) w.reject(err)
    }
  }
}
