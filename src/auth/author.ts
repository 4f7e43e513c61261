/** This node as a writer: its node id and a signer with its libp2p key. */
import { sign } from 'node:crypto'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Author } from '../core/pattern.js'
import { signingKeyOf } from './ed25519-keys.js'

export function authorOf (peerId: PeerId, key: PrivateKey): Author {
  const signingKey = signingKeyOf(key)
  return {
    node: peerId.toString(),
    sign: message => new Uint8Array(sign(null, message, signingKey))
  }
}
