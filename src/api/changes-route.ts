/**
 * GET /v1/changes: the node's change feed. One page as JSON (`since`, `prefix`, `limit`), or
 * with `?feed=live` an NDJSON stream that stays open: every change after `since`, then each
 * new one as it commits, and a heartbeat line while idle so clients and proxies can tell a
 * quiet feed from a dead one. A client that reconnects with the last seq it saw misses
 * nothing and gets nothing twice.
 */
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import type { ChangeRecord, EngramNodePort } from '../node/types.js'
import { ApiError } from './errors.js'
import { sendJson, startNdjson } from './http.js'
import type { Route } from './router.js'
import { checkQuery, DEFAULT_PAGE, MAX_PAGE } from './validate.js'

/** Live feeds open at once: each holds a connection and a watch on the store. */
export const MAX_LIVE_FEEDS = 64
export const DEFAULT_HEARTBEAT_MS = 15_000

export interface ChangesQuery {
  since: number | 'now'
  prefix?: string
  /** a page's size; with a live feed, the number of changes after which it ends */
  limit?: number
  live: boolean
}

function bad (message: string): ApiError {
  return new ApiError(400, 'invalid_query', message)
}

export function parseChangesQuery (query: URLSearchParams): ChangesQuery {
  checkQuery(query, ['since', 'prefix', 'limit', 'feed'])
  const feed = query.get('feed')
  if (feed !== null && feed !== 'live' && feed !== 'normal') throw bad(`"feed" must be live or normal, got ${JSON.stringify(feed)}`)
  const out: ChangesQuery = { since: 0, live: feed === 'live' }
  const since = query.get('since')
  if (since !== null) {
    if (since === 'now') out.since = 'now'
    else if (/^\d{1,16}$/.test(since) && Number.isSafeInteger(Number(since))) out.since = Number(since)
    else throw bad(`"since" must be a seq (a whole number ≥ 0) or now, got ${JSON.stringify(since)}`)
  }
  const prefix = query.get('prefix')
  if (prefix !== null && prefix !== '') out.prefix = prefix
  const limit = query.get('limit')
  if (limit !== null) {
    if (!/^\d{1,7}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE) {
      throw bad(`"limit" must be a whole number from 1 to ${MAX_PAGE}, got ${JSON.stringify(limit)}`)
    }
    out.limit = Number(limit)
  }
  return out
}

export interface ChangesRouteOptions {
  heartbeatMs?: number
}

export function changesRoute (node: EngramNodePort, options: ChangesRouteOptions = {}): Route {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  let live = 0
  return {
    method: 'GET',
    path: '/v1/changes',
    // a live feed stays open as long as its client; a page is bounded by its limit
    timeoutMs: Infinity,
    handler: async ({ res, query, signal }) => {
      const q = parseChangesQuery(query)
      const lastChange = (await node.status()).lastChange
      const since = q.since === 'now' ? lastChange : q.since
      if (since > lastChange) {
        // refused before a live feed starts, so it is a plain 400 and not a stream's last line
        throw new ApiError(400, 'invalid_since', `since ${since} is ahead of this node's newest change (${lastChange}): a seq means ` +
          'something only on the node and data dir that gave it; start again from 0')
      }
      const watch = { since, live: q.live, signal, ...(q.prefix !== undefined ? { prefix: q.prefix } : {}) }
      if (!q.live) {
        const limit = q.limit ?? DEFAULT_PAGE
        const changes: ChangeRecord[] = []
        for await (const c of node.changes({ ...watch, pageSize: limit })) {
          changes.push(c)
          if (changes.length >= limit) break
        }
        const more = changes.length >= limit
        // caught up: every change up to the newest seq when the request came in was read
        const last = more ? (changes[changes.length - 1] as ChangeRecord).seq : Math.max(lastChange, changes[changes.length - 1]?.seq ?? since)
        sendJson(res, 200, { changes, last, more })
        return
      }
      if (live >= MAX_LIVE_FEEDS) {
        throw new ApiError(503, 'too_many_feeds', `${MAX_LIVE_FEEDS} live feeds are open on this node: close one, or read pages without feed=live`)
      }
      live++
      try {
        await streamFeed(res, node.changes(watch), heartbeatMs, q.limit, signal)
      } finally {
        live--
      }
    }
  }
}

async function streamFeed (res: ServerResponse, changes: AsyncGenerator<ChangeRecord>, heartbeatMs: number,
  limit: number | undefined, signal: AbortSignal): Promise<void> {
  const write = startNdjson(res)
  let sent = 0
  let next = changes.next()
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const beat = new Promise<'beat'>(resolve => { timer = setTimeout(() => resolve('beat'), heartbeatMs) })
      const got = await Promise.race([next, beat]).finally(() => clearTimeout(timer))
      if (got === 'beat') {
        write({ heartbeat: true })
        continue
      }
      if (got.done === true) break
      write(got.value)
      // a client that does not read holds us here, not in memory
      if (res.writableNeedDrain) await once(res, 'drain', { signal })
      if (limit !== undefined && ++sent >= limit) break
      next = changes.next()
    }
  } catch (err) {
    // the client went away: nothing to answer
    if (!signal.aborted) throw err
  } finally {
    await changes.return(undefined)
  }
  res.end()
}
