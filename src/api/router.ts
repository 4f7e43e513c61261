/**
 * A tiny method + path router. Paths are split on "/" before decoding, so a pattern key
 * holding "/" (sent as %2F) stays one segment; no URL normalisation either, so keys such
 * as "." or ".." reach the handler as they are.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApiError } from './errors.js'

export interface RequestContext {
  req: IncomingMessage
  res: ServerResponse
  params: Record<string, string>
  query: URLSearchParams
  /** aborted when the request times out or the client goes away */
  signal: AbortSignal
}

export type Handler = (ctx: RequestContext) => Promise<void>

export interface Route {
  method: string
  /** e.g. "/v1/patterns/:key" */
  path: string
  handler: Handler
  /** bound on the whole request, body included; the server's default when absent */
  timeoutMs?: number
  /** a local write: it waits while the node holds writes (EngramNodePort.writesHeldMs) */
  writes?: true
}

export type Match =
  | { kind: 'found', route: Route, params: Record<string, string> }
  | { kind: 'not-found' }
  | { kind: 'wrong-method', allow: string[] }

interface Compiled {
  route: Route
  segments: string[]
}

export class Router {
  private readonly routes: Compiled[] = []

  add (route: Route): this {
    this.routes.push({ route, segments: route.path.split('/').slice(1) })
    return this
  }

  match (method: string, pathname: string): Match {
    const raw = pathname.split('/').slice(1)
    const allow = new Set<string>()
    for (const { route, segments } of this.routes) {
      const params = matchSegments(segments, raw)
      if (params === undefined) continue
      if (route.method === method) return { kind: 'found', route, params }
      allow.add(route.method)
    }
    return allow.size > 0 ? { kind: 'wrong-method', allow: [...allow] } : { kind: 'not-found' }
  }
}

function matchSegments (pattern: string[], raw: string[]): Record<string, string> | undefined {
  if (pattern.length !== raw.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!
    const r = raw[i]!
    if (p.startsWith(':')) {
      if (r === '') return undefined
      params[p.slice(1)] = decodeSegment(r)
    } else if (p !== r) {
      return undefined
    }
  }
  return params
}

function decodeSegment (s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    throw new ApiError(400, 'invalid_path', `path segment ${JSON.stringify(s)} is not valid percent-encoding (encode keys with encodeURIComponent)`)
  }
}

/** Splits a request target into path and query without normalising the path. */
export function splitTarget (target: string): { pathname: string, query: URLSearchParams } {
  const q = target.indexOf('?')
  return q < 0
    ? { pathname: target, query: new URLSearchParams() }
    : { pathname: target.slice(0, q), query: new URLSearchParams(target.slice(q + 1)) }
}
