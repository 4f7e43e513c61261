/** Pattern records: what the API, the CLI and the library's events show of a stored state. */
import type { EncodedPattern } from '../core/encoded-pattern.js'
import { toHex } from '../core/merkle.js'
import { viewOf } from '../core/pattern.js'
import { clockToObject } from '../core/vector-clock.js'
import type { PatternRecord } from './types.js'

/** A record from a state as stored: its digest comes with it, nothing is encoded again. */
export function toRecord (p: EncodedPattern): PatternRecord {
  return { ...viewOf(p.state), clock: clockToObject(p.state.clock), digest: toHex(p.digest) }
}
