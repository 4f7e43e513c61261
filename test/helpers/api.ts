/** A raw HTTP client for API tests (node:http, so tests control headers, bodies and timing). */
import { request } from 'node:http'

export interface ApiResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: any
}

export interface CallOptions {
  token?: string | null
  /** a value to send as JSON, or a raw string/Buffer body */
  body?: unknown
  raw?: string | Buffer
  headers?: Record<string, string>
  /** send the raw body in chunks without a content-length */
  chunked?: boolean
  timeout?: number
}

export async function call (base: string, method: string, path: string, opts: CallOptions = {}): Promise<ApiResponse> {
  const url = new URL(base)
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.token != null) headers.authorization = `Bearer ${opts.token}`
  let body: Buffer | undefined
  if (opts.raw !== undefined) body = Buffer.from(opts.raw)
  else if (opts.body !== undefined) body = Buffer.from(JSON.stringify(opts.body))
  if (body !== undefined) {
    headers['content-type'] ??= 'application/json'
    if (opts.chunked !== true) headers['content-length'] = String(body.length)
  }
  return await new Promise<ApiResponse>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers, timeout: opts.timeout ?? 20_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: any
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path} in time`)))
    // the server may answer (413) and close before the whole body is written: keep its answer
    req.on('error', (err: any) => { if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err) })
    req.on('close', () => { setTimeout(() => reject(new Error(`connection closed without an answer to ${method} ${path}`)), 1000).unref() })
    if (body !== undefined && opts.chunked === true) {
      const step = 64 * 1024
      for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step))
      req.end()
    } else {
      req.end(body)
    }
  })
}
