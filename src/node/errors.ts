/**
 * Why `syncNow` cannot start a round. Each is thrown before anything goes on the wire, so a
 * caller (the API) can answer with a plain error rather than a failed round.
 */

/** No peer was named and no gossip peer is connected: nothing to sync with yet. */
export class NoGossipPeersError extends Error {
  override name = 'NoGossipPeersError'
  constructor (message = 'no gossip peer is connected') {
    super(message)
  }
}

/** The named peer is not a connected gossip peer (unknown, gone, or not speaking gossip). */
export class PeerNotConnectedError extends Error {
  override name = 'PeerNotConnectedError'
  /**
   * @param peer - the PeerId asked for
   * @param gossipPeers - how many gossip peers are connected (so the message can say)
   */
  constructor (readonly peer: string, readonly gossipPeers: number) {
    super(`peer ${peer} is not a connected gossip peer (connected gossip peers: ${gossipPeers})`)
  }
}

/** The named peer is not a PeerId at all. */
export class InvalidPeerIdError extends Error {
  override name = 'InvalidPeerIdError'
  constructor (readonly peer: string) {
    super(`"${peer}" is not a valid PeerId (expected one like 12D3KooW...)`)
  }
}

/** A change feed's `since` that is not a seq this node handed out. */
export class InvalidSinceError extends Error {
  override name = 'InvalidSinceError'
}

/** The node was created with `changeFeed: false`: it keeps no feed to read. */
export class FeedDisabledError extends Error {
  override name = 'FeedDisabledError'
}
