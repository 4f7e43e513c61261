/** Merges for property tests: a crowd merged at once, the join's laws, and replicas that receive states in random orders. */
import assert from 'node:assert/strict'
import { decodePattern, encodePattern } from '../../src/core/encoding.js'
import { mergePatterns } from '../../src/core/merge.js'
import type { PatternState } from '../../src/core/pattern.js'
import { randomDelivery } from './delivery.js'

/** The balanced merge of `states` (the join is associative): log n levels instead of n merges into a growing state. */
export function mergeAll (states: readonly PatternState[]): PatternState {
  let level = [...states]
  while (level.length > 1) {
    const next: PatternState[] = []
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? mergePatterns(level[i]!, level[i + 1]!) : level[i]!)
    level = next
  }
  return level[0]!
}

/**
 * What each of `replicas` replicas holds after receiving `states` in its own random order with
 * duplicates (randomDelivery); `check` sees every state a merge made on the way, with its step.
 */
export function replicasAfterDelivery (states: readonly PatternState[], rand: Iterator<number>, replicas: number,
  check: (s: PatternState, step: number) => void = () => {}): PatternState[] {
  return Array.from({ length: replicas }, () => {
    const order = randomDelivery(states, rand)
    let acc = order[0]!
    for (const [step, s] of order.slice(1).entries()) {
      acc = mergePatterns(acc, s)
      check(acc, step)
    }
    return acc
  })
}

const hex = (s: PatternState): string => Buffer.from(encodePattern(s)).toString('hex')

/**
 * Asserts the join's laws on three states of one key, byte for byte: commutative, associative,
 * idempotent, and absorbing (merging in what is already merged changes nothing). Gives a ⊔ b.
 */
export function assertJoinLaws (a: PatternState, b: PatternState, c: PatternState): PatternState {
  const ab = mergePatterns(a, b)
  assert.equal(hex(ab), hex(mergePatterns(b, a)))
  assert.equal(hex(mergePatterns(a, mergePatterns(b, c))), hex(mergePatterns(ab, c)))
  assert.equal(hex(mergePatterns(a, a)), hex(a))
  assert.equal(hex(mergePatterns(ab, b)), hex(ab))
  return ab
}

/** Whether a state is one a node keeps: it encodes, and decodes back to the same bytes. */
export function stores (s: PatternState): boolean {
  try {
    return hex(decodePattern(encodePattern(s))) === hex(s)
  } catch {
    return false
  }
}
