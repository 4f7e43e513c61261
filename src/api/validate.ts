/**
 * Request validation: every field is checked before the node is touched, so a bad request
 * changes nothing. Limits on keys, episodes and summaries are the core's (it throws
 * LimitExceededError / InvalidPatternError, mapped to 400); here only shapes and types.
 */
import type { ListOptions, WriteOp } from '../node/types.js'
import { ApiError } from './errors.js'

export const DEFAULT_PAGE = 100
export const MAX_PAGE = 1000

function bad (code: string, message: string): ApiError {
  return new ApiError(400, code, message)
}

function objectBody (body: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('invalid_body', `${what} must be a JSON object`)
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw bad('unknown_field', `unknown field "${k}" (allowed: ${allowed.join(', ')})`)
  }
  return body as Record<string, unknown>
}

function stringList (v: unknown, field: string): string[] {
  if (!Array.isArray(v) || !v.every(x => typeof x === 'string')) throw bad('invalid_field', `"${field}" must be an array of strings`)
  return v
}

const PUT_FIELDS = ['episodes', 'removeEpisodes', 'confidence', 'summary'] as const

/** Body of PUT /v1/patterns/:key -> the node's write operation. */
export function parsePutBody (body: unknown): WriteOp {
  if (body === undefined) throw bad('invalid_body', `a JSON body is required, with any of: ${PUT_FIELDS.join(', ')}`)
  const b = objectBody(body, 'the body', PUT_FIELDS)
  const op: WriteOp = {}
  if (b.episodes !== undefined) op.addEpisodes = stringList(b.episodes, 'episodes')
  if (b.removeEpisodes !== undefined) op.removeEpisodes = stringList(b.removeEpisodes, 'removeEpisodes')
  if (b.confidence !== undefined) {
    const c = b.confidence
    if (typeof c !== 'number' || !Number.isFinite(c)) throw bad('invalid_field', '"confidence" must be a number')
    if (c < 0 || c > 1) throw bad('invalid_field', `"confidence" must be in [0, 1], got ${c}`)
    op.confidence = c
  }
  if (b.summary !== undefined) {
    if (b.summary !== null && typeof b.summary !== 'string') throw bad('invalid_field', '"summary" must be a string, or null to clear it')
    op.summary = b.summary
  }
  // an empty write would still be an event (a new clock entry): refuse it as a mistake
  if (Object.keys(b).length === 0) throw bad('invalid_body', `nothing to write: give any of ${PUT_FIELDS.join(', ')}`)
  return op
}

/** Most patterns one bulk write may carry (the 1 MiB body limit applies too). */
export const MAX_BULK = 1000

/** Body of POST /v1/patterns: { patterns: [{ key, episodes?, removeEpisodes?, confidence?, summary? }] }. */
export function parseBulkBody (body: unknown): Array<{ key: string, op: WriteOp }> {
  const b = objectBody(body, 'the body', ['patterns'])
  if (!Array.isArray(b.patterns) || b.patterns.length === 0) throw bad('invalid_field', '"patterns" must be a non-empty array')
  if (b.patterns.length > MAX_BULK) throw bad('too_many', `at most ${MAX_BULK} patterns per request, got ${b.patterns.length}`)
  return b.patterns.map((item: unknown, i: number) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw bad('invalid_field', `patterns[${i}] must be an object`)
    const { key, ...rest } = item as Record<string, unknown>
    if (typeof key !== 'string' || key.length === 0) throw bad('invalid_field', `patterns[${i}].key must be a non-empty string`)
    try {
      return { key, op: parsePutBody(rest) }
    } catch (err: any) {
      err.message = `patterns[${i}] (${JSON.stringify(key)}): ${String(err.message)}`
      throw err
    }
  })
}

/** Body of POST /v1/sync (optional). */
export function parseSyncBody (body: unknown): { peer?: string } {
  if (body === undefined) return {}
  const b = objectBody(body, 'the body', ['peer'])
  if (b.peer === undefined) return {}
  if (typeof b.peer !== 'string' || b.peer === '') throw bad('invalid_field', '"peer" must be a PeerId string')
  return { peer: b.peer }
}

/** Refuses query parameters a route does not know (a typo would otherwise pass silently). */
export function checkQuery (query: URLSearchParams, allowed: readonly string[]): void {
  for (const k of new Set(query.keys())) {
    if (!allowed.includes(k)) throw bad('invalid_query', `unknown query parameter "${k}"${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}`)
    if (query.getAll(k).length > 1) throw bad('invalid_query', `query parameter "${k}" given more than once`)
  }
}

/** Cursors are opaque to clients: the last key of the previous page, base64url. */
export function encodeCursor (lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url')
}

function decodeCursor (cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8')
  // round-trip check: anything not made by encodeCursor is refused, not misread
  if (cursor === '' || encodeCursor(key) !== cursor) throw bad('invalid_query', 'invalid "cursor": pass back the nextCursor of the previous page')
  return key
}

/** Query of GET /v1/patterns. */
export function parseListQuery (query: URLSearchParams): ListOptions & { limit: number } {
  checkQuery(query, ['prefix', 'limit', 'cursor'])
  const out: ListOptions & { limit: number } = { limit: DEFAULT_PAGE }
  const prefix = query.get('prefix')
  if (prefix !== null && prefix !== '') out.prefix = prefix
  const limit = query.get('limit')
  if (limit !== null) {
    if (!/^\d{1,7}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE) {
      throw bad('invalid_query', `"limit" must be a whole number from 1 to ${MAX_PAGE}, got ${JSON.stringify(limit)}`)
    }
    out.limit = Number(limit)
  }
  const cursor = query.get('cursor')
  if (cursor !== null) out.after = decodeCursor(cursor)
  return out
}

/** `?stream=1` (or true/0/false). */
export function parseStreamFlag (query: URLSearchParams): boolean {
  checkQuery(query, ['stream'])
  const v = query.get('stream')
  if (v === null) return false
  if (/^(1|true)$/i.test(v)) return true
  if (/^(0|false)$/i.test(v)) return false
  throw bad('invalid_query', `"stream" must be 1 or 0, got ${JSON.stringify(v)}`)
}
