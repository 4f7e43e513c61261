/** Small node:http helpers: JSON answers, bounded JSON bodies, the bearer-token check. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import { decodeUtf8 } from '../core/bytes.js'
import { sha256Text } from '../core/hash.js'
import { ApiError, errorBody } from './errors.js'

/** Largest request body we read; a PUT of a full pattern is far below it. */
export const MAX_BODY_BYTES = 1024 * 1024

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff'
}

/** True once nothing more can be sent (answered, timed out, or the client went away). */
export function finished (res: ServerResponse): boolean {
  return res.headersSent || res.writableEnded || res.destroyed
}

export function sendJson (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (finished(res)) return
  const body = JSON.stringify(value) + '\n'
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body))
  })
  res.end(body)
}

export function sendError (res: ServerResponse, err: ApiError): void {
  sendJson(res, err.status, errorBody(err), err.headers)
}

export function sendText (res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  if (finished(res)) return
  res.writeHead(status, { ...COMMON_HEADERS, ...headers, 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) })
  res.end(body)
}

/** Starts an NDJSON answer; `write` sends one line per value. */
export function startNdjson (res: ServerResponse): (value: unknown) => void {
  res.writeHead(200, { ...COMMON_HEADERS, 'content-type': 'application/x-ndjson; charset=utf-8' })
  res.flushHeaders()
  return (value) => {
    if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(value) + '\n')
  }
}

function tooLarge (): ApiError {
  // the rest of the body is not read: close the connection after answering
  return new ApiError(413, 'body_too_large', `request body is larger than ${MAX_BODY_BYTES} bytes`, { connection: 'close' })
}

/** Reads the body, refusing it as soon as it passes the limit (never buffering more). */
export async function readBody (req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) throw tooLarge()
  return await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => { cleanup(); resolve(Buffer.concat(chunks)) }
    const onError = (err: Error): void => { cleanup(); reject(new ApiError(400, 'bad_request', `could not read the request body: ${err.message}`)) }
    const onClose = (): void => {
      if (!req.complete) { cleanup(); reject(new ApiError(400, 'bad_request', 'the request body was cut short')) }
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}

/**
 * The body as JSON; `undefined` when there is none. A body must say it is JSON, which
 * also keeps plain HTML forms of other sites from posting to us.
 */
export async function readJson (req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req)
  if (raw.length === 0) return undefined
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') {
    throw new ApiError(415, 'unsupported_media_type', `request body must be application/json (got ${type === '' ? 'no content type' : type})`)
  }
  let text: string
  try {
    text = decodeUtf8(raw)
  } catch {
    // a replacement character would silently change the text we store
    throw new ApiError(400, 'invalid_utf8', 'request body is not valid UTF-8')
  }
  try {
    return JSON.parse(text)
  } catch (err: any) {
    throw new ApiError(400, 'invalid_json', `request body is not valid JSON: ${String(err.message)}`)
  }
}

/**
 * The check of `Authorization: Bearer <token>` for one server's token, compared in constant time
 * (hashing first evens out lengths); the token's own digest is made once, not at every request.
 */
export function bearerCheck (token: string): (req: IncomingMessage) => void {
  const expected = sha256Text(token)
  return req => {
    const header = req.headers.authorization
    const m = header !== undefined ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null
    if (m === null) throw unauthorized('missing bearer token: send "Authorization: Bearer <token>" (the token is in <data dir>/api.token)')
    if (!timingSafeEqual(sha256Text(m[1]!), expected)) throw unauthorized('wrong API token (the token is in <data dir>/api.token)')
  }
}

function unauthorized (message: string): ApiError {
  return new ApiError(401, 'unauthorized', message, { 'www-authenticate': 'Bearer realm="engram"' })
}
