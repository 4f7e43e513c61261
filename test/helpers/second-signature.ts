/**
 * A second valid Ed25519 signature of a message, as a writer that signs with a nonce of its own
 * choosing can make (RFC 8032 derives the nonce from the key and message, but a check cannot
 * tell): R = rB, S = r + H(R || A || M) a mod L, for a random r. For tests of what a hostile
 * writer can send.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { sodium } from '../../src/auth/sodium.js'

interface SodiumPoint {
  crypto_scalarmult_ed25519_base_noclamp: (out: Uint8Array, n: Uint8Array) => void
}

/** The order of the Ed25519 base point. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n

const toScalar = (b: Uint8Array): bigint => BigInt('0x' + (Buffer.from(b).reverse().toString('hex') || '0'))
function fromScalar (n: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse())
}
const sha512 = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(createHash('sha512').update(Buffer.concat(parts)).digest())

export function secondSignature (key: PrivateKey, message: Uint8Array): Uint8Array {
  const h = sha512(key.raw.subarray(0, 32))
  // the secret scalar: the seed's hash, clamped
  const clamped = h.slice(0, 32)
  clamped[0] = (clamped[0] as number) & 248
  clamped[31] = ((clamped[31] as number) & 127) | 64
  const a = toScalar(clamped)
  const r = toScalar(randomBytes(64)) % L
  const R = new Uint8Array(32)
  ;(sodium as unknown as SodiumPoint).crypto_scalarmult_ed25519_base_noclamp(R, fromScalar(r))
  const k = toScalar(sha512(R, key.publicKey.raw, message)) % L
  return Uint8Array.from([...R, ...fromScalar((r + k * a) % L)])
}
