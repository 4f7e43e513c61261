/**
 * Node metrics on real nodes over 127.0.0.1: the exposition parses strictly, every metric is
 * there with its type, and a sync, an eager push and merges move the counters. Two nodes'
 * registries live side by side in this one process.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startEngram, stopEngrams, waitForConnectSyncs, waitForMesh, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { createNodeMetrics, type NodeMetrics } from '../../src/daemon/metrics.js'

interface Sample { name: string, labels: Record<string, string>, value: number }
interface Family { name: string, type?: string, help?: string, samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

function parseValue (s: string, line: string): number {
  if (s === '+Inf') return Infinity
  if (s === '-Inf') return -Infinity
  if (s === 'NaN') return NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value in: ${line}`)
  return Number(s)
}

/** `{a="x",b="y\"z"}` body (without braces) -> labels; escapes are \\, \" and \n only. */
function parseLabels (body: string, line: string): Record<string, string> {
  const out: Record<string, string> = {}
  let i = 0
  while (i < body.length) {
    const eq = body.indexOf('=', i)
    if (eq < 0) throw new Error(`bad labels in: ${line}`)
    const name = body.slice(i, eq)
    if (!LABEL.test(name) || name in out) throw new Error(`bad or repeated label ${name} in: ${line}`)
    if (body[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`)
    let value = ''
    let j = eq + 2
    for (; j < body.length && body[j] !== '"'; j++) {
      if (body[j] === '\\') {
        const e = body[++j]
        if (e === '\\') value += '\\'
        else if (e === '"') value += '"'
        else if (e === 'n') value += '\n'
        else throw new Error(`bad escape in: ${line}`)
      } else value += body[j]
    }
    if (j >= body.length) throw new Error(`unterminated label value in: ${line}`)
    out[name] = value
    i = j + 1
    if (i < body.length) {
      if (body[i] !== ',') throw new Error(`expected , in: ${line}`)
      i++
    }
  }
  return out
}

/** Families of the Prometheus text format 0.0.4; throws on anything malformed. */
function parseExposition (text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'exposition ends with a newline')
  const families = new Map<string, Family>()
  const closed = new Set<string>()
  let current: Family | undefined
  const family = (name: string): Family => {
    let f = families.get(name)
    if (f === undefined) families.set(name, f = { name, samples: [] })
    return f
  }
  const owner = (sample: string): Family => {
    for (const [suffix, types] of [['', null], ['_bucket', ['histogram']], ['_sum', ['histogram', 'summary']], ['_count', ['histogram', 'summary']]] as const) {
      if (!sample.endsWith(suffix)) continue
      const f = families.get(sample.slice(0, sample.length - suffix.length))
      if (f?.type !== undefined && (types === null || (types as readonly string[]).includes(f.type))) return f
    }
    throw new Error(`sample ${sample} has no # TYPE before it`)
  }
  const series = new Set<string>()
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string]
      if (!NAME.test(name)) throw new Error(`bad metric name: ${line}`)
      const f = family(name)
      if (f.samples.length > 0) throw new Error(`${kind} after samples: ${line}`)
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`second HELP: ${line}`)
        f.help = rest
      } else {
        if (f.type !== undefined || !TYPES.has(rest)) throw new Error(`bad or second TYPE: ${line}`)
        f.type = rest
      }
      continue
    }
    if (line.startsWith('#')) continue
    const m = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/.exec(line)
    if (m === null || !NAME.test(m[1]!)) throw new Error(`bad sample line: ${line}`)
    const labels = parseLabels(m[2] ?? '', line)
    const f = owner(m[1]!)
    if (current !== f) {
      if (closed.has(f.name)) throw new Error(`family ${f.name} is not contiguous`)
      if (current !== undefined) closed.add(current.name)
      current = f
    }
    const key = m[1]! + JSON.stringify(Object.entries(labels).sort())
    if (series.has(key)) throw new Error(`duplicate series: ${line}`)
    series.add(key)
    const value = parseValue(m[3]!, line)
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`negative counter: ${line}`)
    f.samples.push({ name: m[1]!, labels, value })
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

/** Buckets cumulative per label set, ending in +Inf equal to _count. */
function checkHistogram (f: Family): void {
  const groups = new Map<string, Sample[]>()
  for (const s of f.samples.filter(s => s.name === `${f.name}_bucket`)) {
    const { le, ...rest } = s.labels
    assert.ok(le !== undefined, `${f.name}_bucket without le`)
    const k = JSON.stringify(Object.entries(rest).sort())
    groups.set(k, [...(groups.get(k) ?? []), s])
  }
  for (const [k, buckets] of groups) {
    buckets.sort((a, b) => parseValue(a.labels.le!, '') - parseValue(b.labels.le!, ''))
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${f.name} buckets cumulative`)
    assert.equal(buckets.at(-1)!.labels.le, '+Inf')
    const count = f.samples.find(s => s.name === `${f.name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === k)
    assert.equal(count?.value, buckets.at(-1)!.value, `${f.name}_count equals the +Inf bucket`)
  }
}

/** The value of one series (labels must match exactly); undefined if absent. */
function value (families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort())
  for (const f of families.values()) {
    const s = f.samples.find(s => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)
    if (s !== undefined) return s.value
  }
  return undefined
}

const EXPECTED: Record<string, string> = {
  engram_gossip_sessions_total: 'counter',
  engram_gossip_bytes_sent_total: 'counter',
  engram_gossip_bytes_received_total: 'counter',
  engram_patterns_sent_total: 'counter',
  engram_patterns_received_total: 'counter',
  engram_merges_total: 'counter',
  engram_eager_pushes_total: 'counter',
  engram_equivocations_total: 'counter',
  engram_double_signed_writes_total: 'counter',
  engram_repair_writes_total: 'counter',
  engram_gossip_session_duration_seconds: 'histogram',
  engram_patterns: 'gauge',
  engram_connected_peers: 'gauge',
  engram_gossip_peers: 'gauge',
  engram_peer_roots_equal: 'gauge'
}

const scrape = async (m: NodeMetrics): Promise<Map<string, Family>> => parseExposition(await m.render())

const nodes: TestEngram[] = []
const metrics: NodeMetrics[] = []
after(async () => {
  for (const m of metrics) m.close()
  await stopEngrams(nodes)
})

describe('node metrics', { timeout: 90_000 }, () => {
  it('expose every metric with its type, and count a sync, merges and an eager push', async () => {
    // a pushes its writes; b does not, so b's writes reach a only by the sync we run
    const a = await startEngram({ fanout: 2 })
    nodes.push(a)
    const b = await startEngram({ fanout: 0, join: [a.node.addresses()[0]!] })
    nodes.push(b)
    await waitForMesh(nodes)
    // the session the two get on connect comes before the metrics, so the counts below are ours
    await waitForConnectSyncs(nodes)
    const bId = b.node.peerId.toString()
    const ma = createNodeMetrics(a.node)
    const mb = createNodeMetrics(b.node)
    metrics.push(ma, mb)
    assert.notEqual(ma.registry, mb.registry)
    assert.match(ma.contentType, /^text\/plain; version=0\.0\.4/)

    let fa = await scrape(ma)
    for (const [name, type] of Object.entries(EXPECTED)) {
      assert.equal(fa.get(name)?.type, type, `${name} is a ${type}`)
      assert.ok((fa.get(name)?.help ?? '') !== '', `${name} has help`)
    }
    for (const f of fa.values()) assert.ok(f.name.startsWith('engram_'), `${f.name} has the engram_ prefix`)
    assert.equal(value(fa, 'engram_patterns'), 0)
    assert.equal(value(fa, 'engram_gossip_peers'), 1)
    assert.equal(value(fa, 'engram_connected_peers'), 1)
    assert.equal(value(fa, 'engram_merges_total', { kind: 'new' }), 0)
    assert.equal(value(fa, 'engram_eager_pushes_total'), 0)

    for (let i = 0; i < 3; i++) await b.node.put(`m/${i}`, { addEpisodes: [`e${i}`], confidence: 0.5 })
    const report = await a.node.syncNow(b.node.peerId)
    assert.equal(report.outcome, 'synced')
    assert.equal(report.patternsIn, 3)
    fa = await scrape(ma)
    assert.equal(value(fa, 'engram_gossip_sessions_total', { role: 'initiator', outcome: 'synced' }), 1)
    assert.equal(value(fa, 'engram_patterns_received_total', { role: 'initiator' }), 3)
    assert.equal(value(fa, 'engram_gossip_bytes_received_total', { role: 'initiator' }), report.bytesIn)
    assert.equal(value(fa, 'engram_gossip_bytes_sent_total', { role: 'initiator' }), report.bytesOut)
    assert.ok(report.bytesIn > 0 && report.bytesOut > 0)
    assert.equal(value(fa, 'engram_merges_total', { kind: 'new' }), 3)
    assert.equal(value(fa, 'engram_patterns'), 3)
    assert.equal(value(fa, 'engram_gossip_session_duration_seconds_count', { role: 'initiator' }), 1)
    assert.equal(value(fa, 'engram_peer_roots_equal', { peer: bId }), 0, 'roots differed when the exchange began')

    // the responder's side, in b's own registry (its round may end just after ours)
    await waitFor(async () => value(await scrape(mb), 'engram_gossip_sessions_total', { role: 'responder', outcome: 'synced' }) === 1,
      { timeout: 5000, message: "b's responder session to be counted" })
    assert.equal(value(await scrape(mb), 'engram_patterns_sent_total', { role: 'responder' }), 3)

    assert.equal((await a.node.syncNow(b.node.peerId)).outcome, 'in-sync')
    fa = await scrape(ma)
    assert.equal(value(fa, 'engram_gossip_sessions_total', { role: 'initiator', outcome: 'in-sync' }), 1)
    assert.equal(value(fa, 'engram_peer_roots_equal', { peer: bId }), 1)

    // a local write on a is pushed to b: a push-out on a, a push-in and a 'new' merge on b
    await a.node.put('pushed', { addEpisodes: ['p'], confidence: 0.9 })
    await waitFor(async () => value(await scrape(ma), 'engram_eager_pushes_total') === 1, { timeout: 10_000, message: 'the eager push to be counted' })
    await waitFor(async () => {
      const fb = await scrape(mb)
      return value(fb, 'engram_merges_total', { kind: 'new' }) === 1 &&
        (value(fb, 'engram_gossip_sessions_total', { role: 'push-in', outcome: 'synced' }) ?? 0) >= 1
    }, { timeout: 10_000, message: "b to count the pushed pattern's merge and push-in session" })
    assert.equal(value(await scrape(mb), 'engram_patterns'), 4)

    // after close() the counters stop following the node; gauges still read it
    ma.close()
    await a.node.syncNow(b.node.peerId)
    fa = await scrape(ma)
    assert.equal(value(fa, 'engram_gossip_sessions_total', { role: 'initiator', outcome: 'in-sync' }), 1)
    assert.equal(value(fa, 'engram_patterns'), 4)
  })

  it('the parser rejects malformed text', () => {
    assert.throws(() => parseExposition('x 1\n'), /no # TYPE/)
    assert.throws(() => parseExposition('# TYPE x counter\nx{a="1} 1\n'), /unterminated/)
    assert.throws(() => parseExposition('# TYPE x counter\nx 1\nx 2\n'), /duplicate/)
    assert.throws(() => parseExposition('# TYPE x gauge\nx one\n'), /bad value/)
  })
})
