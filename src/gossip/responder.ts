/**
 * Runs the responder side of a reconciliation session, after its Hello was read.
 */
import type { Logger } from '@libp2p/interface'
import { Responder } from '../core/reconcile-responder.js'
import type { HelloMsg } from '../core/reconcile-messages.js'
import { ProtocolViolationError } from './errors.js'
import type { FramedStream } from './framed.js'
import { FrameMerger } from './merge.js'
import { sendPatterns } from './select.js'
import type { GossipStore, RoundReport, SessionHooks } from './types.js'

export async function runResponder (hello: HelloMsg, io: FramedStream, store: GossipStore, report: RoundReport, log: Logger,
  hooks: SessionHooks): Promise<void> {
  const res = new Responder(store.index)
  const merger = new FrameMerger(store, report, log, hooks.merged)
  let step = res.onHello(hello)
  report.rootsEqual = step.done
  for (;;) {
    report.patternsOut += await sendPatterns(io, store, step.send)
    hooks.progress()
    if (step.reply !== undefined) {
      await io.write(step.reply)
      if (step.reply.end !== true) report.roundTrips++
    }
    if (step.done) return
    let msg = await io.read()
    while (msg.type === 'patterns') {
      if (msg.push || !res.acceptsPatterns()) throw new ProtocolViolationError('patterns out of order')
      await merger.add(msg)
      hooks.progress()
      msg = await io.read()
    }
    // the answer reads our index (and `end` promises everything is merged): merge what came first
    await merger.drain()
    if (msg.type !== 'request') throw new ProtocolViolationError(`unexpected ${msg.type} from initiator`)
    step = res.onRequest(msg)
    log.trace('request answered: %d children, %d needed', step.reply?.children.length ?? 0, step.reply?.need.length ?? 0)
  }
}
