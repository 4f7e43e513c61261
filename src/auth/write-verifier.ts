/**
 * Checks that every write a received state names was signed by the node it names: each
 * version (its full body) and each head (an overwritten write, by its body digest). Nothing
 * a peer relays is believed on its word: a clock entry, a version or an episode set in X's
 * name needs X's signature. Verification runs off the event loop: a frame's checks as one batch
 * on worker threads, a few checks (a push) on libuv's thread pool; a signature once verified is
 * not verified again.
 */
import { verify } from 'node:crypto'
import { availableParallelism } from 'node:os'
import type { PatternState } from '../core/pattern.js'
import { bodyDigest, writeMessage } from '../core/write-digest.js'
import { publicKeyOf, rawPublicKeyOf } from './ed25519-keys.js'
import { VerifyWorkers } from './verify-workers.js'
import { ForgedWriteError, UntrustedWriterError, type UnverifiableWriterError } from './errors.js'

export interface WriteVerifierOptions {
  /** if set, only writes by these node ids are taken (`--trusted-peers`); this node's own always are */
  trusted?: ReadonlySet<string>
  /** signatures remembered as verified (bounded: oldest forgotten first) */
  cacheSize?: number
  /** worker threads for batches of checks (default: one per CPU; 0: libuv's thread pool only) */
  workerThreads?: number
}

/** Why a state was refused. */
export type RefusedWrite = ForgedWriteError | UnverifiableWriterError | UntrustedWriterError

/** What checking a set of states found. */
export interface VerifyOutcome {
  /** per state: undefined when every write it names verifies, else why it is refused */
  refused: Array<RefusedWrite | undefined>
}

interface Check {
  node: string
  counter: number
  message: Uint8Array
  sig: Uint8Array
}

const DEFAULT_CACHE = 65536
/**
 * Signature checks queued to libuv's thread pool at once (more wait here). Enough for about two
 * full frames, the most a session checks at once: a shorter queue leaves the pool idle while
 * the event loop is busy merging (measured: a bulk pull slows down by a quarter at 64), and
 * the bound keeps LevelDB's jobs, which share the pool, from waiting behind an endless queue.
 */
const MAX_IN_FLIGHT = 1024

/** checks in one call from which they go to the worker threads, as one batch (fewer: the thread pool, one job each) */
const WORKER_BATCH = 32

interface Todo {
  /** index of the state */
  n: number
  check: Check
  /** cache key (the signature as latin1 text) */
  id: string
  /** the writer's raw public key */
  key: Uint8Array
}

export class WriteVerifier {
  /** signature (as latin1 text, a cheap key) -> the message it was verified for */
  private readonly verified = new Map<string, Uint8Array>()
  private readonly cacheSize: number
  private inFlight = 0
  private readonly waiting: Array<() => void> = []
  private readonly workers: VerifyWorkers | undefined

  constructor (private readonly self: string, private readonly options: WriteVerifierOptions = {}) {
    this.cacheSize = options.cacheSize ?? DEFAULT_CACHE
    const threads = options.workerThreads ?? availableParallelism()
    this.workers = threads > 0 ? new VerifyWorkers(threads) : undefined
  }

  /**
   * Checks all writes of `states`, each state on its own: one that names a forged write, a
   * writer whose key cannot be known, or (with a trusted list) a writer outside it is refused
   * alone, so a peer relaying one bad state still moves the others.
   */
  async check (states: readonly PatternState[]): Promise<VerifyOutcome> {
    const refused: Array<RefusedWrite | undefined> = states.map(() => undefined)
    const todo: Todo[] = []
    states.forEach((s, n) => {
      const mine: Todo[] = []
      try {
        for (const check of this.writesToCheck(s)) {
          const id = Buffer.from(check.sig.buffer, check.sig.byteOffset, check.sig.byteLength).toString('latin1')
          const known = this.verified.get(id)
          if (known === undefined || Buffer.compare(known, check.message) !== 0) mine.push({ n, check, id, key: rawPublicKeyOf(check.node) })
        }
        todo.push(...mine)
      } catch (err) {
        refused[n] = err as RefusedWrite
      }
    })
    const ok = await this.verifyAll(todo)
    todo.forEach((t, i) => {
      if (ok[i] === 1) this.remember(t)
      else {
        refused[t.n] ??= new ForgedWriteError(`pattern ${JSON.stringify((states[t.n] as PatternState).key)}: ` +
        `the signature of write ${t.check.counter}@${t.check.node} does not verify`)
      }
    })
    return { refused }
  }

  /** Stops the worker threads (a node's stop). */
  close (): void {
    this.workers?.close()
  }

  /** The state's writes, or UntrustedWriterError if one is by a writer outside the trusted list. */
  private writesToCheck (s: PatternState): Check[] {
    const checks = checksOf(s)
    const trusted = this.options.trusted
    const outsider = trusted === undefined ? undefined : checks.find(c => c.node !== this.self && !trusted.has(c.node))
    if (outsider !== undefined) {
      throw new UntrustedWriterError(`pattern ${JSON.stringify(s.key)} holds a write by ${outsider.node}, not a trusted writer`)
    }
    return checks
  }

  private async verifyAll (todo: readonly Todo[]): Promise<Uint8Array> {
    if (todo.length >= WORKER_BATCH && this.workers !== undefined) {
      try {
        return await this.workers.verify(todo.map(t => ({ key: t.key, message: t.check.message, sig: t.check.sig })))
      } catch {
        // a worker that failed (or a node stopping): the same checks on the thread pool
      }
    }
    return Uint8Array.from(await Promise.all(todo.map(async t => await this.poolVerify(t.check))))
  }

  private async poolVerify (c: Check): Promise<number> {
    const publicKey = publicKeyOf(c.node)
    if (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>(resolve => { this.waiting.push(resolve) })
    this.inFlight++
    return await new Promise<number>((resolve, reject) => {
      verify(null, c.message, publicKey, c.sig, (err, result) => { if (err !== null) reject(err); else resolve(result ? 1 : 0) })
    }).catch(() => 0).finally(() => {
      this.inFlight--
      this.waiting.shift()?.()
    })
  }

  private remember (t: Todo): void {
    if (this.cacheSize === 0) return
    if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value as string)
    this.verified.set(t.id, t.check.message)
  }
}

/** Every write a state names, as (writer, signed message, signature). */
export function checksOf (s: PatternState): Check[] {
  const out: Check[] = []
  for (const v of s.versions) out.push({ node: v.dot.node, counter: v.dot.counter, message: writeMessage(s.key, v.dot, bodyDigest(v)), sig: v.sig })
  for (const h of s.heads) out.push({ node: h.dot.node, counter: h.dot.counter, message: writeMessage(s.key, h.dot, h.body), sig: h.sig })
  return out
}
