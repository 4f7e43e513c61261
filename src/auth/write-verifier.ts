/**
 * Checks that every write a received state names was signed by the node it names: each
 * version (its full body) and each head (an overwritten write, by its body digest). Nothing
 * a peer relays is believed on its word: a clock entry, a version or an episode set in X's
 * name needs X's signature. Verification runs on libuv's thread pool (node:crypto with a
 * callback), off the event loop, and a signature once verified is not verified again.
 */
import { verify } from 'node:crypto'
import type { PatternState } from '../core/pattern.js'
import { bodyDigest, writeMessage } from '../core/write-digest.js'
import { publicKeyOf } from './ed25519-keys.js'
import { ForgedWriteError, UntrustedWriterError, type UnverifiableWriterError } from './errors.js'

export interface WriteVerifierOptions {
  /** if set, only writes by these node ids are taken (`--trusted-peers`); this node's own always are */
  trusted?: ReadonlySet<string>
  /** signatures remembered as verified (bounded: oldest forgotten first) */
  cacheSize?: number
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

export class WriteVerifier {
  /** signature (as latin1 text, a cheap key) -> the message it was verified for */
  private readonly verified = new Map<string, Uint8Array>()
  private readonly cacheSize: number
  private inFlight = 0
  private readonly waiting: Array<() => void> = []

  constructor (private readonly self: string, private readonly options: WriteVerifierOptions = {}) {
    this.cacheSize = options.cacheSize ?? DEFAULT_CACHE
  }

  /**
   * Checks all writes of `states`, each state on its own: one that names a forged write, a
   * writer whose key cannot be known, or (with a trusted list) a writer outside it is refused
   * alone, so a peer relaying one bad state still moves the others.
   */
  async check (states: readonly PatternState[]): Promise<VerifyOutcome> {
    const refused = await Promise.all(states.map(async s => await this.checkState(s).then(() => undefined, (err: RefusedWrite) => err)))
    return { refused }
  }

  private async checkState (s: PatternState): Promise<void> {
    // who wrote is known without hashing anything: an outsider's pattern costs no digests
    const trusted = this.options.trusted
    const outsider = trusted === undefined ? undefined : [...s.versions, ...s.heads].find(w => w.dot.node !== this.self && !trusted.has(w.dot.node))
    if (outsider !== undefined) {
      throw new UntrustedWriterError(`pattern ${JSON.stringify(s.key)} holds a write by ${outsider.dot.node}, not a trusted writer`)
    }
    const checks = checksOf(s)
    const pending: Array<Promise<void>> = []
    for (const c of checks) {
      const id = Buffer.from(c.sig.buffer, c.sig.byteOffset, c.sig.byteLength).toString('latin1')
      const known = this.verified.get(id)
      if (known === undefined || Buffer.compare(known, c.message) !== 0) pending.push(this.verifyOne(c, id, s.key))
    }
    await Promise.all(pending)
  }

  private async verifyOne (c: Check, id: string, key: string): Promise<void> {
    const publicKey = publicKeyOf(c.node)
    if (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>(resolve => { this.waiting.push(resolve) })
    this.inFlight++
    const ok = await new Promise<boolean>((resolve, reject) => {
      verify(null, c.message, publicKey, c.sig, (err, result) => { if (err !== null) reject(err); else resolve(result) })
    }).catch(() => false).finally(() => {
      this.inFlight--
      this.waiting.shift()?.()
    })
    if (!ok) throw new ForgedWriteError(`pattern ${JSON.stringify(key)}: the signature of write ${c.counter}@${c.node} does not verify`)
    if (this.cacheSize === 0) return
    if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value as string)
    this.verified.set(id, c.message)
  }
}

/** Every write a state names, as (writer, signed message, signature). */
export function checksOf (s: PatternState): Check[] {
  const out: Check[] = []
  for (const v of s.versions) out.push({ node: v.dot.node, counter: v.dot.counter, message: writeMessage(s.key, v.dot, bodyDigest(v)), sig: v.sig })
  for (const h of s.heads) out.push({ node: h.dot.node, counter: h.dot.counter, message: writeMessage(s.key, h.dot, h.body), sig: h.sig })
  return out
}
