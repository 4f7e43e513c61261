/** The /v1 read and write routes: status, peers and patterns. Sync lives in sync-route.ts. */
import type { EngramNodePort } from '../node/types.js'
import { ApiError } from './errors.js'
import { readJson, sendJson } from './http.js'
import type { Route } from './router.js'
import { checkQuery, encodeCursor, parseBulkBody, parseListQuery, parsePutBody } from './validate.js'

export function nodeRoutes (node: EngramNodePort): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/status',
      handler: async ({ res, query }) => {
        checkQuery(query, [])
        sendJson(res, 200, await node.status())
      }
    },
    {
      method: 'GET',
      path: '/v1/peers',
      handler: async ({ res, query }) => {
        checkQuery(query, [])
        sendJson(res, 200, { peers: await node.peers() })
      }
    },
    {
      method: 'GET',
      path: '/v1/patterns',
      handler: async ({ res, query }) => {
        const opts = parseListQuery(query)
        const patterns = await node.list(opts)
        // a full page may have a next one; a short page is the last
        const last = patterns.length === opts.limit ? patterns[patterns.length - 1] : undefined
        sendJson(res, 200, { patterns, nextCursor: last !== undefined ? encodeCursor(last.key) : null })
      }
    },
    {
      method: 'POST',
      path: '/v1/patterns',
      writes: true,
      handler: async ({ req, res, query }) => {
        checkQuery(query, [])
        const items = parseBulkBody(await readJson(req))
        const { patterns, root } = await node.putMany(items)
        sendJson(res, 200, { written: items.length, patterns, root })
      }
    },
    {
      method: 'GET',
      path: '/v1/patterns/:key',
      handler: async ({ res, params, query }) => {
        checkQuery(query, [])
        const record = await node.get(params.key!)
        if (record === undefined) throw new ApiError(404, 'pattern_not_found', `pattern ${JSON.stringify(params.key)} does not exist`)
        sendJson(res, 200, record)
      }
    },
    {
      method: 'PUT',
      path: '/v1/patterns/:key',
      writes: true,
      handler: async ({ req, res, params, query }) => {
        checkQuery(query, [])
        const op = parsePutBody(await readJson(req))
        sendJson(res, 200, await node.put(params.key!, op))
      }
    },
    {
      method: 'DELETE',
      path: '/v1/patterns/:key',
      writes: true,
      handler: async ({ res, params, query }) => {
        checkQuery(query, [])
        sendJson(res, 200, await node.delete(params.key!))
      }
    }
  ]
}
