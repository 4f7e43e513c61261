/**
 * EngramClient: the node's local HTTP API (docs/api.md) as typed calls. Every call is bounded in
 * time; a failure is an EngramApiError (the node said no: status, code, message),
 * an EngramConnectionError or an EngramTimeoutError. `watch` follows the change feed and
 * reconnects from the last seq it gave out, so a node restart loses nothing.
 */
import type { BulkWriteResult, ChangeRecord, NodeStatus, PatternRecord, PeerInfo, RoundReport } from '../node/types.js'
import { EngramApiError, EngramConnectionError, EngramTimeoutError } from './errors.js'
import { ndjsonLines } from './ndjson.js'

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
    if (options.onProgress === undefined) return await this.json('POST', '/v1/sync', body, SYNC_TIMEOUT_MS, options.signal)
    const res = await this.send('POST', '/v1/sync?stream=1', body, SYNC_TIMEOUT_MS, options.signal)
    let result: RoundReport | undefined
    for await (const line of this.lines(res, SYNC_TIMEOUT_MS)) {
      const l = line as { progress?: RoundReport, result?: RoundReport, error?: { code: string, message: string } }
      if (l.progress !== undefined) options.onProgress(l.progress)
      if (l.result !== undefined) result = l.result
      if (l.error !== undefined) throw new EngramApiError(res.status, l.error.code, l.error.message)
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
    const res = await this.send('GET', '/metrics', undefined, this.timeoutMs)
    return await this.text(res, this.timeoutMs)
  }

  /**
   * The live change feed: every change after `since`, then each new one as it commits. When
   * the connection breaks it reconnects (with backoff) from the last seq it gave out, so nothing
   * is missed or given twice. Ends when `signal` aborts; an error answer of the node
   * (EngramApiError, e.g. invalid_since) ends it with that error.
   */
  async * watch (options: WatchCallOptions = {}): AsyncGenerator<ChangeRecord> {
    const { signal, prefix } = options
    const idleMs = options.idleTimeoutMs ?? 45_000
    let since = options.since ?? 0
    let attempt = 0
    const stopped = (): boolean => signal?.aborted === true
    while (!stopped()) {
      const idle = new AbortController()
      const both = signal !== undefined ? AbortSignal.any([signal, idle.signal]) : idle.signal
      let timer = setTimeout(() => idle.abort(), idleMs)
      try {
        const res = await this.send('GET', '/v1/changes' + search({ since, prefix, feed: 'live' }), undefined, undefined, both)
        for await (const line of this.lines(res, undefined)) {
          clearTimeout(timer)
          timer = setTimeout(() => idle.abort(), idleMs)
          const l = line as ChangeRecord & { heartbeat?: boolean, error?: { code: string, message: string } }
          if (l.error !== undefined) throw new EngramApiError(500, l.error.code, l.error.message)
          if (l.heartbeat === true) continue
          attempt = 0
          since = l.seq
          yield l
        }
        // the node ended the feed (it stops): reconnect like after a break
        throw new EngramConnectionError(`the change feed of ${this.url} ended`)
      } catch (err) {
        if (stopped()) return
        if (err instanceof EngramApiError || options.reconnect === false) throw err
        const e = idle.signal.aborted ? new EngramTimeoutError(`no line from ${this.url} for ${idleMs / 1000} s`) : err as Error
        options.onReconnect?.(e, ++attempt)
        await sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempt, 5)), signal)
      } finally {
        clearTimeout(timer)
      }
    }
  }

  private async json<T> (method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs, signal?: AbortSignal): Promise<T> {
    const res = await this.send(method, path, body, timeoutMs, signal)
    return JSON.parse(await this.text(res, timeoutMs)) as T
  }

  /**
   * Any API request, for endpoints without a typed call: the answer (status 2xx) to read as the
   * caller likes; an error status is an EngramApiError. Bounded by `timeoutMs` (default the
   * client's) and `signal`.
   */
  async raw (method: string, path: string, body?: unknown, options: { timeoutMs?: number, signal?: AbortSignal } = {}): Promise<Response> {
    return await this.send(method, path, body, options.timeoutMs ?? this.timeoutMs, options.signal)
  }

  /** Sends a request; an error status becomes an EngramApiError. No `timeoutMs`: bounded by `signal` alone. */
  private async send (method: string, path: string, body: unknown, timeoutMs: number | undefined, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const signals = [...(signal !== undefined ? [signal] : []), ...(timeoutMs !== undefined ? [AbortSignal.timeout(timeoutMs)] : [])]
    let res: Response
    try {
      res = await fetch(this.url + path, {
        method,
        headers,
        body: body !== undefined ? JSON.stringify(body) : undefined,
        ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {})
      })
    } catch (err) {
      throw this.transportError(err, timeoutMs)
    }
    if (!res.ok) {
      const text = await this.text(res, timeoutMs)
      let error: { code?: string, message?: string } | undefined
      try { error = JSON.parse(text)?.error } catch {}
      const message = error?.message ?? `the node answered ${res.status}: ${text.slice(0, 200)}`
      throw new EngramApiError(res.status, error?.code ?? 'http_' + String(res.status), message)
    }
    return res
  }

  private async text (res: Response, timeoutMs: number | undefined): Promise<string> {
    try {
      return await res.text()
    } catch (err) {
      throw this.transportError(err, timeoutMs)
    }
  }

  private async * lines (res: Response, timeoutMs: number | undefined): AsyncGenerator<unknown> {
    if (res.body === null) return
    try {
      yield * ndjsonLines(res.body as unknown as AsyncIterable<Uint8Array>)
    } catch (err) {
      if (err instanceof SyntaxError) throw new EngramConnectionError(`the node sent a line that is not JSON: ${err.message}`)
      throw this.transportError(err, timeoutMs)
    }
  }

  private transportError (err: unknown, timeoutMs: number | undefined): Error {
    const e = err as { name?: string, message?: string, cause?: { code?: string, message?: string } }
    if (e?.name === 'TimeoutError') return new EngramTimeoutError(`the node at ${this.url} did not answer within ${(timeoutMs ?? 0) / 1000} s`)
    if (e?.name === 'AbortError') return err as Error
    const code = e?.cause?.code
    const why = code === 'ECONNREFUSED' ? 'nothing answers there' : String(e?.cause?.message ?? e?.message ?? err)
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
