/**
 * Waiting until a stream has sent what it was given, down to a limit. Not `stream.onDrain()`:
 * in @libp2p/utils 7 its promise is made once per stream and never renewed, so after the first
 * drain it resolves at once; a bulk sender then outruns a slow reader without bound (the backlog
 * piles up in the stream's write buffer) and never yields the event loop. A 'drain' event only
 * says the connection or the muxer window can take more, so the buffer is measured again after
 * each one.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { StreamStateError, type Stream } from '@libp2p/interface'

/** Resolves once `stream` holds at most `limit` unsent bytes; rejects when it closes or `signal` aborts first. */
export async function untilUnsentBelow (stream: Stream, limit: number, signal: AbortSignal): Promise<void> {
  while (stream.writeBufferLength > limit) {
    if (signal.aborted) throw signal.reason
    if (stream.status !== 'open') throw new StreamStateError(`stream is ${stream.status} with ${stream.writeBufferLength} bytes unsent`)
    // not blocked: the stream sends its buffer from a queued task
    if (!stream.writableNeedsDrain) await nextTurn()
    else await nextDrain(stream, signal)
  }
}

/** The stream's next 'drain' or 'close' event, listeners removed whichever comes first. */
async function nextDrain (stream: Stream, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (err?: unknown): void => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onDrain = (): void => { done() }
    const onClose = (): void => { done(new StreamStateError('stream closed while waiting to send')) }
    const onAbort = (): void => { done(signal.reason) }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    signal.addEventListener('abort', onAbort)
  })
}
