/**
 * Prometheus metrics of one Engram node. Each call makes its own Registry: several nodes can
 * live in one process (tests, embedders), and prom-client's global default registry would mix
 * them or throw on the second registration. Default process metrics are left out on purpose:
 * they install process-wide observers that a per-node close() could not remove cleanly.
 *
 * Counters follow the node's events (`round`, `merge`); gauges are read at scrape time, so
 * they never go stale between events.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { EngramNodeEvents, EngramNodePort, MergeKind, NodeCounts, PeerRefusal, RefusedInfo, RefusedReason, RoundReport } from '../node/types.js'

export interface NodeMetrics {
  readonly registry: Registry
  /** the Content-Type header for `render()`'s text */
  readonly contentType: string
  /** the Prometheus text exposition of every metric */
  render(): Promise<string>
  /** stops following the node's events (gauges still read it if rendered again) */
  close(): void
}

const MERGE_KINDS: readonly MergeKind[] = ['new', 'newer', 'older', 'equal', 'concurrent']
const REFUSED_REASONS: readonly RefusedReason[] = ['forged', 'unverifiable', 'untrusted', 'unproven']
const PEER_REFUSALS: readonly PeerRefusal[] = ['too-many-streams', 'busy', 'cooldown', 'inbound-budget', 'slow-frame', 'protocol-violation', 'push-quota']

/** Gauges of one number the node counts: name, help, which count */
const COUNT_GAUGES: ReadonlyArray<[string, string, (c: NodeCounts) => number]> = [
  ['engram_patterns', 'Patterns held by this node (tombstones included)', c => c.patterns],
  ['engram_connected_peers', 'Distinct peers with an open connection', c => c.connectedPeers],
  ['engram_gossip_peers', 'Connected peers that speak the gossip protocol', c => c.gossipPeers]
]

/** Counters of a node event each, one per event: which event, name, help */
const EVENT_COUNTERS: ReadonlyArray<[keyof EngramNodeEvents, string, string]> = [
  ['equivocation', 'engram_equivocations_total',
    'Writes received with another content than the one held for the same dot (a faulty or hostile writer; resolved the same way everywhere)'],
  ['double-signed', 'engram_double_signed_writes_total',
    'Writes received under another signature than the one held (its author signed it twice: a faulty or hostile writer; every node keeps the larger)'],
  ['repaired', 'engram_repair_writes_total',
    'Writes this node made over a join it would not keep (writers that lie about what they saw): both sides take the write']
]

/** Sessions end within the session timeout (60 s); most are a few ms on a LAN. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export function createNodeMetrics (node: EngramNodePort): NodeMetrics {
  const registry = new Registry()
  const registers = [registry]

  const sessions = new Counter({
    name: 'engram_gossip_sessions_total',
    help: 'Finished gossip sessions (anti-entropy rounds and eager pushes) by role and outcome',
    labelNames: ['role', 'outcome'] as const,
    registers
  })
  /** per finished session, by role: a counter each */
  const byRole = (name: string, help: string): Counter<'role'> => new Counter({ name, help, labelNames: ['role'] as const, registers })
  const bytesSent = byRole('engram_gossip_bytes_sent_total', 'Bytes sent in gossip sessions, by role')
  const bytesReceived = byRole('engram_gossip_bytes_received_total', 'Bytes received in gossip sessions, by role')
  const patternsSent = byRole('engram_patterns_sent_total', 'Patterns sent to peers, by session role')
  const patternsReceived = byRole('engram_patterns_received_total', 'Patterns received from peers, by session role (changed or not)')
  const merges = new Counter({
    name: 'engram_merges_total',
    help: 'Incoming pattern states by how they related to the local one',
    labelNames: ['kind'] as const,
    registers
  })
  const writersDropped = new Counter({
    name: 'engram_writers_dropped_total',
    help: 'Writers of a key left out by a merge: the key had more writers than a pattern keeps (the same ones on every node)',
    registers
  })
  const refused = new Counter({
    name: 'engram_writes_refused_total',
    help: 'Received patterns not merged because a write they name was not believed, by reason (forged, unverifiable, untrusted, unproven)',
    labelNames: ['reason'] as const,
    registers
  })
  const peerRefusals = new Counter({
    name: 'engram_peer_refusals_total',
    help: 'Times this node refused or cut a peer, or left out part of what it sent, by reason (streams, busy, cooldown, budget, slow frame, ' +
      'protocol violation, push quota); the log names the peer',
    labelNames: ['reason'] as const,
    registers
  })
  const pushes = new Counter({
    name: 'engram_eager_pushes_total',
    help: 'Eager pushes of local writes to peers (push-out sessions), any outcome',
    registers
  })
  const duration = new Histogram({
    name: 'engram_gossip_session_duration_seconds',
    help: 'Duration of finished gossip sessions, by role',
    labelNames: ['role'] as const,
    buckets: DURATION_BUCKETS,
    registers
  })
  // Gauges are read only at scrape time (collect); constructing one registers it in `registry`
  // through `registers`, which is all it needs, so nothing keeps a handle on them.
  /* eslint-disable no-new -- prom-client metrics register themselves on construction */
  for (const [name, help, read] of COUNT_GAUGES) {
    new Gauge({ name, help, registers, async collect () { this.set(read(await node.counts())) } })
  }
  new Gauge({
    name: 'engram_peer_roots_equal',
    help: 'Per peer: 1 if the Merkle roots were equal at the start of the last exchange, else 0',
    labelNames: ['peer'] as const,
    registers,
    async collect () {
      const { peersInSync } = await node.counts()
      // rebuilt on each scrape so the series follow the node's map exactly
      this.reset()
      for (const [peer, equal] of Object.entries(peersInSync)) this.set({ peer }, equal ? 1 : 0)
    }
  })
  /* eslint-enable no-new */

  // zero series up front: a rate() over a series that appears mid-way misses its first step
  for (const kind of MERGE_KINDS) merges.inc({ kind }, 0)
  pushes.inc(0)
  writersDropped.inc(0)
  for (const reason of REFUSED_REASONS) refused.inc({ reason }, 0)
  for (const reason of PEER_REFUSALS) peerRefusals.inc({ reason }, 0)

  const onRound = (ev: CustomEvent<RoundReport>): void => {
    const r = ev.detail
    const role = r.role
    sessions.inc({ role, outcome: r.outcome })
    bytesSent.inc({ role }, r.bytesOut)
    bytesReceived.inc({ role }, r.bytesIn)
    patternsSent.inc({ role }, r.patternsOut)
    patternsReceived.inc({ role }, r.patternsIn)
    duration.observe({ role }, r.ms / 1000)
    if (role === 'push-out') pushes.inc()
    if (r.refusal !== undefined) peerRefusals.inc({ reason: r.refusal })
  }
  const onMerge = (ev: CustomEvent<Record<MergeKind, number>>): void => {
    for (const kind of MERGE_KINDS) {
      const n = ev.detail[kind] ?? 0
      if (n > 0) merges.inc({ kind }, n)
    }
  }
  node.addEventListener('round', onRound)
  node.addEventListener('merge', onMerge)
  // one count per event; each returns how to stop following it
  const perEvent = EVENT_COUNTERS.map(([event, name, help]) => {
    const counter = new Counter({ name, help, registers })
    counter.inc(0)
    const on = (): void => { counter.inc() }
    node.addEventListener(event, on)
    return () => { node.removeEventListener(event, on) }
  })
  const onWritersDropped = (ev: CustomEvent<{ writers: string[] }>): void => { writersDropped.inc(ev.detail.writers.length) }
  node.addEventListener('writers-dropped', onWritersDropped)
  const onRefused = (ev: CustomEvent<RefusedInfo>): void => { refused.inc({ reason: ev.detail.reason }) }
  node.addEventListener('refused', onRefused)

  return {
    registry,
    contentType: registry.contentType,
    render: async () => await registry.metrics(),
    close: () => {
      node.removeEventListener('round', onRound)
      node.removeEventListener('merge', onMerge)
      for (const off of perEvent) off()
      node.removeEventListener('writers-dropped', onWritersDropped)
      node.removeEventListener('refused', onRefused)
    }
  }
}
