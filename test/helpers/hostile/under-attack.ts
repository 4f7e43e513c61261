/**
 * Runs one attack on a victim process and watches, while it runs, the three things a node under
 * attack must keep doing: an honest peer completes sessions with it, its local API answers
 * within a second, and its heap (after GC) does not grow with the attack. Every loop here is
 * bounded by the attack's own time bound.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import type { GossipNode } from '../gossip-nodes.js'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { API_BOUND_MS, type ProbeResult } from './api-prober.js'
import type { Victim } from './victim.js'

/** What an attack did: the bytes it sent and the requests (streams, sessions or frames) it made. */
export interface AttackTally {
  bytes: number
  requests: number
}

/** An attack runs until the signal is aborted and then returns its tally. */
export type Attack<T extends AttackTally = AttackTally> = (signal: AbortSignal) => Promise<T>

export interface AttackBounds {
  /** the attack runs at least this long… */
  minMs: number
  /** …and until the honest peer completed this many sessions, or this long at most */
  maxMs: number
  minHonestSyncs?: number
}

export interface HostileReport extends AttackTally {
  ms: number
  /** honest sessions that ended synced while the attack ran, and every honest outcome */
  honestSyncs: number
  honestOutcomes: string[]
  /** the slowest API answer while the attack ran, and any that failed or came too late */
  apiSlowestMs: number
  apiProbes: number
  apiFailures: string[]
  /** the victim's heap after GC, after the attack minus before it */
  heapGrowth: number
  /** the victim's CPU while the attack ran (the honest sessions and API calls included) */
  victimCpuMs: number
  /** the same less what the honest sessions and API calls cost alone, measured before the attack */
  attackCpuMs: number
  /** the victim's longest event-loop delay while the attack ran */
  victimDelayMs: number
}

const HONEST_SYNC_EVERY_MS = 200
/** the watchers run alone this long first, to tell their CPU from the attack's */
const BASELINE_MS = 2000
const PROBER = fileURLToPath(new URL('./api-prober.ts', import.meta.url))

/** The API prober in a process of its own (api-prober.ts); stop() ends it and gives its result. */
function startProber (victim: Victim): { stop: () => Promise<ProbeResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', PROBER, victim.api, victim.token], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const result = once(child, 'message').then(([m]) => m as ProbeResult)
  const exited = once(child, 'exit')
  return {
    async stop () {
      child.send('stop')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      try {
        return await Promise.race([result, exited.then(() => { throw new Error('the API prober exited without a result') })])
      } finally {
        clearTimeout(timer)
      }
    }
  }
}

async function syncHonestly (honest: GossipNode, victim: Victim, signal: AbortSignal, report: HostileReport): Promise<void> {
  const peer = peerIdFromString(victim.peerId)
  for (let i = 0; !signal.aborted; i++) {
    // something new each time, so a completed session is a synced one, never in-sync
    await honest.replica.write(`honest/${Date.now()}/${i}`, { addEpisodes: ['h'], confidence: 0.5 })
    const r = await honest.gossip.syncNow(peer).catch((err: Error) => ({ outcome: `threw ${err.name}` }))
    // a session that ends after the attack stopped does not count as one during it
    if (!signal.aborted && r.outcome === 'synced') report.honestSyncs++
    report.honestOutcomes.push(r.outcome)
    await sleep(HONEST_SYNC_EVERY_MS)
  }
}

export { API_BOUND_MS }

export async function underAttack<T extends AttackTally> (
  victim: Victim, honest: GossipNode, attack: Attack<T>, bounds: AttackBounds
): Promise<HostileReport & { tally: T }> {
  const zero = { bytes: 0, requests: 0, ms: 0, honestSyncs: 0, apiSlowestMs: 0, apiProbes: 0, heapGrowth: 0, victimCpuMs: 0, attackCpuMs: 0, victimDelayMs: 0 }
  const report: HostileReport = { ...zero, honestOutcomes: [], apiFailures: [] }
  // one honest session first, so that what any session sets up once is in the baseline
  await honest.gossip.syncNow(peerIdFromString(victim.peerId))
  const calm = await victim.measure()
  const quiet = new AbortController()
  const scratch = { ...report, honestOutcomes: [], apiFailures: [] }
  const tq = performance.now()
  const quietProber = startProber(victim)
  const alone = syncHonestly(honest, victim, quiet.signal, scratch)
  await sleep(BASELINE_MS)
  quiet.abort()
  await Promise.all([alone, quietProber.stop()])
  const watchersUsPerMs = ((await victim.measure()).cpuUs - calm.cpuUs) / (performance.now() - tq)

  const before = await victim.measure()
  const stop = new AbortController()
  const t0 = performance.now()
  const prober = startProber(victim)
  const honestly = syncHonestly(honest, victim, stop.signal, report)
  const attacking = attack(stop.signal)
  const minSyncs = bounds.minHonestSyncs ?? 1
  while (performance.now() - t0 < bounds.maxMs) {
    if (performance.now() - t0 >= bounds.minMs && report.honestSyncs >= minSyncs) break
    await sleep(50)
  }
  stop.abort()
  const tally = await attacking
  report.ms = performance.now() - t0
  await honestly
  const api = await prober.stop()
  report.apiProbes = api.probes
  report.apiSlowestMs = api.slowestMs
  report.apiFailures = api.failures
  const after = await victim.measure()
  report.bytes = tally.bytes
  report.requests = tally.requests
  report.heapGrowth = after.heapUsed - before.heapUsed
  report.victimDelayMs = after.maxDelayMs
  report.victimCpuMs = (after.cpuUs - before.cpuUs) / 1000
  report.attackCpuMs = Math.max(0, report.victimCpuMs - watchersUsPerMs * report.ms / 1000)
  return { ...report, tally }
}

const mib = (n: number): string => `${(n / 1048576).toFixed(2)} MiB`

/** One line per attack for the test output: what it cost the victim per attacker byte and request. */
export function describeReport (name: string, r: HostileReport): string {
  const per = (total: number, n: number, digits: number): string => n > 0 ? (total / n).toFixed(digits) : '-'
  return `# ${name}: ${r.requests} attacker requests, ${r.bytes} attacker bytes in ${(r.ms / 1000).toFixed(1)} s; ` +
    `victim CPU above the honest load ${r.attackCpuMs.toFixed(0)} ms = ${per(r.attackCpuMs * 1e3, r.bytes, 3)} µs per attacker byte, ` +
    `${per(r.attackCpuMs, r.requests, 2)} ms per request (with the honest load ${r.victimCpuMs.toFixed(0)} ms); ` +
    `honest sessions synced ${r.honestSyncs}; API slowest ${r.apiSlowestMs.toFixed(0)} ms of ${r.apiProbes}; ` +
    `victim's longest event-loop delay ${r.victimDelayMs.toFixed(0)} ms; ` +
    `victim heap after GC ${r.heapGrowth >= 0 ? '+' : ''}${mib(r.heapGrowth)}`
}
