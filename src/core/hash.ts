/** SHA-256 as the core uses it: state digests, key hashes, write messages. */
import crypto, { createHash } from 'node:crypto'
import { utf8 } from './bytes.js'

export const DIGEST_BYTES = 32

/** One-shot SHA-256 (Node >= 20.12): no Hash object per call; hashing is most of a merge's CPU. */
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash
const oneShotText = (crypto as { hash?: (alg: string, data: string, enc: 'buffer') => Buffer }).hash

export function sha256 (...parts: Uint8Array[]): Uint8Array {
  if (oneShot !== undefined && parts.length === 1) {
    const d = oneShot('sha256', parts[0] as Uint8Array, 'buffer')
    // a plain Uint8Array view: callers rely on slice() copying, which a Buffer's does not
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
  }
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** SHA-256 of a string's UTF-8 bytes. */
export function sha256Text (text: string): Uint8Array {
  // the one-shot hash encodes the string itself (as TextEncoder does, lone surrogates as U+FFFD)
  if (oneShotText !== undefined) {
    const d = oneShotText('sha256', text, 'buffer')
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
  }
  return sha256(utf8(text))
}

/** Position of a pattern in the Merkle index: the hash of its key, never its insertion order. */
export function keyHash (key: string): Uint8Array {
  return sha256Text(key)
}
