/**
 * One convergence trial on an in-memory network of SimReplicas, every exchange a real
 * anti-entropy session (bench/lib/mem-net.ts). Two schedules:
 *
 * - permutationTrial: asynchronous rounds. In every round each node acts once, in a fresh
 *   random order (a model of unsynchronised timers), and runs one push-pull session with a
 *   uniformly random other node. Rounds are counted until every node holds the pattern.
 * - timerTrial: the product's own schedule (src/gossip/service.ts): a node's next round
 *   starts intervalMs * U(1 - jitter, 1 + jitter) after the previous one; phases start from the
 *   stationary distribution, so the write lands at a random moment of everyone's cycle.
 *   Time is in intervals; sessions take no time.
 */
import { applyWrite, type PatternState } from '../../src/core/pattern.js'
import { keyHash } from '../../src/core/encoding.js'
import { toHex } from '../../src/core/merkle.js'
import { SimReplica, runSession, type SessionStats } from './mem-net.js'
import { randInt, randOther, shuffleInPlace, type Rng } from './figures.js'
import { author } from '../../test/helpers/authors.js'

export const MAX_SIM_ROUNDS = 100

export interface TrafficTotals {
  sessions: number
  /** sessions whose roots were equal (one round trip) */
  inSync: number
  bytes: number
  /** bytes of the sessions that moved the pattern */
  transferBytes: number
  transferRoundTrips: number
  transfers: number
  /** sessions whose outcome differed from ideal push-pull (either side had it, afterwards not both) */
  deviations: number
}

export interface TrialResult {
  /** rounds (permutation) or intervals (timer) until all nodes hold the pattern; Infinity if never */
  rounds: number
  /** informed fraction after round r (permutation), or at t = r * curveStep intervals (timer) */
  curve: number[]
  /** timer schedule: initiator sessions per node between the write and full convergence, mean and max */
  countedMean?: number
  countedMax?: number
  traffic: TrafficTotals
}

function newTraffic (): TrafficTotals {
  return { sessions: 0, inSync: 0, bytes: 0, transferBytes: 0, transferRoundTrips: 0, transfers: 0, deviations: 0 }
}

function newPattern (trial: number): PatternState {
  return applyWrite(undefined, `bench/convergence/${trial}`, {
    addEpisodes: ['episode-1', 'episode-2'],
    confidence: 0.8,
    summary: 'a new consolidated pattern'
  }, author('writer-node'), 1)
}

/** A network of n replicas, one holding a new pattern; exchange(i, j) runs a real session. */
class Net {
  readonly replicas: SimReplica[]
  readonly informed: Uint8Array
  count = 1
  readonly traffic = newTraffic()
  private readonly hex: string

  constructor (readonly n: number, rng: Rng, trial: number) {
    this.replicas = Array.from({ length: n }, () => new SimReplica())
    this.informed = new Uint8Array(n)
    const p = newPattern(trial)
    this.hex = toHex(keyHash(p.key))
    const writer = randInt(rng, n)
    ;(this.replicas[writer] as SimReplica).put(p)
    this.informed[writer] = 1
  }

  exchange (i: number, j: number): void {
    const a = this.replicas[i] as SimReplica
    const b = this.replicas[j] as SimReplica
    const either = this.informed[i] === 1 || this.informed[j] === 1
    const s: SessionStats = runSession(a, b)
    const t = this.traffic
    t.sessions++
    t.bytes += s.bytes
    if (s.rootsEqual) t.inSync++
    if (s.changed > 0) { t.transfers++; t.transferBytes += s.bytes; t.transferRoundTrips += s.roundTrips }
    const hi = a.hasKeyHash(this.hex) ? 1 : 0
    const hj = b.hasKeyHash(this.hex) ? 1 : 0
    if (either && (hi === 0 || hj === 0)) t.deviations++
    this.count += (hi - (this.informed[i] as number)) + (hj - (this.informed[j] as number))
    this.informed[i] = hi
    this.informed[j] = hj
  }

  get done (): boolean {
    return this.count === this.n
  }
}

export function permutationTrial (n: number, rng: Rng, trial: number): TrialResult {
  const net = new Net(n, rng, trial)
  const order = Array.from({ length: n }, (_, i) => i)
  const curve = [net.count / n]
  let rounds = Infinity
  for (let r = 1; r <= MAX_SIM_ROUNDS && !net.done; r++) {
    shuffleInPlace(rng, order)
    for (const i of order) net.exchange(i, randOther(rng, n, i))
    curve.push(net.count / n)
    if (net.done) rounds = r
  }
  return { rounds, curve, traffic: net.traffic }
}

/** min-heap of (time, node) */
class TimerHeap {
  private readonly t: number[] = []
  private readonly id: number[] = []

  get size (): number { return this.t.length }

  push (time: number, node: number): void {
    let i = this.t.length
    this.t.push(time)
    this.id.push(node)
    while (i > 0) {
      const p = (i - 1) >> 1
      if ((this.t[p] as number) <= time) break
      this.t[i] = this.t[p] as number
      this.id[i] = this.id[p] as number
      i = p
    }
    this.t[i] = time
    this.id[i] = node
  }

  pop (): [number, number] {
    const top: [number, number] = [this.t[0] as number, this.id[0] as number]
    const lt = this.t.pop() as number
    const lid = this.id.pop() as number
    const n = this.t.length
    if (n > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const c = l + 1 < n && (this.t[l + 1] as number) < (this.t[l] as number) ? l + 1 : l
        if ((this.t[c] as number) >= lt) break
        this.t[i] = this.t[c] as number
        this.id[i] = this.id[c] as number
        i = c
      }
      this.t[i] = lt
      this.id[i] = lid
    }
    return top
  }
}

/** time to a node's next round, drawn from the stationary forward-recurrence distribution of U(1-j, 1+j) gaps */
function stationaryResidual (rng: Rng, jitter: number): number {
  const lo = 1 - jitter
  const hi = 1 + jitter
  for (let k = 0; k < 1000; k++) {
    const t = rng() * hi
    const survive = t < lo ? 1 : (hi - t) / (hi - lo)
    if (rng() < survive) return t
  }
  return rng() * hi
}

/** a uniformly random peer of node i: any other node, or one of its neighbours when a graph is given */
function partner (rng: Rng, n: number, i: number, peers?: readonly number[][]): number {
  const mine = peers?.[i]
  return mine !== undefined && mine.length > 0 ? mine[randInt(rng, mine.length)] as number : randOther(rng, n, i)
}

/** `peers` (optional): each node's gossip peers by index; the default is the complete graph */
export function timerTrial (n: number, rng: Rng, trial: number, jitter = 0.5, curveStep = 0.5, peers?: readonly number[][]): TrialResult {
  const net = new Net(n, rng, trial)
  const heap = new TimerHeap()
  for (let i = 0; i < n; i++) heap.push(stationaryResidual(rng, jitter), i)
  const started = new Uint32Array(n)
  const informedAt = new Float64Array(n).fill(Infinity)
  for (let i = 0; i < n; i++) if (net.informed[i] === 1) informedAt[i] = 0
  let rounds = Infinity
  const maxEvents = MAX_SIM_ROUNDS * n * 2
  for (let e = 0; e < maxEvents && heap.size > 0; e++) {
    const [t, i] = heap.pop()
    if (t > MAX_SIM_ROUNDS) break
    const j = partner(rng, n, i, peers)
    started[i] = (started[i] as number) + 1
    net.exchange(i, j)
    if (net.informed[i] === 1 && informedAt[i] === Infinity) informedAt[i] = t
    if (net.informed[j] === 1 && informedAt[j] === Infinity) informedAt[j] = t
    if (net.done) { rounds = t; break }
    heap.push(t + 1 - jitter + 2 * jitter * rng(), i)
  }
  const curve: number[] = []
  const horizon = Number.isFinite(rounds) ? rounds : MAX_SIM_ROUNDS
  for (let k = 0; k * curveStep <= horizon + curveStep && k < 10_000; k++) {
    let c = 0
    for (let i = 0; i < n; i++) if ((informedAt[i] as number) <= k * curveStep) c++
    curve.push(c / n)
  }
  let sum = 0
  let max = 0
  for (let i = 0; i < n; i++) { sum += started[i] as number; max = Math.max(max, started[i] as number) }
  return { rounds, curve, countedMean: sum / n, countedMax: max, traffic: net.traffic }
}
