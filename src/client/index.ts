/**
 * `engram-node/client`: a typed client of a running node's local HTTP API, for applications
 * in other processes. It loads nothing of the node itself (no libp2p, no LevelDB).
 */
export { EngramClient, type EngramClientOptions, type ListQuery, type PutBody, type SyncCallOptions, type WatchCallOptions } from './engram-client.js'
export { EngramApiError, EngramConnectionError, EngramTimeoutError } from './errors.js'
export type {
  BulkWriteResult, ChangeOrigin, ChangeRecord, NodeStatus, PatternRecord, PeerInfo, RoundReport
} from '../node/types.js'
