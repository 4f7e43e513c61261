/** This node as a writer: its node id and a signer with its libp2p key. */
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Author } from '../core/pattern.js'
import { signerOf } from './ed25519-keys.js'

export function authorOf (peerId: PeerId, key: PrivateKey): Author {
  return { node: peerId.toString(), sign: signerOf(key) }
}
