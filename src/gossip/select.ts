import type { SendInstruction } from '../core/reconcile.js'
import { toHex } from '../core/merkle.js'
import { batchEncodedPatterns, encodePatternsFrame } from './codec.js'
import { MAX_PATTERNS_PER_MESSAGE } from './constants.js'
import type { GossipStore } from './types.js'
import type { FramedStream } from './framed.js'

/** Key hashes named by a send instruction (directly, and everything under its prefixes). */
function selectKeyHashes (store: GossipStore, what: SendInstruction): Uint8Array[] {
  const hashes = new Map<string, Uint8Array>()
  for (const kh of what.keyHashes) hashes.set(toHex(kh), kh)
  for (const p of what.prefixes) {
    for (const e of store.index.entries(p)) hashes.set(toHex(e.keyHash), e.keyHash)
  }
  return [...hashes.values()]
}

/**
 * Sends the named patterns in frames within the size limits, reading the store one
 * batch at a time so a bulk transfer never holds the whole set in memory.
 * Returns how many patterns were sent.
 */
export async function sendPatterns (out: FramedStream, store: GossipStore, what: SendInstruction, push = false): Promise<number> {
  const hashes = selectKeyHashes(store, what)
  let sent = 0
  for (let i = 0; i < hashes.length; i += MAX_PATTERNS_PER_MESSAGE) {
    const encoded: Uint8Array[] = []
    for (const kh of hashes.slice(i, i + MAX_PATTERNS_PER_MESSAGE)) {
      const enc = await store.getEncoded(kh)
      if (enc !== undefined) encoded.push(enc)
    }
    for (const batch of batchEncodedPatterns(encoded)) {
      await out.writeRaw(encodePatternsFrame(batch, push))
      sent += batch.length
    }
  }
  return sent
}
