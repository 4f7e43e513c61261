import type { PatternState } from '../core/pattern.js'
import type { WriteVerifier } from '../auth/write-verifier.js'
import type { Replica } from '../store/replica.js'
import type { MergeResult } from '../store/replica.js'
import type { GossipStore, MergeSource, WriteChecks } from './types.js'

/**
 * The node's Replica as the gossip service sees it. Every received state has its writes'
 * signatures checked before it is merged; one naming a forged write, an uncheckable writer or
 * (with a trusted list) another writer is skipped alone, and the rest of the frame lands.
 * `onMerge` sees every merged frame's result.
 */
export function replicaGossipStore (replica: Replica, verifier: WriteVerifier, onMerge?: (result: MergeResult) => void): GossipStore {
  return {
    get index () { return replica.index },
    async getEncoded (keyHash: Uint8Array): Promise<Uint8Array | undefined> {
      return await replica.getEncodedByKeyHash(keyHash)
    },
    async checkWrites (states: readonly PatternState[]) {
      return await verifier.check(states)
    },
    async mergeRemote (states: readonly PatternState[], encoded?: readonly Uint8Array[], keyHashes?: readonly Uint8Array[],
      checked?: Promise<WriteChecks>, source?: MergeSource) {
      const { refused } = await (checked ?? verifier.check(states))
      const keep = (_: unknown, n: number): boolean => refused[n] === undefined
      const all = refused.every(r => r === undefined)
      const result = all
        ? await replica.mergeRemote(states, encoded, keyHashes, source)
        : await replica.mergeRemote(states.filter(keep), encoded?.filter(keep), keyHashes?.filter(keep), source)
      refused.forEach((error, n) => { if (error !== undefined) result.skipped.push({ key: (states[n] as PatternState).key, error }) })
      onMerge?.(result)
      return result
    }
  }
}
