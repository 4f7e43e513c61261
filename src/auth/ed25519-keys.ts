/**
 * Ed25519 keys: a node's own signer from its libp2p private key, and a writer's raw public key
 * from its node id (an Ed25519 PeerId embeds its public key, so a signed write carries
 * everything needed to check it).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { UnverifiableWriterError } from './errors.js'
import { sodium } from './sodium.js'
import { SIGNATURE_BYTES } from '../core/limits.js'

const SEED_BYTES = 32
const PUBLIC_KEY_BYTES = 32
const SECRET_KEY_BYTES = 64

/**
 * Signs with the node's key (libsodium; Ed25519 signatures are deterministic, so any RFC 8032
 * library makes the same bytes). Only Ed25519 keys write: their PeerIds carry the public key.
 */
export function signerOf (key: PrivateKey): (message: Uint8Array) => Uint8Array {
  if (key.type !== 'Ed25519') throw new UnverifiableWriterError(`a node's key must be Ed25519 to sign writes, not ${key.type}`)
  const publicKey = new Uint8Array(PUBLIC_KEY_BYTES)
  const secretKey = new Uint8Array(SECRET_KEY_BYTES)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, key.raw.subarray(0, SEED_BYTES))
  // a key file whose public half is not its seed's would sign writes no one could check
  if (Buffer.compare(publicKey, key.publicKey.raw) !== 0) throw new UnverifiableWriterError('the node key\'s public key does not match its private key')
  return message => {
    const sig = new Uint8Array(SIGNATURE_BYTES)
    sodium.crypto_sign_detached(sig, message, secretKey)
    return sig
  }
}

/** Decoded public keys of writers, bounded: a hostile peer can name many node ids. */
const MAX_CACHED_KEYS = 4096
const publicKeys = new Map<string, Uint8Array>()

/** The raw 32-byte public key a node id names; throws UnverifiableWriterError if it names none we can check. */
export function publicKeyOf (nodeId: string): Uint8Array {
  const cached = publicKeys.get(nodeId)
  if (cached !== undefined) return cached
  let raw: Uint8Array
  try {
    const id = peerIdFromString(nodeId)
    if (id.type !== 'Ed25519') throw new Error(`a ${id.type} PeerId`)
    raw = id.publicKey.raw
  } catch (err) {
    throw new UnverifiableWriterError(`writer ${JSON.stringify(nodeId.slice(0, 80))} is not an Ed25519 PeerId: ${(err as Error).message}`)
  }
  if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.delete(publicKeys.keys().next().value as string)
  publicKeys.set(nodeId, raw)
  return raw
}
