/**
 * Checks that every write a received state names was signed by the node it names: each
 * version (its full body) and each head (an overwritten write, by its body digest). Nothing
 * a peer relays is believed on its word: a clock entry, a version or an episode set in X's
 * name needs X's signature. The checks of one call go as one batch to worker threads, off
 * the event loop (ed25519-verify.ts), and a signature once verified is not verified again.
 */
import type { PatternState } from '../core/pattern.js'
import { bodyDigest, writeMessage } from '../core/write-digest.js'
import { Ed25519Verifier } from './ed25519-verify.js'
import { publicKeyOf } from './ed25519-keys.js'
import { ForgedWriteError, UntrustedWriterError, type UnverifiableWriterError } from './errors.js'
import { VerifiedCache } from './verified-cache.js'

export interface WriteVerifierOptions {
  /** if set, only writes by these node ids are taken (`--trusted-peers`); this node's own always are */
  trusted?: ReadonlySet<string>
  /** signatures remembered as verified (bounded: oldest forgotten first) */
  cacheSize?: number
  /** worker threads for the checks (default: one per CPU) */
  threads?: number
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

/** A check still to run: for state `n`. */
interface Todo {
  n: number
  check: Check
  key: Uint8Array
}

const DEFAULT_CACHE = 65536

export class WriteVerifier {
  /** signatures verified, each with the message it was verified for */
  private readonly verified: VerifiedCache
  private readonly ed25519: Ed25519Verifier

  constructor (private readonly self: string, private readonly options: WriteVerifierOptions = {}) {
    this.verified = new VerifiedCache(options.cacheSize ?? DEFAULT_CACHE)
    this.ed25519 = new Ed25519Verifier(options.threads)
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
      try {
        todo.push(...this.todoOf(s, n))
      } catch (err) {
        refused[n] = err as RefusedWrite
      }
    })
    const ok = await this.ed25519.verify(todo.map(t => ({ key: t.key, message: t.check.message, sig: t.check.sig })))
    todo.forEach((t, i) => {
      if (ok[i] === 1) {
        this.verified.set(t.check.sig, t.check.message)
      } else if (refused[t.n] === undefined) {
        const key = states[t.n]?.key ?? ''
        refused[t.n] = new ForgedWriteError(`pattern ${JSON.stringify(key)}: the signature of write ${t.check.counter}@${t.check.node} does not verify`)
      }
    })
    return { refused }
  }

  /** Stops the worker threads (checks asked for later run in place). */
  close (): void {
    this.ed25519.close()
  }

  /** The checks state `n` still needs (not verified before); throws if it is refused without any. */
  private todoOf (s: PatternState, n: number): Todo[] {
    // who wrote is known without hashing anything: an outsider's pattern costs no digests
    const trusted = this.options.trusted
    const outsider = trusted === undefined ? undefined : [...s.versions, ...s.heads].find(w => w.dot.node !== this.self && !trusted.has(w.dot.node))
    if (outsider !== undefined) {
      throw new UntrustedWriterError(`pattern ${JSON.stringify(s.key)} holds a write by ${outsider.dot.node}, not a trusted writer`)
    }
    const out: Todo[] = []
    for (const check of checksOf(s)) {
      if (!this.verified.has(check.sig, check.message)) out.push({ n, check, key: publicKeyOf(check.node) })
    }
    return out
  }
}

/** Every write a state names, as (writer, signed message, signature). */
export function checksOf (s: PatternState): Check[] {
  const out: Check[] = []
  for (const v of s.versions) out.push({ node: v.dot.node, counter: v.dot.counter, message: writeMessage(s.key, v.dot, bodyDigest(v)), sig: v.sig })
  for (const h of s.heads) out.push({ node: h.dot.node, counter: h.dot.counter, message: writeMessage(s.key, h.dot, h.body), sig: h.sig })
  return out
}
