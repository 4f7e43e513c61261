/** How EngramNode.syncNow picks its peer, and the named errors when there is none (no network). */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { chooseSyncPeer } from '../../src/node/peers.js'
import { InvalidPeerIdError, NoGossipPeersError, PeerNotConnectedError } from '../../src/node/errors.js'

const newPeer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

describe('chooseSyncPeer', () => {
  it('takes the named gossip peer, by string or PeerId, or a random one', async () => {
    const [a, b] = [await newPeer(), await newPeer()]
    assert.ok(chooseSyncPeer(b.toString(), [a, b]).equals(b))
    assert.ok(chooseSyncPeer(a, [a, b]).equals(a))
    assert.ok(chooseSyncPeer(undefined, [a, b], () => 0.99).equals(b))
    assert.ok(chooseSyncPeer(undefined, [a, b], () => 0).equals(a))
  })

  it('names why there is no peer to sync with', async () => {
    const [a, stranger] = [await newPeer(), await newPeer()]
    assert.throws(() => chooseSyncPeer(undefined, []), NoGossipPeersError)
    assert.throws(() => chooseSyncPeer('not-a-peer-id', [a]), (err: unknown) =>
      err instanceof InvalidPeerIdError && err.peer === 'not-a-peer-id' && err.name === 'InvalidPeerIdError')
    assert.throws(() => chooseSyncPeer(stranger.toString(), [a]), (err: unknown) =>
      err instanceof PeerNotConnectedError && err.peer === stranger.toString() && err.gossipPeers === 1)
    assert.throws(() => chooseSyncPeer(stranger, []), PeerNotConnectedError)
  })
})
