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

/** Waits until b and c each took `perNode` more push frames (a's push and the other's forward). */
async function pushesSettled (nodes: TestEngram[], before: number[], perNode: number): Promise<void> {
  await waitFor(() => nodes.every((n, i) => pushIns(n) >= (before[i] as number) + perNode),
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

  // one write, pushed to b and c, each forwarding it to the other; a listener takes records on b
  let recordsOnB = 0
  b.node.addEventListener('merged', ev => { recordsOnB += ev.detail.patterns.length })
  let before = [pushIns(b), pushIns(c)]
  const record = await a.node.put('one', { addEpisodes: ['e1'], confidence: 0.5 })
  await pushesSettled([b, c], before, 2)
  const single = taken()
  const singleOk = (await b.node.get('one'))?.digest === record.digest && (await c.node.get('one'))?.digest === record.digest

  // a bulk write of 100 keys, the same way
  before = [pushIns(b), pushIns(c)]
  const bulk = await a.node.putMany(Array.from({ length: 100 }, (_, i) => ({ key: `bulk/${i}`, op: { addEpisodes: [`e${i}`], confidence: 0.25 } })))
  await pushesSettled([b, c], before, 2)
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
