/** Real libp2p nodes on 127.0.0.1 with short discovery intervals, for the node tests. */
import '../../src/node/polyfill.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { GOSSIP_PROTOCOL } from '../../src/gossip/constants.js'
import { createEngramLibp2p } from '../../src/node/libp2p.js'
import type { EngramLibp2p, EngramLibp2pOptions } from '../../src/node/libp2p.js'
import type { PrivateKey } from '@libp2p/interface'

export const LOOPBACK = '/ip4/127.0.0.1/tcp/0'

export interface TestNodeOptions extends Partial<EngramLibp2pOptions> {
  /** Register a (do-nothing) GOSSIP_PROTOCOL handler before start. Default true. */
  gossip?: boolean
  join?: string[]
}

/** Discovery tuned for tests: rounds every ~300 ms, short timeouts. */
export const FAST_DISCOVERY = {
  interval: 300,
  provideInterval: 1500,
  lookupTimeout: 3000,
  dialTimeout: 3000,
  saveInterval: 1000
}

export async function startTestNode (opts: TestNodeOptions = {}): Promise<EngramLibp2p> {
  const { gossip, join, ...rest } = opts
  const privateKey: PrivateKey = opts.privateKey ?? await generateKeyPair('Ed25519')
  const node = await createEngramLibp2p({
    listen: [LOOPBACK],
    ...rest,
    privateKey,
    mdns: false,
    dht: { initialQuerySelfInterval: 100, ...opts.dht },
    discovery: { ...FAST_DISCOVERY, join, ...opts.discovery },
    start: false
  })
  if (gossip !== false) {
    // registered before start so the first identify already advertises it
    await node.handle(GOSSIP_PROTOCOL, (stream) => { void stream.close() })
  }
  try {
    await node.start()
  } catch (err) {
    await node.stop().catch(() => {})
    throw err
  }
  return node
}

export function addrOf (node: EngramLibp2p): string {
  const ma = node.getMultiaddrs()[0]
  if (ma == null) throw new Error('node has no listen address')
  return ma.toString()
}

export async function stopAll (nodes: Array<EngramLibp2p | undefined>): Promise<void> {
  await Promise.allSettled(nodes.map(async n => { await n?.stop() }))
}
