/**
 * A gossip stream as a sequence of decoded messages, with byte counting and a
 * per-message timeout on top of the session's own signal.
 */
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { lpStream, UnexpectedEOFError, type LengthPrefixedStream } from '@libp2p/utils'
import { decodeMessage, encodeMessage } from './codec.js'
import { MAX_FRAME_BYTES, MESSAGE_TIMEOUT_MS } from './constants.js'
import type { GossipMessage } from '../core/reconcile-messages.js'
import { InboundBudgetError, ServiceStoppingError, SessionTimeoutError } from './errors.js'
import type { ByteBudget } from './byte-budget.js'
import { Deadline } from '../utils/deadline.js'

/** a backlog above this holds at least one whole frame (length prefix included) */
const RESUME_BELOW = MAX_FRAME_BYTES + 10

/** unsigned LEB128, the length prefix lpStream reads */
function encodeVarint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 0x80); len++ }
  return len
}

export class FramedStream {
  private readonly lp: LengthPrefixedStream<Stream>
  /** bytes of frames since the last resetCounts() (one session's worth) */
  bytesIn = 0
  bytesOut = 0

  /** bytes the stream handed to lpStream's buffer, and bytes of frames read from it: their difference waits unread */
  private delivered = 0
  private consumed = 0
  /** the stream ended and gave its backlog back to the budget: later reads give nothing */
  private released = false
  /** why this stream was dropped by us, if it was (a read then fails with it) */
  private dropped: InboundBudgetError | undefined
  /** set while a read waits for a frame's first byte: called when bytes come */
  private onBytes: (() => void) | undefined

  /** `budget`: the node-wide count of received, unread bytes this stream's backlog is part of */
  constructor (readonly stream: Stream, private signal: AbortSignal, private readonly messageTimeoutMs = MESSAGE_TIMEOUT_MS,
    private readonly budget?: ByteBudget) {
    this.lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
    stream.addEventListener('message', ev => {
      this.delivered += ev.data.byteLength
      if (budget !== undefined && !budget.take(ev.data.byteLength) && this.dropped === undefined) {
        this.dropped = new InboundBudgetError(`node-wide limit of ${budget.limit} received, unread gossip bytes reached`)
        stream.abort(this.dropped)
      }
      this.onBytes?.()
    })
    // what the stream still held unread when it ended is no longer held
    if (budget !== undefined) {
      stream.addEventListener('close', () => {
        this.released = true
        budget.give(this.delivered - this.consumed)
      }, { once: true })
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
   * our read buffer until it overflows: a slow reader slows the sender down.
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
      // resume only when what waits unread may lack a whole frame: each resume lets the muxer
      // deliver a window's worth more, so resuming per frame let a fast sender overrun lpStream's 4 MiB
      if (this.stream.readStatus === 'paused' && this.delivered - this.consumed <= RESUME_BELOW) this.stream.resume()
      buf = await this.lp.read({ signal: deadline.signal })
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
    if (!this.released) this.budget?.give(frameBytes)
    return decodeMessage(buf.subarray())
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
      // lpStream says UnexpectedEOFError for both; what arrived tells them apart
      if (err instanceof UnexpectedEOFError && this.stream.remoteWriteStatus === 'closed' && this.delivered === this.consumed) return undefined
      throw err
    }
  }

  async write (m: GossipMessage): Promise<void> {
    await this.writeRaw(encodeMessage(m))
  }

  /**
   * Sends one length-prefixed frame. Not through lpStream.write: it waits for drain with
   * p-event, which leaves an abort listener on the signal after every wait (a long transfer
   * piles them up on one session signal); onDrain removes its listener when done.
   */
  async writeRaw (frame: Uint8Array): Promise<void> {
    this.bytesOut += frame.byteLength
    if (!this.stream.send(new Uint8ArrayList(encodeVarint(frame.byteLength), frame))) {
      await this.stream.onDrain({ signal: this.signal })
    }
  }
}
