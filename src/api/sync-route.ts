/**
 * POST /v1/sync: one anti-entropy round now. With `?stream=1` the answer is NDJSON, one
 * `{"progress": RoundReport}` line per progress event of the round, then `{"result": ...}`,
 * so a client can show a long transfer as it goes.
 */
import { SYNC_TIMEOUT_MS, type EngramNodePort } from '../node/types.js'
import { errorBody, toApiError } from './errors.js'
import { readJson, sendJson, startNdjson } from './http.js'
import type { Route } from './router.js'
import { parseStreamFlag, parseSyncBody } from './validate.js'

export function syncRoute (node: EngramNodePort): Route {
  return {
    method: 'POST',
    path: '/v1/sync',
    // the node's bound on a round, which leaves room to answer after the session timeout
    timeoutMs: SYNC_TIMEOUT_MS,
    handler: async ({ req, res, query, signal }) => {
      const stream = parseStreamFlag(query)
      const { peer } = parseSyncBody(await readJson(req))
      if (!stream) {
        sendJson(res, 200, await node.syncNow(peer, { signal }))
        return
      }
      // the stream starts with its first line: an error before it (no peer to sync with, see
      // errors.ts) is a plain JSON answer with its status, not a stream
      let write: ((value: unknown) => void) | undefined
      const line = (value: unknown): void => {
        write ??= startNdjson(res)
        write(value)
      }
      try {
        line({ result: await node.syncNow(peer, { signal, onProgress: r => { if (!signal.aborted) line({ progress: r }) } }) })
      } catch (err) {
        if (write === undefined) throw err
        line(errorBody(toApiError(err)))
      }
      res.end()
    }
  }
}
