/**
 * A clean stop is clean: stopping a node with connected peers, kept gossip streams both ways
 * and a transfer in flight logs no error on either side and no process warning; the peer
 * reads a goodbye (a clean end, or at most a debug line), not a failure.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { configureLogging } from '../../src/daemon/logging.js'
import { startEngram, stopEngrams, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'

interface LogLine { level: string, component: string, msg: string }

describe('a clean stop', () => {
  const lines: LogLine[] = []
  const warnings: Error[] = []
  const nodes: TestEngram[] = []
  const onWarning = (w: Error): void => { warnings.push(w) }
  before(() => {
    configureLogging({ level: 'debug', json: true, write: l => { lines.push(JSON.parse(l) as LogLine) } })
    process.on('warning', onWarning)
  })
  after(async () => {
    await stopEngrams(nodes)
    configureLogging({ level: 'silent', json: false })
    process.off('warning', onWarning)
  })

  const errors = (): LogLine[] => lines.filter(l => l.level === 'error' && l.component.startsWith('engram'))

  it('stopping a node with kept streams both ways logs no error on either side', async () => {
    const a = await startEngram({ intervalMs: 60_000, fanout: 'auto' })
    const b = await startEngram({ intervalMs: 60_000, fanout: 'auto', join: [a.node.addresses()[0]!] })
    nodes.push(a, b)
    await waitFor(async () => (await a.node.counts()).gossipPeers === 1 && (await b.node.counts()).gossipPeers === 1, { timeout: 10_000 })
    // sessions both ways and pushes both ways: each side holds a kept stream to the other
    await a.node.put('from-a', { addEpisodes: ['a'], confidence: 0.5 })
    await b.node.put('from-b', { addEpisodes: ['b'], confidence: 0.5 })
    assert.ok(['synced', 'in-sync'].includes((await a.node.syncNow(b.node.peerId)).outcome))
    assert.ok(['synced', 'in-sync'].includes((await b.node.syncNow(a.node.peerId)).outcome))
    await waitFor(async () => (await a.node.get('from-b')) !== undefined && (await b.node.get('from-a')) !== undefined, { timeout: 10_000 })
    const before = lines.length
    await a.node.stop()
    // give the peer time to notice the streams and the connection going away
    await waitFor(async () => (await b.node.counts()).gossipPeers === 0, { timeout: 10_000, message: 'b to see a gone' })
    await new Promise(resolve => setTimeout(resolve, 500))
    const after = lines.slice(before)
    assert.deepEqual(after.filter(l => l.level === 'error' && l.component.startsWith('engram')), [], 'no error lines after the stop')
    assert.deepEqual(errors(), [], 'no error lines at all')
    // the node comes back cleanly on the same data dir and identity
    const again = await startEngram({ intervalMs: 60_000, fanout: 'auto', dataDir: a.dataDir, privateKey: a.privateKey, join: [b.node.addresses()[0]!] })
    nodes[0] = again
    await waitFor(async () => (await b.node.counts()).gossipPeers === 1, { timeout: 10_000, message: 'the restarted node to reconnect' })
    assert.deepEqual(errors(), [])
    assert.deepEqual(warnings.map(w => `${w.name}: ${w.message}`), [], `no process warnings: ${warnings.map(w => w.stack).join('\n')}`)
  })

  it('stopping a node in the middle of a transfer logs no error on either side', async () => {
    const a = await startEngram({ intervalMs: 60_000, fanout: 0 })
    nodes.push(a)
    for (let i = 0; i < 20_000; i += 2000) {
      await a.node.putMany(Array.from({ length: 2000 }, (_, j) => ({
        key: `bulk/${i + j}`,
        op: { addEpisodes: [`e${i + j}`], confidence: 0.5, summary: 'x'.repeat(200) }
      })))
    }
    const b = await startEngram({ intervalMs: 60_000, fanout: 0, join: [a.node.addresses()[0]!] })
    nodes.push(b)
    // stop the serving side as soon as the new node holds some but not all
    await waitFor(async () => (await b.node.counts()).patterns > 0, { timeout: 20_000, interval: 10, message: 'the transfer to start' })
    const before = lines.length
    await a.node.stop()
    await waitFor(async () => (await b.node.counts()).gossipPeers === 0, { timeout: 10_000, message: 'b to see a gone' })
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.deepEqual(lines.slice(before).filter(l => l.level === 'error' && l.component.startsWith('engram')), [], 'no error lines')
    assert.deepEqual(warnings.map(w => `${w.name}: ${w.message}`), [], `no process warnings: ${warnings.map(w => w.stack).join('\n')}`)
    // what it has is consistent and the rest comes later: the store took whole batches only
    assert.ok((await b.node.counts()).patterns <= 20_000)
  })
})
