/**
 * A gossip stream as a sequence of decoded messages (frames cut by frame-buffer.ts), with byte counting and a
 * per-message timeout on top of the session's own signal.
 */
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { UnexpectedEOFError } from '@libp2p/utils'
import { decodeMessage, encodeMessage } from './codec.js'
import { MAX_FRAME_BYTES, MAX_UNSENT_BYTES, MESSAGE_TIMEOUT_MS } from './constants.js'
import { untilUnsentBelow } from './write-limit.js'
import type { GossipMessage } from '../core/reconcile-messages.js'
import { InboundBudgetError, ServiceStoppingError, SessionTimeoutError } from './errors.js'
import type { ByteBudget } from './byte-budget.js'
import { Deadline } from '../utils/deadline.js'
import { FrameBuffer, encodeVarint, varintLength } from './frame-buffer.js'

/** a backlog above this holds at least one whole frame (length prefix included) */
const RESUME_BELOW = MAX_FRAME_BYTES + 10
/**
 * unread bytes one stream may hold: a paused stream gets at most a muxer window more than
 * RESUME_BELOW, so only a muxer that ignores its own flow control goes past this
 */
const MAX_BACKLOG = 4 * 1024 * 1024

export class FramedStream {
  private readonly frames = new FrameBuffer(MAX_FRAME_BYTES)
  /** set while a read waits for bytes or the end: called when either comes */
  private wake: (() => void) | undefined
  /** the stream ended (an error if it was reset or aborted) and gave its backlog back to the budget: later reads give nothing back */
  private ended = false
  private endError: Error | undefined
  /** bytes of frames since the last resetCounts() (one session's worth) */
  bytesIn = 0
  bytesOut = 0

  /** bytes the stream handed us, and bytes of frames read from them: their difference waits unread */
  private delivered = 0
  private consumed = 0
  /** why this stream was dropped by us, if it was (a read then fails with it) */
  private dropped: InboundBudgetError | undefined
  /** set while a read waits for a frame's first byte: called when bytes come */
  private onBytes: (() => void) | undefined

  /** `budget`: the node-wide count of received, unread bytes this stream's backlog is part of */
  constructor (readonly stream: Stream, private signal: AbortSignal, private readonly messageTimeoutMs = MESSAGE_TIMEOUT_MS,
    private readonly budget?: ByteBudget) {
    stream.addEventListener('message', ev => {
      if (this.dropped !== undefined) return
      this.delivered += ev.data.byteLength
      this.frames.append(ev.data)
      if (budget !== undefined && !budget.take(ev.data.byteLength)) {
        this.drop(new InboundBudgetError(`node-wide limit of ${budget.limit} received, unread gossip bytes reached`))
      } else if (this.frames.byteLength > MAX_BACKLOG) {
        this.drop(new InboundBudgetError(`more than ${MAX_BACKLOG} unread bytes on one stream`))
      }
      this.onBytes?.()
      this.wake?.()
    })
    stream.addEventListener('remoteCloseWrite', () => { this.wake?.() })
    stream.addEventListener('close', ev => {
      this.ended = true
      this.endError = ev.error
      // what the stream still held unread when it ended is no longer held
      budget?.give(this.delivered - this.consumed)
      this.wake?.()
    }, { once: true })
  }

  private drop (err: InboundBudgetError): void {
    this.dropped = err
    this.stream.abort(err)
  }

  /** Resolves when bytes come or the stream ends; rejects when `signal` aborts first. */
  private async moreBytes (signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw signal.reason
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { this.wake = undefined; reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      this.wake = () => {
        this.wake = undefined
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
    })
  }

  /** The next whole frame: waits for its bytes until the deadline; the end of the stream before it is an UnexpectedEOFError. */
  private async nextFrame (signal: AbortSignal): Promise<Uint8Array> {
    for (;;) {
      if (this.dropped !== undefined) throw this.dropped
      // resume whenever what waits unread may lack a whole next frame, even while one is here, so
      // the sender keeps sending while we merge; resuming hands on at once what waited in the
      // muxer. Not beyond that: each resume lets the muxer deliver a window's worth more
      if (this.stream.readStatus === 'paused' && this.delivered - this.consumed <= RESUME_BELOW) this.stream.resume()
      const frame = this.frames.take()
      if (frame !== undefined) return frame
      if (this.endError !== undefined) throw this.endError
      if (this.ended || this.stream.remoteWriteStatus !== 'writable') {
        throw new UnexpectedEOFError(`stream ended with ${this.frames.byteLength} byte(s) of a frame unread`)
      }
      await this.moreBytes(signal)
    }
  }

  /** A stream carries sessions one after another: each brings its own signal (and timeout). */
  useSignal (signal: AbortSignal): void {
    this.signal = signal
  }

  resetCounts (): void {
    this.bytesIn = 0
    this.bytesOut = 0
  }

  /** Part of a next frame came and waits unread. */
  get midFrame (): boolean {
    return this.delivered > this.consumed
  }

  /** Open both ways, so another session may run on it. */
  get reusable (): boolean {
    const s = this.stream
    return s.status === 'open' && s.writeStatus === 'writable' && s.remoteWriteStatus === 'writable' &&
      (s.readStatus === 'readable' || s.readStatus === 'paused')
  }

  /**
   * Reads one frame. The stream is paused between reads, so while we merge and store a
   * frame the peer's data waits in the muxer (its window runs out) instead of piling up in
   * our buffer (bounded: MAX_BACKLOG): a slow reader slows the sender down.
   *
   * `timeoutMs` bounds the wait for the frame's first byte (a kept stream may idle long
   * between sessions); from that byte on the frame has the message timeout, so a peer cannot
   * hold a half-sent frame (and our buffer) open for the whole idle time.
   */
  async read (timeoutMs = this.messageTimeoutMs): Promise<GossipMessage> {
    // a Deadline, not AbortSignal.any + AbortSignal.timeout: those leave a dependant on the
    // session signal per read on Node 20 and a timer that fires (and builds an error) after the read
    const session = this.signal
    const started = this.midFrame
    const deadline = new Deadline(started ? Math.min(timeoutMs, this.messageTimeoutMs) : timeoutMs, session)
    if (!started && timeoutMs > this.messageTimeoutMs) {
      this.onBytes = () => {
        this.onBytes = undefined
        deadline.shorten(this.messageTimeoutMs)
      }
    }
    let buf
    try {
      buf = await this.nextFrame(deadline.signal)
    } catch (err: any) {
      if (session.aborted && session.reason instanceof ServiceStoppingError) throw session.reason
      if (this.dropped !== undefined) throw this.dropped
      if (deadline.signal.aborted) {
        throw new SessionTimeoutError(session.aborted ? 'session timed out' : this.midFrame ? 'frame not completed in time' : 'no message from peer in time')
      }
      throw err
    } finally {
      this.onBytes = undefined
      deadline.dispose()
    }
    if (this.stream.readStatus === 'readable') this.stream.pause()
    this.bytesIn += buf.byteLength
    const frameBytes = buf.byteLength + varintLength(buf.byteLength)
    this.consumed += frameBytes
    if (!this.ended) this.budget?.give(frameBytes)
    return decodeMessage(buf)
  }

  /**
   * Like read, but undefined when the peer closed its side cleanly between frames: its write
   * side is closed and not one byte of a next frame came (a frame cut off, even inside its
   * length prefix, is an error). test/gossip/robustness covers both.
   */
  async readOrEnd (timeoutMs?: number): Promise<GossipMessage | undefined> {
    try {
      return await this.read(timeoutMs)
    } catch (err) {
      // both end in UnexpectedEOFError; what arrived tells them apart
      if (err instanceof UnexpectedEOFError && this.stream.remoteWriteStatus === 'closed' && this.delivered === this.consumed) return undefined
      throw err
    }
  }

  async write (m: GossipMessage): Promise<void> {
    await this.writeRaw(encodeMessage(m))
  }

  /**
   * Sends one length-prefixed frame, then waits while the stream holds more than
   * MAX_UNSENT_BYTES unsent (write-limit.ts). Not through lpStream.write: its wait for drain
   * leaves an abort listener on the signal after every wait (a long transfer piles them up on
   * one session signal).
   */
  async writeRaw (frame: Uint8Array): Promise<void> {
    this.bytesOut += frame.byteLength
    this.stream.send(new Uint8ArrayList(encodeVarint(frame.byteLength), frame))
    await untilUnsentBelow(this.stream, MAX_UNSENT_BYTES, this.signal)
  }
}
