/**
 * Runs one reconciliation session between two in-memory replicas through the pure
 * state machines, counting round trips and patterns moved. No sockets.
 */
import { Initiator, keyHashHasPrefix, type SendInstruction } from '../../src/core/reconcile.js'
import { Responder } from '../../src/core/reconcile-responder.js'
import { MerkleIndex, toHex } from '../../src/core/merkle.js'
import { keyHash, patternDigest } from '../../src/core/encoding.js'
import { mergeIncoming } from '../../src/core/merge.js'
import type { PatternState } from '../../src/core/pattern.js'

export class MemoryReplica {
  readonly index = new MerkleIndex()
  readonly byHash = new Map<string, PatternState>()

  put (s: PatternState): void {
    const kh = keyHash(s.key)
    this.byHash.set(toHex(kh), s)
    this.index.set(kh, patternDigest(s))
  }

  merge (s: PatternState): boolean {
    const kh = keyHash(s.key)
    const cur = this.byHash.get(toHex(kh))
    const out = mergeIncoming(cur, s)
    if (cur !== undefined && patternDigest(cur).every((b, i) => b === patternDigest(out.state)[i])) return false
    this.put(out.state)
    return true
  }

  select (what: SendInstruction): PatternState[] {
    const out = what.keyHashes.map(kh => this.byHash.get(toHex(kh))).filter((s): s is PatternState => s !== undefined)
    for (const p of what.prefixes) {
      for (const [hex, s] of this.byHash) if (hex.startsWith(p)) out.push(s)
    }
    return out
  }
}

export interface SyncStats {
  roundTrips: number
  toResponder: number
  toInitiator: number
}

export function syncInMemory (a: MemoryReplica, b: MemoryReplica): SyncStats {
  const ini = new Initiator(a.index)
  const res = new Responder(b.index)
  const stats: SyncStats = { roundTrips: 0, toResponder: 0, toInitiator: 0 }
  let step = res.onHello(ini.hello())
  for (let guard = 0; guard < 100; guard++) {
    for (const s of b.select(step.send)) {
      if (!ini.expectsPattern(keyHash(s.key))) throw new Error('initiator refused an answer pattern')
      a.merge(s)
      stats.toInitiator++
    }
    if (step.reply === undefined) break
    const next = ini.onReply(step.reply)
    for (const s of a.select(next.push)) {
      if (!res.acceptsPatterns()) throw new Error('responder refused a push')
      b.merge(s)
      stats.toResponder++
    }
    if (next.request === undefined) break
    step = res.onRequest(next.request)
  }
  stats.roundTrips = ini.roundTrips
  return stats
}

export { keyHashHasPrefix }
