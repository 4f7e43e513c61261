/**
 * Checks of what a local write brings (key, confidence, episode ids, summary) before it becomes
 * a signed write: the limits of limits.ts, and text that survives encoding unchanged.
 */
import { isWellFormedText, utf8Length } from './bytes.js'
import { InvalidPatternError, LimitExceededError } from './errors.js'
import { MAX_EPISODE_ID_BYTES, MAX_KEY_BYTES, MAX_SUMMARY_BYTES } from './limits.js'

/** Refuses text that would not survive encoding unchanged (see isWellFormedText). */
function checkText (s: string, what: string): void {
  if (!isWellFormedText(s)) throw new InvalidPatternError(`${what} is not well-formed Unicode (it holds a lone surrogate)`)
}

export function checkKey (key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidPatternError('pattern key must be a non-empty string')
  checkText(key, 'pattern key')
  if (utf8Length(key) > MAX_KEY_BYTES) throw new LimitExceededError(`pattern key is longer than ${MAX_KEY_BYTES} bytes`)
}

export function checkConfidence (c: number): void {
  if (typeof c !== 'number' || !Number.isFinite(c) || c < 0 || c > 1) {
    throw new InvalidPatternError(`confidence must be a number in [0, 1], got ${String(c)}`)
  }
}

export function checkEpisodeId (id: string): void {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidPatternError('episode id must be a non-empty string')
  checkText(id, `episode id ${JSON.stringify(id)}`)
  if (utf8Length(id) > MAX_EPISODE_ID_BYTES) throw new LimitExceededError(`episode id is longer than ${MAX_EPISODE_ID_BYTES} bytes`)
}

export function checkSummary (s: string): void {
  if (typeof s !== 'string') throw new InvalidPatternError('summary must be a string')
  checkText(s, 'summary')
  if (utf8Length(s) > MAX_SUMMARY_BYTES) throw new LimitExceededError(`summary is longer than ${MAX_SUMMARY_BYTES} bytes`)
}
