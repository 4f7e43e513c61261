/**
 * Ed25519 keys: a node's own signing key (a node:crypto KeyObject) from its libp2p private
 * key, and a writer's raw public key from its node id (an Ed25519 PeerId embeds its public
 * key, so a signed write carries everything needed to check it).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { UnverifiableWriterError } from './errors.js'

// DER prefix of PKCS#8 for Ed25519 (RFC 8410), before the 32 raw key bytes
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** The node's signing key. Only Ed25519 keys write: their PeerIds carry the public key. */
export function signingKeyOf (key: PrivateKey): KeyObject {
  if (key.type !== 'Ed25519') throw new UnverifiableWriterError(`a node's key must be Ed25519 to sign writes, not ${key.type}`)
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, key.raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
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
