/**
 * Holds local writes until the node's counter is confirmed by the cluster. A data dir
 * restored from an older copy restarts with an older counter; its next writes would reuse
 * dots the cluster already holds with other content, and be lost (a state that saw the lost
 * write "has seen" the reused dot). A node with a past (a non-zero counter) and somewhere to
 * sync from therefore lets its first local write wait for one completed session with a peer:
 * the session brings back every state naming its own lost writes, which raises its counter
 * past them. With no session within the timeout, writes go on, with a warning.
 */
import type { NodeLogger } from './types.js'

export interface CounterGateInit {
  /** false: the node has no past or nowhere to sync from, so there is nothing to confirm */
  needed: boolean
  timeoutMs: number
  log: NodeLogger
}

export class CounterGate {
  readonly #ready: Promise<void>
  #open: () => void = () => {}
  #timer: ReturnType<typeof setTimeout> | undefined
  #confirmed: boolean
  /** when start() ran (performance.now()), for heldForMs */
  #startedAt: number | undefined

  constructor (private readonly init: CounterGateInit) {
    this.#confirmed = !init.needed
    this.#ready = this.#confirmed ? Promise.resolve() : new Promise(resolve => { this.#open = resolve })
  }

  /** true once writes no longer wait */
  get confirmed (): boolean {
    return this.#confirmed
  }

  /** How long local writes may still wait, at most (0 once they no longer do). */
  heldForMs (): number {
    if (this.#confirmed) return 0
    const since = this.#startedAt === undefined ? 0 : performance.now() - this.#startedAt
    return Math.max(1, Math.ceil(this.init.timeoutMs - since))
  }

  /** Starts the timeout (at node start: before it, no session could have run). */
  start (): void {
    if (this.#confirmed || this.#timer !== undefined) return
    this.#startedAt = performance.now()
    this.#timer = setTimeout(() => {
      this.init.log.error('no session with a peer within %d s of start: local writes go on without confirming this node\'s counter ' +
        '(if this data dir was restored from a backup, its next writes may reuse dots of writes it lost)', this.init.timeoutMs / 1000)
      this.#release()
    }, this.init.timeoutMs)
    this.#timer.unref?.()
  }

  /** A session with a peer completed: the counter now covers every own write that peer held. */
  confirm (peer: string): void {
    if (this.#confirmed) return
    this.init.log('counter confirmed by a session with %s: local writes go on', peer)
    this.#release()
  }

  async ready (): Promise<void> {
    await this.#ready
  }

  stop (): void {
    this.#release()
  }

  #release (): void {
    this.#confirmed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#open()
  }
}
