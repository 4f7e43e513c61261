/**
 * A data dir restored from an older copy must not lose writes. It restarts with its older
 * counter; its next write would reuse the dot of a write it made after the backup (which the
 * cluster holds), and a state that saw that write "has seen" the reused dot: the new write
 * would vanish everywhere. A node with a past holds its first local write until a session with
 * a peer brought its lost writes back (src/node/counter-gate.ts). Real nodes over TCP, a real
 * copy of the data dir.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { cp, rm } from 'node:fs/promises'
import { startEngram, stopEngrams, tempDir, waitForMesh, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { internalsOf } from '../../src/node/internals.js'
import type { EquivocationInfo } from '../../src/node/types.js'

interface Outcome {
  episodes: { onA: string[], onC: string[] }
  equivocations: EquivocationInfo[]
  counterAfter: number
  lostCounter: number
}

/** A, B, C; B is backed up, writes, is restored from the backup, restarts and writes at once. */
async function restoreScenario (confirmCounter: boolean, nodes: TestEngram[]): Promise<Outcome> {
  const a = await startEngram({ fanout: 'auto' })
  const c = await startEngram({ fanout: 'auto', join: [a.node.addresses()[0]!] })
  nodes.push(a, c)
  const equivocations: EquivocationInfo[] = []
  for (const n of [a, c]) n.node.addEventListener('equivocation', ev => { equivocations.push(ev.detail) })
  const dataDir = await tempDir()
  const opts = { fanout: 'auto' as const, join: [a.node.addresses()[0]!], dataDir, confirmCounter }
  let b = await startEngram(opts)
  const privateKey = b.privateKey
  await waitForMesh([a, b, c])
  await b.node.put('k', { addEpisodes: ['before-backup'], confidence: 0.5 })
  await b.node.stop()

  const backup = await tempDir('engram-backup-')
  await cp(dataDir, backup, { recursive: true })

  // after the backup: b writes again; the cluster gets it
  b = await startEngram({ ...opts, privateKey })
  await b.node.put('k', { addEpisodes: ['lost-with-the-disk'] })
  const lostCounter = internalsOf(b.node).replica.counter
  for (const n of [a, c]) {
    await waitFor(async () => (await n.node.get('k'))?.episodes.includes('lost-with-the-disk') === true, { timeout: 10_000, message: 'the write on a and c' })
  }
  await b.node.stop()

  // the disk is lost; the data dir comes back from the backup, and b writes as soon as it is up
  await rm(dataDir, { recursive: true, force: true })
  await cp(backup, dataDir, { recursive: true })
  await rm(backup, { recursive: true, force: true })
  // without the hold, no session may run before the write (sync on connect could win the race
  // under load and raise the counter first): the write then reuses the dot every time
  b = await startEngram({ ...opts, privateKey, ...(confirmCounter ? {} : { connectSync: false }) })
  nodes.push(b)
  await b.node.put('k', { addEpisodes: ['after-restore'] })
  const counterAfter = internalsOf(b.node).replica.counter

  // everyone syncs with everyone, then each says what it holds
  await waitForMesh([a, b, c])
  for (const [x, y] of [[a, b], [c, b], [a, c]] as const) await x.node.syncNow(y.node.peerId.toString()).catch(() => {})
  return {
    episodes: { onA: (await a.node.get('k'))?.episodes ?? [], onC: (await c.node.get('k'))?.episodes ?? [] },
    equivocations,
    counterAfter,
    lostCounter
  }
}

describe('a data dir restored from a backup', () => {
  const nodes: TestEngram[] = []
  after(async () => { await stopEngrams(nodes) })

  it('holds its first write until a session brought its lost writes back: nothing is lost, no dot reused', async () => {
    const r = await restoreScenario(true, nodes)
    assert.ok(r.counterAfter > r.lostCounter, JSON.stringify(r))
    for (const held of [r.episodes.onA, r.episodes.onC]) {
      assert.deepEqual(held, ['after-restore', 'before-backup', 'lost-with-the-disk'], JSON.stringify(r))
    }
    assert.deepEqual(r.equivocations, [])
  })

  it('without the hold (confirmCounter: false), the write after the restore reuses a dot: one of the two writes is lost', async () => {
    const r = await restoreScenario(false, nodes)
    assert.equal(r.counterAfter, r.lostCounter, 'the restored node wrote under the dot of its lost write')
    // the two writes under one dot are an equivocation: every node keeps the same one of them
    assert.ok(r.equivocations.length > 0, JSON.stringify(r))
    assert.deepEqual(r.episodes.onA, r.episodes.onC)
    assert.equal(r.episodes.onA.filter(e => e === 'after-restore' || e === 'lost-with-the-disk').length, 1, JSON.stringify(r))
  })
})
