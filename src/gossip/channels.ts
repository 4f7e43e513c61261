/**
 * Outbound gossip streams kept open between sessions: at most one idle stream per peer.
 * A session or push takes the peer's idle stream (or opens a new one) and gives it back
 * when it ended cleanly; a stream that failed, or one beyond the first idle one, is closed.
 */
import type { Logger, PeerId, Stream } from '@libp2p/interface'
import { FramedStream } from './framed.js'
import type { ByteBudget } from './byte-budget.js'

const CLOSE_TIMEOUT_MS = 5000

interface Idle {
  io: FramedStream
  timer: ReturnType<typeof setTimeout>
  onClose: () => void
}

export interface ChannelsInit {
  open: (peer: PeerId, signal: AbortSignal) => Promise<Stream>
  idleMs: number
  messageTimeoutMs: number
  /** node-wide count of received, unread bytes */
  budget?: ByteBudget
  log: Logger
}

export class OutboundChannels {
  private readonly idle = new Map<string, Idle>()
  private stopped = false

  constructor (private readonly init: ChannelsInit) {}

  /** The peer's idle stream if it is still open both ways, else a new stream. */
  async acquire (peer: PeerId, signal: AbortSignal): Promise<{ io: FramedStream, reused: boolean }> {
    const held = this.take(peer.toString())
    if (held !== undefined) {
      if (held.reusable) {
        held.useSignal(signal)
        held.resetCounts()
        return { io: held, reused: true }
      }
      held.stream.abort(new Error('gossip stream no longer open both ways'))
    }
    const stream = await this.init.open(peer, signal)
    return { io: new FramedStream(stream, signal, this.init.messageTimeoutMs, this.init.budget), reused: false }
  }

  /** Back after a session or push that ended cleanly: kept for the next one, or closed. */
  release (peer: PeerId, io: FramedStream): void {
    const key = peer.toString()
    if (this.stopped || !io.reusable || this.idle.has(key)) {
      close(io)
      return
    }
    const onClose = (): void => { if (this.idle.get(key)?.io === io) this.drop(key) }
    const timer = setTimeout(() => {
      this.drop(key)
      close(io)
    }, this.init.idleMs)
    timer.unref?.()
    io.stream.addEventListener('close', onClose, { once: true })
    this.idle.set(key, { io, timer, onClose })
  }

  /** Closes the idle streams (a clean end the peer reads as a goodbye, not a reset). */
  stop (): void {
    this.stopped = true
    for (const key of [...this.idle.keys()]) {
      const io = this.take(key)
      if (io !== undefined) close(io)
    }
  }

  private take (key: string): FramedStream | undefined {
    const held = this.idle.get(key)
    if (held === undefined) return undefined
    this.drop(key)
    return held.io
  }

  private drop (key: string): void {
    const held = this.idle.get(key)
    if (held === undefined) return
    clearTimeout(held.timer)
    held.io.stream.removeEventListener('close', held.onClose)
    this.idle.delete(key)
  }
}

function close (io: FramedStream): void {
  io.stream.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }).catch((err: Error) => { io.stream.abort(err) })
}
