/**
 * Run under register.mjs by test/node/encode-once.test.ts: three real nodes on loopback, eager
 * push on, and the encodes each step of the write path costs. Prints one JSON line of counts.
 */
import { encodePattern } from '../../../src/core/encoding.js'
import { internalsOf } from '../../../src/node/internals.js'
import { startEngram, stopEngrams, type TestEngram, waitForConnectSyncs, waitForMesh } from '../engram-nodes.js'
import { waitFor } from '../wait.js'
import type { EncodeCounts } from './counting-encoding.js'

const counts = (globalThis as { engramEncodeCounts?: EncodeCounts }).engramEncodeCounts
const taken = (): EncodeCounts => {
  if (counts === undefined) throw new Error('the counting wrapper is not loaded (run under register.mjs)')
  const out = { ...counts }
  counts.encodes = 0
  counts.digests = 0
  return out
}

const pushIns = (n: TestEngram): number => internalsOf(n.node).gossip.lastRounds.filter(r => r.role === 'push-in').length

const allPushIns = (nodes: TestEngram[]): number => nodes.reduce((sum, n) => sum + pushIns(n), 0)

/**
 * A write on a makes four push frames among three nodes, whatever the order they land in: a
 * pushes to b and c, and whichever of them first takes it as news forwards it once to the
 * peers it did not come from. Most often b and c forward to each other; when b's forward
 * reaches c before a's push does, c forwards to a instead. So this counts frames on all
 * three, not per node.
 */
const PUSH_FRAMES_PER_WRITE = 4

async function pushesSettled (nodes: TestEngram[], before: number): Promise<void> {
  await waitFor(() => allPushIns(nodes) >= before + PUSH_FRAMES_PER_WRITE,
    { timeout: 10_000, message: 'the pushes and their forwards' })
}

const nodes: TestEngram[] = []
try {
  const a = await startEngram({ fanout: 'auto' })
  nodes.push(a)
  for (let i = 0; i < 2; i++) nodes.push(await startEngram({ fanout: 'auto', join: [a.node.addresses()[0]!] }))
  const [, b, c] = nodes as [TestEngram, TestEngram, TestEngram]
  await waitForMesh(nodes)
  await waitForConnectSyncs(nodes)
  encodePattern({ key: 'probe', clock: new Map(), versions: [], heads: [] })
  const probe = taken()

  // one write, pushed to b and c and forwarded once by each; a listener takes records on b
  let recordsOnB = 0
  b.node.addEventListener('merged', ev => { recordsOnB += ev.detail.patterns.length })
  let before = allPushIns(nodes)
  const record = await a.node.put('one', { addEpisodes: ['e1'], confidence: 0.5 })
  await pushesSettled(nodes, before)
  const single = taken()
  const singleOk = (await b.node.get('one'))?.digest === record.digest && (await c.node.get('one'))?.digest === record.digest

  // a bulk write of 100 keys, the same way
  before = allPushIns(nodes)
  const bulk = await a.node.putMany(Array.from({ length: 100 }, (_, i) => ({ key: `bulk/${i}`, op: { addEpisodes: [`e${i}`], confidence: 0.25 } })))
  await pushesSettled(nodes, before)
  await waitFor(async () => (await c.node.status()).root === bulk.root && (await b.node.status()).root === bulk.root,
    { timeout: 10_000, message: 'the bulk write on b and c' })
  const many = taken()

  // records read back: the digest comes from the stored bytes
  await a.node.get('one')
  await a.node.list({ limit: 1000 })
  const reads = taken()

  process.stdout.write(JSON.stringify({ probe, single, singleOk, recordsOnB, bulk: { ...many, patterns: bulk.patterns }, reads }) + '\n')
} finally {
  await stopEngrams(nodes)
}
