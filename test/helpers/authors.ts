/**
 * Writers for tests. `author(id)` signs with a stand-in (a hash of the message): core and
 * store tests check the CRDT, not signatures, and use short ids like 'a'. `realAuthor()`
 * is a real Ed25519 writer (a PeerId id), for tests that go through signature checks.
 */
import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { authorOf } from '../../src/auth/author.js'
import type { Author } from '../../src/core/pattern.js'

const stand = new Map<string, Author>()

export function author (node: string): Author {
  let a = stand.get(node)
  if (a === undefined) {
    a = {
      node,
      sign: (message: Uint8Array) => {
        const h = createHash('sha512').update(node).update(message).digest()
        return new Uint8Array(h)
      }
    }
    stand.set(node, a)
  }
  return a
}

export async function realAuthor (): Promise<Author & { privateKey: PrivateKey }> {
  const privateKey = await generateKeyPair('Ed25519')
  return { ...authorOf(peerIdFromPrivateKey(privateKey), privateKey), privateKey }
}
