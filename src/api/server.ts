/**
 * The node's local HTTP API (node:http, no framework). It listens only where the caller
 * says (the CLI defaults to loopback). Every route but the status page needs
 * `Authorization: Bearer <token>`; every answer is JSON (errors as
 * `{ "error": { "code", "message" } }`); every request is bounded in time and body size.
 * Endpoints: docs/api.md.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { EngramNodePort } from '../node/types.js'
import { ApiError, errorBody, toApiError } from './errors.js'
import { bearerCheck, sendError, sendText } from './http.js'
import { Router, splitTarget, type RequestContext } from './router.js'
import { nodeRoutes } from './routes.js'
import { syncRoute } from './sync-route.js'
import { changesRoute } from './changes-route.js'

export interface ApiServerOptions {
  node: EngramNodePort
  /** interface to listen on; pass a loopback address unless remote access is wanted */
  host: string
  /** 0 picks a free port (see the returned url) */
  port: number
  token: string
  metrics?: { contentType: string, render(): Promise<string> }
  statusPage?: () => string
  /** bound on one request, body included (sync has its own, longer one; a live change feed none); default 15 s */
  requestTimeoutMs?: number
  /** a live change feed's heartbeat while idle; default 15 s */
  heartbeatMs?: number
}

export interface ApiServer {
  url: string
  close(): Promise<void>
}

const DEFAULT_TIMEOUT_MS = 15_000

function timeoutError (timeoutMs: number): ApiError {
  return new ApiError(503, 'timeout', `the request took longer than ${timeoutMs / 1000} s`, { connection: 'close' })
}

/** A write that timed out while the node holds writes says why, and when to retry. */
function writeTimeout (node: EngramNodePort, timeoutMs: number): ApiError {
  const heldS = Math.ceil(node.writesHeldMs() / 1000)
  if (heldS === 0) return timeoutError(timeoutMs)
  return new ApiError(503, 'writes_held',
    'this node restarted and holds local writes until a session with a peer confirms its counter (so a data dir restored ' +
    `from a backup cannot reuse its lost writes' dots); no peer has answered yet. Retry in ${heldS} s: by then the node ` +
    'writes alone, with a warning. Start a peer it knows to end the wait sooner.',
    { connection: 'close', 'retry-after': String(heldS) })
}

/**
 * The page carries its own CSP in a meta tag; framing can only be forbidden by header
 * (against clickjacking), and a token in `?token=` must not leak through Referer.
 */
const PAGE_HEADERS = {
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer'
}

function buildRouter (opts: ApiServerOptions): Router {
  const router = new Router()
  for (const r of nodeRoutes(opts.node)) router.add(r)
  router.add(syncRoute(opts.node))
  router.add(changesRoute(opts.node, opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}))
  const { metrics, statusPage } = opts
  if (metrics !== undefined) {
    router.add({ method: 'GET', path: '/metrics', handler: async ({ res }) => { sendText(res, 200, metrics.contentType, await metrics.render()) } })
  }
  if (statusPage !== undefined) {
    // the HTML itself holds no data: the page asks for the token and calls /v1 with it
    router.add({ method: 'GET', path: '/', handler: async ({ res }) => { sendText(res, 200, 'text/html; charset=utf-8', statusPage(), PAGE_HEADERS) } })
  }
  return router
}

/** A connectable URL host: a wildcard bind is reached through loopback. */
function urlHost (host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

export async function startApiServer (opts: ApiServerOptions): Promise<ApiServer> {
  const log = opts.node.logger('engram:api')
  const router = buildRouter(opts)
  const checkToken = bearerCheck(opts.token)
  const defaultTimeout = opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now()
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    // the client went away before the answer ended: handlers stop streaming (an abort after a
    // whole answer would only cost an AbortError per request)
    res.on('close', () => { if (!res.writableFinished) controller.abort() })
    res.on('finish', () => log.trace('%s %s -> %d in %d ms', req.method, req.url, res.statusCode, Date.now() - started))
    try {
      const { pathname, query } = splitTarget(req.url ?? '/')
      if (pathname !== '/') checkToken(req)
      const match = router.match(req.method ?? 'GET', pathname)
      if (match.kind === 'not-found') throw new ApiError(404, 'not_found', `no such endpoint: ${req.method ?? ''} ${pathname} (see docs/api.md)`)
      if (match.kind === 'wrong-method') {
        const allow = match.allow.join(', ')
        throw new ApiError(405, 'method_not_allowed', `${req.method ?? ''} is not allowed on ${pathname} (allowed: ${allow})`, { allow })
      }
      const timeoutMs = match.route.timeoutMs ?? defaultTimeout
      const ctx: RequestContext = { req, res, params: match.params, query, signal: controller.signal }
      const timedOut = new Promise<never>((_resolve, reject) => {
        if (timeoutMs === Infinity) return
        timer = setTimeout(() => {
          controller.abort()
          reject(match.route.writes === true ? writeTimeout(opts.node, timeoutMs) : timeoutError(timeoutMs))
        }, timeoutMs)
      })
      await Promise.race([match.route.handler(ctx), timedOut])
    } catch (err) {
      const apiErr = toApiError(err)
      if (apiErr.status >= 500) log.error('%s %s failed - %e', req.method, req.url, err)
      if (!res.headersSent) {
        sendError(res, apiErr)
      } else if (!res.writableEnded && !res.destroyed) {
        // a stream already started: the error is its last line
        res.end(JSON.stringify(errorBody(apiErr)) + '\n')
      }
    } finally {
      clearTimeout(timer)
    }
  }

  const server = createServer({
    // bounds on receiving a request; checked every second rather than Node's default 30 s
    headersTimeout: Math.min(10_000, defaultTimeout),
    requestTimeout: defaultTimeout,
    connectionsCheckingInterval: 1000,
    keepAliveTimeout: 5000
  }, (req, res) => { void handle(req, res) })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${urlHost(opts.host)}:${port}`
  log('API listening on %s', url)

  return {
    url,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        // keep-alive and streaming connections would hold close() open
        server.closeAllConnections()
      })
    }
  }
}
