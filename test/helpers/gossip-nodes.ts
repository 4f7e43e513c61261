/** Real nodes with gossip + a real Replica in a temp dir, for gossip tests. */
import '../../src/node/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createEngramLibp2p, type EngramLibp2p } from '../../src/node/libp2p.js'
import { gossip, type GossipService, type GossipInit } from '../../src/gossip/service.js'
import { replicaGossipStore } from '../../src/gossip/replica-store.js'
import { Replica } from '../../src/store/replica.js'
import { FAST_DISCOVERY, LOOPBACK } from './nodes.js'
import { authorOf } from '../../src/auth/author.js'
import type { Author } from '../../src/core/pattern.js'
import { WriteVerifier } from '../../src/auth/write-verifier.js'

export interface GossipNode {
  libp2p: EngramLibp2p<{ gossip: GossipService }>
  replica: Replica
  gossip: GossipService
  dir: string
  id: string
  /** this node as a writer: signs with its key */
  author: Author
  addr: string
  stop(): Promise<void>
}

export async function startGossipNode (opts: { join?: string[], gossip?: Partial<Omit<GossipInit, 'store'>> } = {}): Promise<GossipNode> {
  const dir = await mkdtemp(join(tmpdir(), 'engram-gossip-'))
  const privateKey = await generateKeyPair('Ed25519')
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  const peerId = peerIdFromPrivateKey(privateKey)
  const id = peerId.toString()
  const writer = authorOf(peerId, privateKey)
  const replica = await Replica.open({ dir: join(dir, 'store'), author: writer })
  const verifier = new WriteVerifier(id)
  const store = replicaGossipStore(replica, verifier)
  const libp2p = await createEngramLibp2p({
    privateKey,
    listen: [LOOPBACK],
    mdns: false,
    dht: { initialQuerySelfInterval: 100 },
    discovery: { ...FAST_DISCOVERY, join: opts.join },
    services: { gossip: gossip({ store, intervalMs: 0, fanout: 0, connectSync: { enabled: false }, ...opts.gossip }) }
  })
  const node: GossipNode = {
    libp2p,
    replica,
    gossip: libp2p.services.gossip,
    dir,
    id,
    author: writer,
    addr: libp2p.getMultiaddrs()[0]!.toString(),
    async stop () {
      await Promise.resolve(libp2p.stop()).catch(() => {})
      verifier.close()
      await replica.close().catch(() => {})
      await rm(dir, { recursive: true, force: true })
    }
  }
  replica.onChange(ev => { if (ev.origin === 'local') node.gossip.pushLocal(ev.patterns) })
  return node
}
