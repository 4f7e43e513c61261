/**
 * A minimal async mutex: callers run one at a time, in call order. Used wherever a
 * read-compute-write sequence spans awaits and must not interleave with another.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve()

  async run<T> (fn: () => Promise<T>): Promise<T> {
    const previous = this.tail
    let release!: () => void
    this.tail = new Promise<void>(resolve => { release = resolve })
    await previous
    try {
      return await fn()
    } finally {
      release()
    }
  }
}
