/**
 * Reference models for rumour spreading on a complete graph of N nodes, to compare the
 * measured convergence with. All are about one new item starting on one node.
 *
 * - meanFieldAsyncRounds: deterministic mean-field of our simulated schedule (each round every
 *   node acts once, in random order, and does a push-pull exchange with a uniformly random
 *   other node). Within a round, with s the fraction of nodes that already acted, a(s) the
 *   fraction of not-yet-acted nodes that are uninformed and B(s) the fraction of all nodes
 *   that acted and are still uninformed (their pull failed):
 *       da/ds = -a (1 - a)                       (informed actors push into them)
 *       dB/ds = a (1 - I) - (1 - a) B,  I = 1 - a (1 - s) - B
 *   and the next round starts with a = B(1), B = 0.
 * - meanFieldSyncRounds: the classic synchronous push-pull (Karp et al. 2000): an uninformed
 *   node stays so iff its own pull hits an uninformed node and no informed node pushes to it:
 *       u' = u * (uN - 1)/(N - 1) * (1 - 1/(N - 1))^((1 - u) N)
 * - logisticCurve: the continuous-time (Poisson clocks, rate 1 per interval) push-pull mean
 *   field dx/dt = 2 x (1 - x), x(0) = 1/N.
 * - ASYNC_EARLY_GROWTH: linearising the first system while few nodes are informed (y_n informed
 *   and not yet acted, y_a informed and acted; y_n(0) = 1, y_a(0) = 0) gives y_n = (1 - s) e^s,
 *   y_a = 2 s e^s, so the informed count grows by 2e ~ 5.44 per round: rounds ~ log_2e(N) + tail,
 *   against 3 per round (log_3 N) for synchronous push-pull.
 * - expectedRounds: E[T] from a mean-field curve with a Poisson tail:
 *       P(T <= r) ~ exp(-N u_r), E[T] = sum_r (1 - exp(-N u_r)).
 */
import { randInt, randOther, type Rng } from './figures.js'
import { fanoutFor, type Fanout } from '../../src/gossip/push.js'

const STEPS_PER_ROUND = 2000
export const ASYNC_EARLY_GROWTH = 2 * Math.E
const MAX_THEORY_ROUNDS = 200

function untilDone (n: number, next: (u: number) => number): number[] {
  const informed: number[] = [1 / n]
  let u = 1 - 1 / n
  for (let r = 0; r < MAX_THEORY_ROUNDS && n * u > 1e-6; r++) {
    u = Math.max(0, next(u))
    informed.push(1 - u)
  }
  return informed
}

/** informed fraction after each round (index 0 = before the first round) */
export function meanFieldAsyncRounds (n: number): number[] {
  return untilDone(n, u0 => {
    const h = 1 / STEPS_PER_ROUND
    let a = u0
    let B = 0
    for (let k = 0; k < STEPS_PER_ROUND; k++) {
      const s = k * h
      const I = 1 - a * (1 - s) - B
      const da = -a * (1 - a)
      const dB = a * (1 - I) - (1 - a) * B
      a += h * da
      B += h * dB
    }
    return B
  })
}

export function meanFieldSyncRounds (n: number): number[] {
  return untilDone(n, u => {
    const pullFails = Math.max(0, (u * n - 1) / (n - 1))
    const noPush = Math.pow(1 - 1 / (n - 1), (1 - u) * n)
    return u * pullFails * noPush
  })
}

/** x(t) at t = 0, step, 2 step, ... (t in intervals) until within 1/(2N) of 1 */
export function logisticCurve (n: number, step = 0.25): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (let i = 0; i <= 400; i++) {
    const t = i * step
    const x = 1 / (1 + (n - 1) * Math.exp(-2 * t))
    out.push([t, x])
    if (n * (1 - x) < 0.5) break
  }
  return out
}

export function expectedRounds (informed: readonly number[], n: number): number {
  let e = 0
  for (const x of informed) e += 1 - Math.exp(-n * (1 - x))
  return e
}

/** closed-form references, all in rounds */
export function closedForms (n: number): Record<string, number> {
  const lnln = Math.log(Math.log(n))
  return {
    log2eN: Math.log(n) / Math.log(ASYNC_EARLY_GROWTH),
    log3N: Math.log(n) / Math.log(3),
    log2N: Math.log2(n),
    lnN: Math.log(n),
    log3NplusLnLnN: Math.log(n) / Math.log(3) + lnln,
    log2NplusLnLnN: Math.log2(n) + lnln,
    /** synchronous push only (Frieze-Grimmett, Pittel) */
    log2NplusLnN: Math.log2(n) + Math.log(n)
  }
}

/** Monte Carlo of synchronous push-pull on the abstract model (no product code): rounds to all */
export function syncPushPullTrial (n: number, rng: Rng, maxRounds = 200): number {
  let informed = new Uint8Array(n)
  informed[randInt(rng, n)] = 1
  let count = 1
  for (let r = 1; r <= maxRounds; r++) {
    const next = informed.slice()
    for (let i = 0; i < n; i++) {
      const j = randOther(rng, n, i)
      if (informed[i] === 1 || informed[j] === 1) { next[i] = 1; next[j] = 1 }
    }
    informed = next
    count = informed.reduce((s, x) => s + x, 0)
    if (count === n) return r
  }
  return Infinity
}

/**
 * Eager push as the product does it (infect and die): the writer pushes to `fanout` random
 * peers; every node whose state a push changed forwards once to `fanout` random peers other
 * than the sender (its neighbours, if a graph is given). Returns how many nodes never receive it
 * (anti-entropy must bring it there).
 */
export function infectAndDieMissed (n: number, fanout: Fanout, rng: Rng, peers?: readonly number[][]): { missed: number, pushes: number } {
  const has = new Uint8Array(n)
  const writer = randInt(rng, n)
  has[writer] = 1
  const queue: Array<[number, number]> = [[writer, -1]]
  let pushes = 0
  for (let q = 0; q < queue.length; q++) {
    const [node, from] = queue[q] as [number, number]
    const pool: number[] = []
    if (peers !== undefined) {
      for (const k of peers[node] ?? []) if (k !== from) pool.push(k)
    } else {
      for (let k = 0; k < n; k++) if (k !== node && k !== from) pool.push(k)
    }
    // 'auto' sizes by the node's own gossip peers, as the product does (src/gossip/push.ts)
    const k = fanoutFor(fanout, peers !== undefined ? (peers[node] ?? []).length : n - 1)
    for (let f = 0; f < k && pool.length > 0; f++) {
      const target = pool.splice(randInt(rng, pool.length), 1)[0] as number
      pushes++
      if (has[target] === 0) { has[target] = 1; queue.push([target, node]) }
    }
  }
  return { missed: n - has.reduce((s, x) => s + x, 0), pushes }
}
