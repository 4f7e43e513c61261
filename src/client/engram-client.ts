/**
 * EngramClient: the node's local HTTP API (docs/api.md) as typed calls. Every call is bounded in
 * time; a failure is an EngramApiError (the node said no: status, code, message),
 * an EngramConnectionError or an EngramTimeoutError. `watch` follows the change feed and
 * reconnects from the last seq it gave out, so a node restart loses nothing.
 */
import type { BulkWriteResult, ChangeRecord, NodeStatus, PatternRecord, PeerInfo, RoundReport } from '../node/types.js'
import { EngramApiError, EngramConnectionError, EngramTimeoutError } from './errors.js'
import { Deadline } from '../utils/deadline.js'
import { ndjsonLines } from './ndjson.js'
import { JsonText } from './json-text.js'

export interface EngramClientOptions {
  /** the node's API, e.g. http://127.0.0.1:5480 (the `url` of <data dir>/api.json) */
  url: string
  /** the content of <data dir>/api.token */
  token: string
  /** bound on one plain call (default 20 s) */
  timeoutMs?: number
}

export interface ListQuery {
  prefix?: string
  limit?: number
  /** the nextCursor of the previous page */
  cursor?: string
}

/** A write: any of these (confidence is needed to create a pattern). */
export interface PutBody {
  episodes?: string[]
  removeEpisodes?: string[]
  confidence?: number
  summary?: string | null
}

export interface SyncCallOptions {
  /** a PeerId; left out, the node picks a gossip peer */
  peer?: string
  /** the round's counts as it goes */
  onProgress?: (report: RoundReport) => void
  signal?: AbortSignal
}

export interface WatchCallOptions {
  /** the last seq already seen (default 0: the whole feed); 'now': only changes from now on */
  since?: number | 'now'
  prefix?: string
  /** ends the watch (the iterator returns) */
  signal?: AbortSignal
  /** reconnect when the connection breaks or goes silent (default true) */
  reconnect?: boolean
  /** told before each reconnect attempt */
  onReconnect?: (err: Error, attempt: number) => void
  /** no line, not even a heartbeat, for this long: the connection is taken as dead (default 45 s) */
  idleTimeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 20_000
/** a sync round is bounded by the node (session timeout plus a margin); this is a bit more */
const SYNC_TIMEOUT_MS = 90_000
const MAX_BACKOFF_MS = 5_000

export class EngramClient {
  readonly url: string
  private readonly token: string
  private readonly timeoutMs: number

  constructor (options: EngramClientOptions) {
    this.url = options.url.replace(/\/+$/, '')
    this.token = options.token
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  async status (): Promise<NodeStatus> { return await this.json('GET', '/v1/status') }

  async peers (): Promise<PeerInfo[]> { return (await this.json<{ peers: PeerInfo[] }>('GET', '/v1/peers')).peers }

  /** undefined when the node holds no pattern under `key` */
  async get (key: string): Promise<PatternRecord | undefined> {
    try {
      return await this.json('GET', `/v1/patterns/${encodeURIComponent(key)}`)
    } catch (err) {
      if (err instanceof EngramApiError && err.code === 'pattern_not_found') return undefined
      throw err
    }
  }

  async list (query: ListQuery = {}): Promise<{ patterns: PatternRecord[], nextCursor: string | null }> {
    return await this.json('GET', '/v1/patterns' + search({ prefix: query.prefix, limit: query.limit, cursor: query.cursor }))
  }

  async put (key: string, body: PutBody): Promise<PatternRecord> {
    return await this.json('PUT', `/v1/patterns/${encodeURIComponent(key)}`, body)
  }

  /** up to 1,000 writes as one atomic batch */
  async putMany (patterns: Array<PutBody & { key: string }>): Promise<{ written: number } & BulkWriteResult> {
    return await this.json('POST', '/v1/patterns', { patterns })
  }

  async delete (key: string): Promise<PatternRecord> {
    return await this.json('DELETE', `/v1/patterns/${encodeURIComponent(key)}`)
  }

  /** one anti-entropy round now; its report */
  async sync (options: SyncCallOptions = {}): Promise<RoundReport> {
    const body = options.peer !== undefined ? { peer: options.peer } : undefined
    const { onProgress, signal } = options
    const bound = { timeoutMs: SYNC_TIMEOUT_MS, ...(signal !== undefined ? { signal } : {}) }
    if (onProgress === undefined) return JSON.parse(await this.raw('POST', '/v1/sync', body, bound)) as RoundReport
    let result: RoundReport | undefined
    for await (const line of this.rawLines('POST', '/v1/sync?stream=1', body, bound)) {
      const l = line as { progress?: RoundReport, result?: RoundReport, error?: { code: string, message: string } }
      if (l.progress !== undefined) onProgress(l.progress)
      if (l.result !== undefined) result = l.result
      if (l.error !== undefined) throw new EngramApiError(200, l.error.code, l.error.message)
    }
    if (result === undefined) throw new EngramConnectionError('the sync answer ended without its result')
    return result
  }

  /** one page of the change feed after `since`: pass `last` back as the next `since` */
  async changes (query: { since?: number | 'now', prefix?: string, limit?: number } = {}): Promise<{ changes: ChangeRecord[], last: number, more: boolean }> {
    return await this.json('GET', '/v1/changes' + search({ since: query.since, prefix: query.prefix, limit: query.limit }))
  }

  /** Prometheus text */
  async metrics (): Promise<string> {
    return await this.raw('GET', '/metrics')
  }

  /**
   * The live change feed: every change after `since`, then each new one as it commits. When
   * the connection breaks or goes silent it reconnects (with backoff) from the last seq it gave
   * out, so nothing is missed or given twice. Ends when `signal` aborts; an error answer of the
   * node (EngramApiError, e.g. invalid_since) ends it with that error.
   */
  async * watch (options: WatchCallOptions = {}): AsyncGenerator<ChangeRecord> {
    const { signal, prefix } = options
    const idleMs = options.idleTimeoutMs ?? 45_000
    let since = options.since ?? 0
    let attempt = 0
    const stopped = (): boolean => signal?.aborted === true
    while (!stopped()) {
      // one connection: it ends with the caller's signal, or when no line came for idleMs
      const conn = new Deadline(idleMs, signal)
      try {
        // 'now' is pinned to a seq once: a reconnect must not skip what came while it was away
        if (since === 'now') since = (JSON.parse(await this.raw('GET', '/v1/status', undefined, { signal: conn.signal })) as NodeStatus).lastChange
        const res = await this.send('GET', '/v1/changes' + search({ since, prefix, feed: 'live' }), undefined, conn)
        for await (const line of this.lines(res, conn)) {
          conn.restart()
          const l = line as ChangeRecord & { heartbeat?: boolean, error?: { code: string, message: string } }
          if (l.error !== undefined) throw new EngramApiError(500, l.error.code, l.error.message)
          if (l.heartbeat === true) continue
          attempt = 0
          since = l.seq
          yield l
        }
        // the node ended the feed (it stops): reconnect as after a break
        throw new EngramConnectionError(`the change feed of ${this.url} ended`)
      } catch (err) {
        if (stopped()) return
        if (err instanceof EngramApiError || options.reconnect === false) throw err
        options.onReconnect?.(err as Error, ++attempt)
        await sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempt, 5)), signal)
      } finally {
        conn.dispose()
      }
    }
  }

  /**
   * Any API request, for endpoints without a typed call: the body of a 2xx answer as text; an
   * error status is an EngramApiError. Bounded by `timeoutMs` (default the client's) and `signal`.
   */
  async raw (method: string, path: string, body?: unknown, options: { timeoutMs?: number, signal?: AbortSignal } = {}): Promise<string> {
    const bound = new Deadline(options.timeoutMs ?? this.timeoutMs, options.signal)
    try {
      return await this.text(await this.send(method, path, body, bound), bound)
    } finally {
      bound.dispose()
    }
  }

  /** Like raw, for an NDJSON answer: its lines, parsed, as they arrive (the bound is on the whole answer). */
  async * rawLines (method: string, path: string, body?: unknown, options: { timeoutMs?: number, signal?: AbortSignal } = {}): AsyncGenerator<unknown> {
    const bound = new Deadline(options.timeoutMs ?? this.timeoutMs, options.signal)
    try {
      yield * this.lines(await this.send(method, path, body, bound), bound)
    } finally {
      bound.dispose()
    }
  }

  private async json<T> (method: string, path: string, body?: unknown): Promise<T> {
    return JSON.parse(await this.raw(method, path, body)) as T
  }

  /** Sends a request bounded by `bound`; an error status becomes an EngramApiError. */
  private async send (method: string, path: string, body: unknown, bound: Deadline): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(this.url + path, { method, headers, body: encodeBody(body), signal: bound.signal })
    } catch (err) {
      throw this.transportError(err, bound)
    }
    if (!res.ok) {
      const text = await this.text(res, bound)
      let error: { code?: string, message?: string } | undefined
      try { error = JSON.parse(text)?.error } catch {}
      const message = error?.message ?? `the node answered ${res.status}: ${text.slice(0, 200)}`
      throw new EngramApiError(res.status, error?.code ?? 'http_' + String(res.status), message)
    }
    return res
  }

  private async text (res: Response, bound: Deadline): Promise<string> {
    try {
      return await res.text()
    } catch (err) {
      throw this.transportError(err, bound)
    }
  }

  private async * lines (res: Response, bound: Deadline): AsyncGenerator<unknown> {
    if (res.body === null) return
    try {
      yield * ndjsonLines(res.body as unknown as AsyncIterable<Uint8Array>)
    } catch (err) {
      if (err instanceof SyntaxError) throw new EngramConnectionError(`the node sent a line that is not JSON: ${err.message}`)
      throw this.transportError(err, bound)
    }
  }

  private transportError (err: unknown, bound: Deadline): Error {
    if (bound.expired) return new EngramTimeoutError(`no answer from the node at ${this.url} within ${bound.ms / 1000} s`)
    if (bound.signal.aborted) return err as Error
    const e = err as { message?: string, cause?: { code?: string, message?: string } }
    const why = e?.cause?.code === 'ECONNREFUSED' ? 'nothing answers there' : String(e?.cause?.message ?? e?.message ?? err)
    return new EngramConnectionError(`cannot reach the node at ${this.url}: ${why}`, { cause: err })
  }
}

function search (params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s === '' ? '' : '?' + s
}

async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    const t = setTimeout(done, ms)
    function done (): void {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** A body as sent: JSON text as it is, anything else encoded. */
function encodeBody (body: unknown): string | undefined {
  if (body === undefined) return undefined
  return body instanceof JsonText ? body.text : JSON.stringify(body)
}
