/**
 * An in-memory transport for the real reconciliation code: a SimReplica is a node's
 * patterns (MerkleIndex + CRDT states), and runSession() runs one anti-entropy session
 * between two of them through the product's sans-IO Initiator/Responder, with every
 * message encoded and decoded by the product's wire codec (so bytes are real frame sizes)
 * and every received pattern merged with mergeIncoming. It mirrors
 * src/gossip/initiator.ts and responder.ts step by step, minus sockets and LevelDB.
 */
import { Initiator, type SendInstruction } from '../../src/core/reconcile.js'
import { Responder } from '../../src/core/reconcile-responder.js'
import { MerkleIndex, toHex } from '../../src/core/merkle.js'
import { encodePattern, keyHash, patternDigest } from '../../src/core/encoding.js'
import { compareBytes } from '../../src/core/bytes.js'
import { mergeIncoming } from '../../src/core/merge.js'
import type { PatternState } from '../../src/core/pattern.js'
import type { GossipMessage, HelloMsg, ReplyMsg, RequestMsg } from '../../src/core/reconcile-messages.js'
import { batchEncodedPatterns, decodeMessage, encodeMessage, encodePatternsFrame } from '../../src/gossip/codec.js'

interface Held {
  state: PatternState
  encoded: Uint8Array
  digest: Uint8Array
}

export class SimReplica {
  readonly index = new MerkleIndex()
  private readonly held = new Map<string, Held>()

  get size (): number {
    return this.held.size
  }

  /** whether a pattern is held at this key hash (hex) */
  hasKeyHash (hex: string): boolean {
    return this.held.has(hex)
  }

  /** a local write (or seeding): replaces what is held */
  put (state: PatternState): void {
    const encoded = encodePattern(state)
    const digest = patternDigest(encoded)
    const kh = keyHash(state.key)
    this.held.set(toHex(kh), { state, encoded, digest })
    this.index.set(kh, digest)
  }

  /** CRDT merge of received states; returns how many changed our state */
  merge (states: readonly PatternState[]): number {
    let changed = 0
    for (const s of states) {
      const hex = toHex(keyHash(s.key))
      const cur = this.held.get(hex)
      const out = mergeIncoming(cur?.state, s).state
      const encoded = encodePattern(out)
      const digest = patternDigest(encoded)
      if (cur !== undefined && compareBytes(cur.digest, digest) === 0) continue
      this.held.set(hex, { state: out, encoded, digest })
      this.index.set(keyHash(s.key), digest)
      changed++
    }
    return changed
  }

  /** encoded patterns a send instruction names, selected as src/gossip/select.ts does */
  select (what: SendInstruction): Uint8Array[] {
    const hashes = new Map<string, true>()
    for (const kh of what.keyHashes) hashes.set(toHex(kh), true)
    for (const p of what.prefixes) {
      for (const e of this.index.entries(p)) hashes.set(toHex(e.keyHash), true)
    }
    const out: Uint8Array[] = []
    for (const hex of hashes.keys()) {
      const h = this.held.get(hex)
      if (h !== undefined) out.push(h.encoded)
    }
    return out
  }
}

export interface SessionStats {
  /** round trips as the initiator counts them */
  roundTrips: number
  /** frames both ways, and their bytes including the varint length prefix */
  frames: number
  bytes: number
  /** patterns moved each way, and how many of them changed the receiver */
  toResponder: number
  toInitiator: number
  changed: number
  rootsEqual: boolean
}

const MAX_STEPS = 64

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 0x80); len++ }
  return len
}

/** One anti-entropy session: `a` initiates, `b` responds. Throws on any protocol violation. */
export function runSession (a: SimReplica, b: SimReplica): SessionStats {
  const stats: SessionStats = { roundTrips: 0, frames: 0, bytes: 0, toResponder: 0, toInitiator: 0, changed: 0, rootsEqual: false }
  const carry = (frame: Uint8Array): GossipMessage => {
    stats.frames++
    stats.bytes += frame.length + varintLength(frame.length)
    return decodeMessage(frame)
  }
  /** sends the selected patterns in frames within the limits; the receiver validates and merges */
  const sendPatterns = (from: SimReplica, what: SendInstruction, accept: (kh: Uint8Array) => boolean, to: SimReplica): number => {
    let moved = 0
    for (const batch of batchEncodedPatterns(from.select(what))) {
      const msg = carry(encodePatternsFrame(batch))
      if (msg.type !== 'patterns' || msg.push) throw new Error('expected a session patterns frame')
      for (const s of msg.patterns) if (!accept(keyHash(s.key))) throw new Error(`receiver refused ${s.key}`)
      stats.changed += to.merge(msg.patterns)
      moved += msg.patterns.length
    }
    return moved
  }

  const ini = new Initiator(a.index)
  const res = new Responder(b.index)
  let step = res.onHello(carry(encodeMessage(ini.hello())) as HelloMsg)
  stats.rootsEqual = step.done
  for (let i = 0; i < MAX_STEPS; i++) {
    stats.toInitiator += sendPatterns(b, step.send, kh => ini.expectsPattern(kh), a)
    if (step.reply === undefined) break
    const next = ini.onReply(carry(encodeMessage(step.reply)) as ReplyMsg)
    stats.toResponder += sendPatterns(a, next.push, () => res.acceptsPatterns(), b)
    if (next.request === undefined) break
    step = res.onRequest(carry(encodeMessage(next.request)) as RequestMsg)
    if (i === MAX_STEPS - 1) throw new Error('session did not end within its step bound')
  }
  stats.roundTrips = ini.roundTrips
  return stats
}
