/** Bounded polling for tests: every wait ends, with a message saying what never happened. */
import { setTimeout as sleep } from 'node:timers/promises'

export interface WaitOptions {
  /** Give up after this many ms. Default 10 000. */
  timeout?: number
  /** Poll period, ms. Default 50. */
  interval?: number
  /** Shown when the wait times out. */
  message?: string
}

export async function waitFor (cond: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const timeout = options.timeout ?? 10_000
  const interval = options.interval ?? 50
  const deadline = Date.now() + timeout
  // the count bound backs up the time bound if a condition call itself is slow
  const maxPolls = Math.ceil(timeout / interval) + 1
  let lastError: unknown
  for (let i = 0; i < maxPolls && Date.now() <= deadline; i++) {
    try {
      if (await cond()) return
      lastError = undefined
    } catch (err) {
      lastError = err
    }
    await sleep(interval)
  }
  const why = lastError != null ? `; last error: ${(lastError as Error).message ?? String(lastError)}` : ''
  throw new Error(`timed out after ${timeout} ms waiting for ${options.message ?? 'condition'}${why}`)
}
