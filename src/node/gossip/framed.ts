/**
 * A gossip stream as a sequence of decoded messages, with byte counting and a
 * per-message timeout on top of the session's own signal.
 */
import type { Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { decodeMessage, encodeMessage } from '../../protocol/codec.js'
import { MAX_FRAME_BYTES, MESSAGE_TIMEOUT_MS } from '../../protocol/constants.js'
import type { GossipMessage } from '../../core/reconcile-messages.js'
import { SessionTimeoutError } from '../../protocol/errors.js'

export class FramedStream {
  private readonly lp: LengthPrefixedStream<Stream>
  /** bytes of frames since the last resetCounts() (one session's worth) */
  bytesIn = 0
  bytesOut = 0

  constructor (readonly stream: Stream, private signal: AbortSignal, private readonly messageTimeoutMs = MESSAGE_TIMEOUT_MS) {
    this.lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
  }

  /** A stream carries sessions one after another: each brings its own signal (and timeout). */
  useSignal (signal: AbortSignal): void {
    this.signal = signal
  }

  resetCounts (): void {
    this.bytesIn = 0
    this.bytesOut = 0
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
   */
  async read (timeoutMs = this.messageTimeoutMs): Promise<GossipMessage> {
    const signal = AbortSignal.any([this.signal, AbortSignal.timeout(timeoutMs)])
    let buf
    try {
      if (this.stream.readStatus === 'paused') this.stream.resume()
      buf = await this.lp.read({ signal })
    } catch (err: any) {
      if (signal.aborted) throw new SessionTimeoutError(this.signal.aborted ? 'session timed out' : 'no message from peer in time')
      throw err
    }
    if (this.stream.readStatus === 'readable') this.stream.pause()
    this.bytesIn += buf.byteLength
    return decodeMessage(buf.subarray())
  }

  /** Like read, but undefined when the peer closed its side cleanly between frames. */
  async readOrEnd (timeoutMs?: number): Promise<GossipMessage | undefined> {
    try {
      return await this.read(timeoutMs)
    } catch (err: any) {
      // lpStream reports both a clean end and a cut-off frame as UnexpectedEOFError; only the
      // former ends before the first length byte ("0/1 bytes"); test/gossip/robustness covers both
      if (err?.name === 'UnexpectedEOFError' && /\b0\/1 bytes\b/.test(String(err.message))) return undefined
      throw err
    }
  }

  async write (m: GossipMessage): Promise<void> {
    await this.writeRaw(encodeMessage(m))
  }

  async writeRaw (frame: Uint8Array): Promise<void> {
    this.bytesOut += frame.byteLength
    await this.lp.write(frame, { signal: this.signal })
  }
}
