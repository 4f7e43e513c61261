/**
 * The node's parts, for tests and benchmarks only (to hang up a connection, read the store
 * directly, look at the gossip service's round log). The API, the metrics and the CLI must not
 * use it: they see the node only through EngramNodePort (test/node/import-graph.test.ts checks).
 *
 * A module-private WeakMap rather than public fields: holding an EngramNode gives no way in
 * unless this module is imported on purpose.
 */
import type { Replica } from '../store/replica.js'
import type { GossipService } from '../gossip/service.js'
import type { EngramLibp2p } from './libp2p.js'
import type { EngramNode } from './engram-node.js'

export interface NodeInternals {
  replica: Replica
  libp2p: EngramLibp2p<{ gossip: GossipService }>
  gossip: GossipService
}

const parts = new WeakMap<EngramNode, NodeInternals>()

/** Called by EngramNode's constructor only. */
export function registerInternals (node: EngramNode, internals: NodeInternals): void {
  parts.set(node, internals)
}

/** For tests and benchmarks only; see the module comment. */
export function internalsOf (node: EngramNode): NodeInternals {
  const found = parts.get(node)
  if (found === undefined) throw new TypeError('not an EngramNode built by EngramNode.create')
  return found
}
