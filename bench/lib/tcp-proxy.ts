/**
 * A byte-counting TCP relay on 127.0.0.1: a node dials the proxy's port instead of its
 * peer's, and every byte of the connection (TCP payload: multistream-select, Noise, Yamux,
 * the protocols inside) passes through here and is counted per direction. It reads and
 * writes raw bytes only, so the nodes run unchanged.
 */
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net'

export interface ByteCounts {
  /** dialer -> listener */
  up: number
  /** listener -> dialer */
  down: number
}

export interface Chunk {
  /** ms since the proxy started */
  t: number
  dir: 'up' | 'down'
  bytes: number
}

/** at most this many chunks are kept for the breakdown (bounded memory on bulk transfers) */
const MAX_CHUNKS = 10_000

export class CountingProxy {
  readonly counts: ByteCounts = { up: 0, down: 0 }
  readonly chunks: Chunk[] = []
  connections = 0
  private readonly sockets = new Set<Socket>()
  private readonly t0 = performance.now()

  private constructor (private readonly server: Server, readonly port: number) {}

  /** Relays 127.0.0.1:<new port> to 127.0.0.1:targetPort. */
  static async start (targetPort: number): Promise<CountingProxy> {
    // eslint-disable-next-line prefer-const -- the handler below reads it before its one assignment (a const would be in its TDZ)
    let proxy: CountingProxy | undefined
    const server = createServer(client => { proxy?.relay(client, targetPort) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { resolve() })
    })
    const addr = server.address()
    if (addr === null || typeof addr === 'string') throw new Error('proxy has no TCP address')
    proxy = new CountingProxy(server, addr.port)
    return proxy
  }

  snapshot (): ByteCounts {
    return { ...this.counts }
  }

  /** Chunks seen since `sinceMs` (a value of now()). */
  chunksSince (sinceMs: number): Chunk[] {
    return this.chunks.filter(c => c.t >= sinceMs)
  }

  now (): number {
    return performance.now() - this.t0
  }

  private relay (client: Socket, targetPort: number): void {
    this.connections++
    const upstream = tcpConnect({ host: '127.0.0.1', port: targetPort })
    for (const s of [client, upstream]) {
      this.sockets.add(s)
      s.setNoDelay(true)
      s.on('close', () => { this.sockets.delete(s) })
      s.on('error', () => { client.destroy(); upstream.destroy() })
    }
    const pipe = (from: Socket, to: Socket, dir: 'up' | 'down'): void => {
      from.on('data', (buf: Buffer) => {
        this.counts[dir] += buf.byteLength
        if (this.chunks.length < MAX_CHUNKS) this.chunks.push({ t: this.now(), dir, bytes: buf.byteLength })
        if (!to.write(buf)) {
          from.pause()
          to.once('drain', () => from.resume())
        }
      })
      from.on('end', () => { to.end() })
    }
    pipe(client, upstream, 'up')
    pipe(upstream, client, 'down')
  }

  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
  }
}
