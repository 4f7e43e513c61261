/**
 * Who we gossip with: connected peers that told us (through identify) they speak the gossip
 * protocol. A peer without it is never a gossip peer, whatever else it speaks.
 */
import '../../src/node/polyfill.js'
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import type { Libp2p, PeerId } from '@libp2p/interface'

export type GossipPeerSource = Pick<Libp2p, 'getPeers' | 'peerStore'>

export async function gossipPeers (node: GossipPeerSource, protocol: string = GOSSIP_PROTOCOL): Promise<PeerId[]> {
  const out: PeerId[] = []
  for (const id of node.getPeers()) {
    // a peer connected but not yet identified is simply not (yet) a gossip peer
    const peer = await node.peerStore.get(id).catch(() => undefined)
    if (peer?.protocols.includes(protocol) === true) out.push(id)
  }
  return out
}
