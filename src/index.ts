/**
 * Engram node as a library:
 *
 *   import { createEngramNode } from 'engram-node'
 *   const node = await createEngramNode({ dataDir: './data', keyFile: 'keys/node.key', join: [addr] })
 *   await node.start()
 *   node.addEventListener('merged', ev => console.log(ev.detail.patterns))
 *   await node.put('topic', { addEpisodes: ['e1'], confidence: 0.8 })
 *   for await (const change of node.changes({ since: 0 })) console.log(change.seq, change.key)
 *
 * Other processes use the node's HTTP API through `engram-node/client` (EngramClient).
 */
import './node/polyfill.js'

export { createEngramNode, EngramNode, type CreateEngramNodeOptions, type EngramNodeOptions } from './node/engram-node.js'
export type {
  BulkWriteResult, ChangeOrigin, ChangeRecord, ChangesOptions,
  EngramNodeEvents, EquivocationInfo, EngramNodePort, RefusedInfo, RefusedReason, NodeCounts, NodeLogger, NodeStatus, OpenReport,
  PatternRecord, PeerInfo, SyncOptions, WriteInfo
} from './node/types.js'
export { InvalidPeerIdError, InvalidSinceError, NoGossipPeersError, PeerNotConnectedError } from './node/errors.js'
export type { RoundReport, SessionOutcome, SessionRole } from './gossip/types.js'
export type { WriteOp, PatternState, PatternView } from './core/pattern.js'
export type { MergeKind } from './core/merge.js'
export type { ListOptions } from './store/level-store.js'
export { generateKeyFile, loadKeyFile, KeyFileMissingError, KeyFileCorruptError, KeyFilePermissionError } from './node/keys.js'
export { generateSwarmKey, writeSwarmKeyFile, readSwarmKeyFile } from './node/swarm-key.js'
export { GOSSIP_PROTOCOL } from './gossip/constants.js'
export { DHT_PROTOCOL } from './discovery/constants.js'
export { InvalidSettingError } from './settings/node-settings.js'
