/**
 * Runs the responder side of a reconciliation session, after its Hello was read.
 */
import type { Logger } from '@libp2p/interface'
import { Responder } from '../core/reconcile.js'
import type { HelloMsg } from '../core/reconcile-messages.js'
import { ProtocolViolationError } from './errors.js'
import type { FramedStream } from './framed.js'
import { mergeFrame } from './merge.js'
import { sendPatterns } from './select.js'
import type { GossipStore, RoundReport, SessionHooks } from './types.js'

export async function runResponder (hello: HelloMsg, io: FramedStream, store: GossipStore, report: RoundReport, log: Logger,
  hooks: SessionHooks): Promise<void> {
  const res = new Responder(store.index)
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
      await mergeFrame(store, msg, report, log, hooks.merged)
      hooks.progress()
      msg = await io.read()
    }
    if (msg.type !== 'request') throw new ProtocolViolationError(`unexpected ${msg.type} from initiator`)
    step = res.onRequest(msg)
    log.trace('request answered: %d children, %d needed', step.reply?.children.length ?? 0, step.reply?.need.length ?? 0)
  }
}
