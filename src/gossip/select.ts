import { setImmediate as nextTurn } from 'node:timers/promises'
import type { SendInstruction } from '../core/reconcile.js'
import { MERKLE_DEPTH, toHex } from '../core/merkle.js'
import { batchEncodedPatterns, encodePatternsFrame } from './codec.js'
import { MAX_PATTERNS_PER_MESSAGE } from './constants.js'
import type { GossipStore } from './types.js'
import type { FramedStream } from './framed.js'

/**
 * Key hashes named by a send instruction (directly, and everything under its prefixes), each
 * once, produced as they are sent: a full pull of a large store never holds a set of them all.
 */
function * selectKeyHashes (store: GossipStore, what: SendInstruction): Generator<Uint8Array> {
  const prefixes = new Set(what.prefixes)
  // under a listed prefix: sent with it (a prefix is at most MERKLE_DEPTH nibbles)
  const underListed = (hex: string, shorterThan: number): boolean => {
    for (let d = 0; d < shorterThan; d++) if (prefixes.has(hex.slice(0, d))) return true
    return false
  }
  const named = new Set<string>()
  for (const kh of what.keyHashes) {
    const hex = toHex(kh)
    if (named.has(hex) || underListed(hex, MERKLE_DEPTH + 1)) continue
    named.add(hex)
    yield kh
  }
  for (const p of prefixes) {
    if (underListed(p, p.length)) continue
    yield * store.index.keyHashes(p)
  }
}

/**
 * Sends the named patterns in frames within the size limits, reading the store one
 * batch at a time so a bulk transfer never holds the whole set in memory.
 * Returns how many patterns were sent.
 */
export async function sendPatterns (out: FramedStream, store: GossipStore, what: SendInstruction, push = false): Promise<number> {
  let sent = 0
  const send = async (khs: readonly Uint8Array[]): Promise<void> => {
    const encoded: Uint8Array[] = []
    for (const kh of khs) {
      const enc = await store.getEncoded(kh)
      if (enc !== undefined) encoded.push(enc)
    }
    for (const batch of batchEncodedPatterns(encoded)) {
      await out.writeRaw(encodePatternsFrame(batch, push))
      sent += batch.length
      // store reads are synchronous and a fast reader never makes a write wait: without a turn
      // of the event loop per frame, a full pull would keep the node from everything else
      await nextTurn()
    }
  }
  let khs: Uint8Array[] = []
  for (const kh of selectKeyHashes(store, what)) {
    khs.push(kh)
    if (khs.length === MAX_PATTERNS_PER_MESSAGE) {
      await send(khs)
      khs = []
    }
  }
  if (khs.length > 0) await send(khs)
  return sent
}
