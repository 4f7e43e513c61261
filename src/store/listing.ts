/** Paged, ordered reads of the store's patterns and meta entries, straight off the LevelDB iterator. */
import { StoreCorruptionError } from './errors.js'
import { P_META, P_PATTERN, patternKey, range, suffixText } from './layout.js'
import type { RawDb } from './recovery.js'

export interface ListOptions {
  /** only keys starting with this */
  prefix?: string
  /** cursor: only keys after this one (the last key of the previous page) */
  after?: string
  /** page size, default DEFAULT_LIST_LIMIT */
  limit?: number
}

export interface MetaEntry {
  name: string
  value: Uint8Array
}

export const DEFAULT_LIST_LIMIT = 1000

const encoder = new TextEncoder()

/** One page of stored [key, bytes] in key (UTF-8 byte) order; pass the last key as `after` for the next. */
export async function listPatterns (db: RawDb, options: ListOptions = {}): Promise<Array<[string, Uint8Array]>> {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`list limit must be a positive integer, got ${limit}`)
  const bounds = range(P_PATTERN, encoder.encode(options.prefix ?? ''))
  const after = options.after === undefined ? undefined : patternKey(options.after)
  const lower = after !== undefined && Buffer.compare(after, bounds.gte) >= 0 ? { gt: after } : { gte: bounds.gte }
  const out: Array<[string, Uint8Array]> = []
  for await (const [k, v] of db.iterator({ ...lower, lt: bounds.lt, limit })) {
    const key = suffixText(k)
    if (key === undefined) throw new StoreCorruptionError('a stored pattern key is not valid UTF-8')
    out.push([key, v])
  }
  return out
}

/** Meta entries whose names start with `prefix`, in name order. */
export async function listMetaEntries (db: RawDb, prefix: string): Promise<MetaEntry[]> {
  const out: MetaEntry[] = []
  for await (const [k, v] of db.iterator(range(P_META, encoder.encode(prefix)))) {
    const name = suffixText(k)
    if (name !== undefined) out.push({ name, value: new Uint8Array(v) })
  }
  return out
}
