/**
 * The step every received Patterns frame takes, in a session (either role) or as a push:
 * merge into the store, count it in the report, hand on what changed our state.
 */
import type { EncodedPattern } from '../core/encoded-pattern.js'
import type { PatternsMsg } from '../core/reconcile-messages.js'
import type { GossipStore, RoundReport } from './types.js'

/** keyHashes[i], if given, is keyHash(msg.patterns[i]) (the initiator has them from its checks) */
export async function mergeFrame (store: GossipStore, msg: PatternsMsg, report: RoundReport, merged: (changed: EncodedPattern[]) => void,
  keyHashes?: readonly Uint8Array[]): Promise<void> {
  const { changed } = await store.mergeRemote(msg.patterns, msg.encoded, keyHashes)
  report.patternsIn += msg.patterns.length
  report.patternsChanged += changed.length
  if (changed.length > 0) merged(changed)
}
