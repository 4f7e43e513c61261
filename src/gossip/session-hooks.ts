/**
 * What a running session reports back: merged news at once, progress (events and log lines)
 * throttled, so a 100k-pattern transfer does not flood listeners or the log.
 */
import type { Logger, PeerId } from '@libp2p/interface'
import type { EncodedPattern } from '../core/encoded-pattern.js'
import type { FramedStream } from './framed.js'
import type { RoundReport, SessionHooks } from './types.js'

/** progress events at most this often */
const PROGRESS_EVENT_MS = 200
/** a long transfer logs its progress this often */
const PROGRESS_LOG_MS = 5000

export function sessionHooks (report: RoundReport, io: FramedStream, peer: PeerId, log: Logger,
  on: { merged: (changed: EncodedPattern[]) => void, progress: (snapshot: RoundReport) => void }): SessionHooks {
  let lastEvent = 0
  let lastLog = Date.now()
  return {
    merged: on.merged,
    progress: () => {
      const now = Date.now()
      if (now - lastEvent < PROGRESS_EVENT_MS) return
      lastEvent = now
      report.bytesIn = io.bytesIn
      report.bytesOut = io.bytesOut
      report.ms = now - report.startedAt
      on.progress({ ...report })
      if (now - lastLog >= PROGRESS_LOG_MS) {
        lastLog = now
        const secs = report.ms / 1000
        log('%s session with %p: %d patterns in, %d out, %d KiB in, %d KiB out, %d patterns/s',
          report.role, peer, report.patternsIn, report.patternsOut, Math.round(io.bytesIn / 1024), Math.round(io.bytesOut / 1024),
          Math.round((report.patternsIn + report.patternsOut) / Math.max(secs, 0.001)))
      }
    }
  }
}
