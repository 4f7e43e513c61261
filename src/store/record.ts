/** Reading a stored pattern record back, with corruption reported by key. */
import { decodePattern } from '../core/encoding.js'
import type { PatternState } from '../core/pattern.js'
import { StoreCorruptionError } from './errors.js'

export function decodeStored (key: string, bytes: Uint8Array): PatternState {
  let state: PatternState
  try {
    state = decodePattern(bytes)
  } catch (err) {
    throw new StoreCorruptionError(`stored pattern ${JSON.stringify(key)} is corrupt: ${(err as Error).message}`, { key, cause: err })
  }
  if (state.key !== key) {
    throw new StoreCorruptionError(`stored pattern ${JSON.stringify(key)} is corrupt: it holds pattern ${JSON.stringify(state.key)}`, { key })
  }
  return state
}
