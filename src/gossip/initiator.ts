/**
 * Runs the initiator side of a reconciliation session over an open stream:
 * carries the sans-IO Initiator's messages, sends and merges patterns.
 */
import type { Logger } from '@libp2p/interface'
import { Initiator } from '../core/reconcile.js'
import { keyHash } from '../core/encoding.js'
import { ProtocolViolationError } from './errors.js'
import type { FramedStream } from './framed.js'
import { FrameMerger } from './merge.js'
import { sendPatterns } from './select.js'
import type { GossipStore, RoundReport, SessionHooks } from './types.js'

export async function runInitiator (io: FramedStream, store: GossipStore, report: RoundReport, log: Logger,
  hooks: SessionHooks): Promise<{ busy: boolean, retryAfterMs?: number }> {
  const ini = new Initiator(store.index)
  const merger = new FrameMerger(store, report, log, hooks.merged)
  await io.write(ini.hello())
  while (!ini.done) {
    const msg = await io.read()
    if (msg.type === 'patterns') {
      if (msg.push) throw new ProtocolViolationError('push frame inside a session')
      // the whole frame is checked before any of it is merged: an unsolicited pattern stores nothing
      const keyHashes = msg.patterns.map(s => {
        const kh = keyHash(s.key)
        if (!ini.expectsPattern(kh)) throw new ProtocolViolationError(`unsolicited pattern ${JSON.stringify(s.key)}`)
        return kh
      })
      await merger.add(msg, keyHashes)
      hooks.progress()
      continue
    }
    if (msg.type !== 'reply') throw new ProtocolViolationError(`unexpected ${msg.type} from responder`)
    // the next step reads our index: everything received before this reply is merged first
    await merger.drain()
    const step = ini.onReply(msg)
    if (report.roundTrips === 0) report.rootsEqual = msg.inSync
    report.roundTrips = ini.roundTrips
    report.patternsOut += await sendPatterns(io, store, step.push)
    hooks.progress()
    if (step.request !== undefined) await io.write(step.request)
    log.trace('round trip %d: push %d, request %s', ini.roundTrips, report.patternsOut, step.done ? 'done' : 'more')
  }
  // the last reply (inSync, busy or end) closed the session for both; the stream stays open for the next
  return ini.retryAfterMs !== undefined ? { busy: ini.busy, retryAfterMs: ini.retryAfterMs } : { busy: ini.busy }
}
