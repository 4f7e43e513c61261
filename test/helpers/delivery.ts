/** Random delivery for property tests: the order a gossiping replica may receive states in. */

/** `items` with about a third of them twice, shuffled (Fisher–Yates), all choices drawn from `rand`. */
export function randomDelivery<T> (items: readonly T[], rand: Iterator<number>): T[] {
  const order = [...items, ...items.filter(() => rand.next().value % 3 === 0)]
  for (let i = order.length - 1; i > 0; i--) {
    const j = rand.next().value % (i + 1)
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return order
}
