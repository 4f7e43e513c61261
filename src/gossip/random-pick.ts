/**
 * Random choice of gossip peers (timer rounds, an operator's sync, eager push): one draw per
 * peer taken, so a retry after a busy peer costs a draw only when it happens.
 */

/** The items in random order, drawn lazily; the input is not changed. */
export function * randomOrder<T> (items: readonly T[], random: () => number): Generator<T, void, undefined> {
  const pool = [...items]
  while (pool.length > 0) yield pool.splice(Math.floor(random() * pool.length), 1)[0] as T
}

/** Up to n distinct items chosen at random. */
export function pickRandom<T> (items: readonly T[], n: number, random: () => number): T[] {
  const out: T[] = []
  if (n <= 0) return out
  for (const item of randomOrder(items, random)) {
    out.push(item)
    if (out.length >= n) break
  }
  return out
}
