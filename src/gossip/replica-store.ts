import type { PatternState } from '../core/pattern.js'
import type { Replica } from '../store/replica.js'
import type { MergeResult } from '../store/replica.js'
import type { GossipStore } from './types.js'

/** The node's Replica as the gossip service sees it; `onMerge` sees every merged frame's result. */
export function replicaGossipStore (replica: Replica, onMerge?: (result: MergeResult) => void): GossipStore {
  return {
    get index () { return replica.index },
    async getEncoded (keyHash: Uint8Array): Promise<Uint8Array | undefined> {
      return await replica.getEncodedByKeyHash(keyHash)
    },
    async mergeRemote (states: readonly PatternState[], encoded?: readonly Uint8Array[], keyHashes?: readonly Uint8Array[]) {
      const result = await replica.mergeRemote(states, encoded, keyHashes)
      onMerge?.(result)
      return result
    }
  }
}
