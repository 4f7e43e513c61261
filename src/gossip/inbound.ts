/**
 * Inbound gossip streams: admission (at most maxSessionsPerPeer streams per peer), then
 * sessions and push frames one after another until the peer closes the stream or stays
 * silent for CHANNEL_IDLE_RESPONDER_MS. An invalid message or a failed session aborts the
 * stream (the peer opens a new one for its next session); a stop closes idle streams cleanly.
 */
import { setMaxListeners } from 'node:events'
import type { Connection, Logger, PeerId, Stream } from '@libp2p/interface'
import type { GossipMessage } from '../core/reconcile-messages.js'
import { CHANNEL_IDLE_RESPONDER_MS } from './constants.js'
import { ServiceStoppingError, SessionTimeoutError, TooManySessionsError } from './errors.js'
import { FramedStream } from './framed.js'
import type { SessionRunner } from './session-runner.js'
import type { ByteBudget } from './byte-budget.js'

export interface InboundInit {
  runner: SessionRunner
  maxSessionsPerPeer: number
  /** inbound gossip streams open at once, all peers together */
  maxStreams: number
  /** node-wide count of received, unread bytes */
  budget?: ByteBudget
  messageTimeoutMs: number
  log: Logger
  debug: Logger
}

/**
 * Every open inbound stream waiting for its next session listens on this one signal (a
 * read's Deadline, removed when the read ends): one listener per stream, bounded by the
 * streams peers may hold, so the default warning at 10 says nothing useful.
 */
function lifetimeController (): AbortController {
  const c = new AbortController()
  setMaxListeners(Infinity, c.signal)
  return c
}

export class InboundHandler {
  /** open inbound streams by peer */
  private readonly open = new Map<string, number>()
  /** all of them */
  private openTotal = 0
  /** aborted on stop: ends streams waiting for their next session */
  private lifetime = lifetimeController()

  constructor (private readonly init: InboundInit) {
    this.handle = this.handle.bind(this)
  }

  start (): void {
    this.lifetime = lifetimeController()
  }

  stop (): void {
    this.lifetime.abort(new ServiceStoppingError('gossip service stopping'))
  }

  /** The protocol's stream handler. */
  async handle (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer
    const key = peer.toString()
    const active = this.open.get(key) ?? 0
    const full = active >= this.init.maxSessionsPerPeer
    if (full || this.openTotal >= this.init.maxStreams) {
      this.init.log('refusing gossip stream from %p: %d already open (%d from all peers)', peer, active, this.openTotal)
      const err = new TooManySessionsError(full
        ? `at most ${this.init.maxSessionsPerPeer} gossip streams per peer`
        : `at most ${this.init.maxStreams} inbound gossip streams in all`)
      stream.abort(err)
      this.init.runner.refused(peer, err)
      return
    }
    this.open.set(key, active + 1)
    this.openTotal++
    try {
      await this.serveStream(stream, peer)
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.openTotal--
      const n = (this.open.get(key) ?? 1) - 1
      if (n <= 0) this.open.delete(key)
      else this.open.set(key, n)
    }
  }

  private async serveStream (stream: Stream, peer: PeerId): Promise<void> {
    const io = new FramedStream(stream, this.lifetime.signal, this.init.messageTimeoutMs, this.init.budget)
    for (let sessions = 0; ; sessions++) {
      io.useSignal(this.lifetime.signal)
      io.resetCounts()
      let first: GossipMessage | undefined
      try {
        // a new stream is opened to be used at once; only a kept one may idle between sessions
        first = await io.readOrEnd(sessions === 0 ? this.init.messageTimeoutMs : CHANNEL_IDLE_RESPONDER_MS)
      } catch (err) {
        // idle between sessions is a clean end; a frame begun and not finished is a failure
        if (sessions > 0 && err instanceof SessionTimeoutError && !io.midFrame && !this.lifetime.signal.aborted) {
          this.init.log.trace('gossip stream from %p idle, closing it', peer)
          break
        }
        if (err instanceof ServiceStoppingError) {
          this.init.debug('closing idle gossip stream from %p: stopping', peer)
          break
        }
        this.init.runner.failedBeforeSession(peer, io, err)
        return
      }
      if (first === undefined) break
      if (!await this.init.runner.serve(first, io, peer)) return
      if (first.type === 'patterns') await this.init.runner.paceAfterPush(peer, this.lifetime.signal)
    }
    await stream.close({ signal: AbortSignal.timeout(this.init.messageTimeoutMs) })
  }
}
