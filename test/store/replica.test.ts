import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodePattern, keyHash, patternDigest } from '../../src/core/encoding.js'
import { applyWrite, confidenceOf, episodesOf, isDeleted, type PatternState } from '../../src/core/pattern.js'
import type { LevelPatternStore } from '../../src/store/level-store.js'
import { type ChangeEvent, Replica } from '../../src/store/replica.js'
import { hex, pattern, replicaPerTest } from './helpers.js'
import { author } from '../helpers/authors.js'

const ME = 'node-a'
const PEER = 'node-b'

/** Counts the store batches a replica commits. */
function countBatches (replica: Replica): { n: number } {
  const store = (replica as unknown as { store: LevelPatternStore }).store
  const counter = { n: 0 }
  // every write, local or merged, goes through writePrepared
  const original = store.writePrepared.bind(store)
  store.writePrepared = async (states, c, o) => { counter.n++; return await original(states, c, o) }
  return counter
}

describe('Replica', () => {
  const t = replicaPerTest(ME)

  it('writes with fresh counters and reads back', async () => {
    const a = await t.replica.write('a', { confidence: 0.4, addEpisodes: ['e1'] })
    const b = await t.replica.write('a', { addEpisodes: ['e2'], summary: 's' })
    assert.equal(a.state.clock.get(ME), 1)
    assert.equal(b.state.clock.get(ME), 2)
    // the write hands back what the store wrote: its bytes and hashes
    assert.deepEqual(b.bytes, encodePattern(b.state))
    assert.deepEqual(b.digest, patternDigest(encodePattern(await t.replica.get('a') as PatternState)))
    assert.deepEqual(b.kh, keyHash('a'))
    assert.equal(t.replica.counter, 2)
    const stored = await t.replica.get('a') as PatternState
    assert.deepEqual(episodesOf(stored), ['e1', 'e2'])
    assert.equal(confidenceOf(stored), 0.4)
    assert.equal((await t.replica.list()).length, 1)
    assert.equal(t.replica.count, 1)
  })

  it('keeps its counter across restarts', async () => {
    await t.replica.write('a', { confidence: 0.5 })
    await t.replica.write('b', { confidence: 0.5 })
    const before = t.replica.counter
    await t.replica.close()
    t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
    assert.equal(t.replica.counter, before)
    const c = await t.replica.write('c', { confidence: 0.5 })
    assert.ok((c.state.clock.get(ME) as number) > before)
  })

  it('builds each write on the stored state after a restart, and reads only the keys the index holds', async () => {
    await t.replica.write('a', { confidence: 0.5, addEpisodes: ['e1'] })
    await t.replica.writeMany([{ key: 'b', op: { confidence: 0.2 } }])
    await t.replica.close()
    t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
    assert.equal(t.replica.openReport.indexFrom, 'saved')
    const store = (t.replica as unknown as { store: LevelPatternStore }).store
    const read: string[] = []
    const getMany = store.getMany.bind(store)
    store.getMany = async keys => { read.push(...keys); return await getMany(keys) }
    await t.replica.write('a', { addEpisodes: ['e2'] })
    const [b, fresh] = await t.replica.writeMany([{ key: 'b', op: { addEpisodes: ['e3'] } }, { key: 'fresh', op: { confidence: 0.9 } }])
    assert.deepEqual(episodesOf(await t.replica.get('a') as PatternState), ['e1', 'e2'])
    assert.equal(confidenceOf(b!.state), 0.2, 'the update kept what was stored')
    assert.deepEqual(episodesOf(b!.state), ['e3'])
    assert.equal(b!.state.versions.length, 1, 'an overwrite of the stored write, not a concurrent one')
    assert.deepEqual(fresh!.state.clock, new Map([[ME, 5]]))
    assert.deepEqual(read.sort(), ['a', 'b'], 'the new key was not looked up')
  })

  it('raises its counter past a remote state that names this node', async () => {
    await t.replica.write('a', { confidence: 0.5 })
    const remembered = pattern('x', 0.5, ME, 50)
    await t.replica.mergeRemote([remembered])
    assert.equal(t.replica.counter, 50)
    const next = await t.replica.write('y', { confidence: 0.5 })
    assert.equal(next.state.clock.get(ME), 51)
    await t.replica.close()
    t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
    assert.equal(t.replica.counter, 51)
  })

  it('deletes, and refuses to delete what does not exist', async () => {
    await assert.rejects(t.replica.delete('nope'), { name: 'PatternNotFoundError' })
    await t.replica.write('d', { confidence: 0.5, addEpisodes: ['e'] })
    const tomb = await t.replica.delete('d')
    assert.ok(isDeleted(tomb.state))
    assert.ok(isDeleted(await t.replica.get('d') as PatternState))
    await assert.rejects(t.replica.delete('d'), { name: 'PatternNotFoundError' })
    assert.equal(t.replica.counter, 2)
  })

  it('merges a remote set, counting kinds and merging concurrent writes', async () => {
    await t.replica.write('conc', { confidence: 0.7 })
    const v1 = pattern('old', 0.2, PEER, 1)
    const v2 = applyWrite(v1, 'old', { confidence: 0.3 }, author(PEER), 2)
    await t.replica.mergeRemote([v2])

    const result = await t.replica.mergeRemote([
      pattern('conc', 0.9, PEER, 3), // concurrent with our 0.7
      pattern('fresh', 0.1, PEER, 4), // new
      v1, // older than the stored v2
      v2 // equal
    ])
    assert.deepEqual(result.kinds, { new: 1, newer: 0, older: 1, equal: 1, concurrent: 1 })
    assert.deepEqual(result.changed.map(p => p.state.key).sort(), ['conc', 'fresh'])
    const conc = await t.replica.get('conc') as PatternState
    assert.ok(Math.abs(confidenceOf(conc) - 0.8) < 1e-12)
    assert.equal(conc.versions.length, 2)
    assert.equal(confidenceOf(await t.replica.get('old') as PatternState), 0.3)

    const v3 = applyWrite(v2, 'old', { confidence: 0.6 }, author(PEER), 5)
    const newer = await t.replica.mergeRemote([v3])
    assert.equal(newer.kinds.newer, 1)
    assert.equal(confidenceOf(await t.replica.get('old') as PatternState), 0.6)
  })

  it('does not rewrite states that change nothing', async () => {
    const s = pattern('same', 0.5, PEER, 1)
    await t.replica.mergeRemote([s])
    const root = t.replica.root()
    const batches = countBatches(t.replica)
    const result = await t.replica.mergeRemote([s, s])
    assert.deepEqual(result.changed, [])
    assert.equal(result.kinds.equal, 2)
    assert.equal(batches.n, 0)
    assert.equal(hex(t.replica.root()), hex(root))
  })

  it('merges duplicates of one key within a set and persists them in one batch', async () => {
    const batches = countBatches(t.replica)
    const result = await t.replica.mergeRemote([pattern('k', 0.2, 'n1', 1), pattern('k', 0.4, 'n2', 1), pattern('j', 0.5, 'n1', 2)])
    assert.equal(batches.n, 1)
    assert.deepEqual(result.kinds, { new: 2, newer: 0, older: 0, equal: 0, concurrent: 1 })
    assert.equal((await t.replica.get('k') as PatternState).versions.length, 2)
  })

  it('serializes concurrent mutations (no lost updates)', async () => {
    await t.replica.write('shared', { confidence: 0.5 })
    const n = 30
    await Promise.all(Array.from({ length: n }, async (_, i) => await t.replica.write('shared', { addEpisodes: [`e${i}`] })))
    const s = await t.replica.get('shared') as PatternState
    assert.equal(episodesOf(s).length, n)
    assert.equal(t.replica.counter, n + 1)
  })

  it('tells listeners about committed changes and their origin', async () => {
    const events: ChangeEvent[] = []
    const errors: unknown[] = []
    await t.replica.close()
    t.replica = await Replica.open({ dir: t.dir, author: author(ME), onListenerError: err => errors.push(err) })
    const off = t.replica.onChange(e => events.push(e))
    t.replica.onChange(() => { throw new Error('listener bug') })
    await t.replica.write('a', { confidence: 0.5 })
    const remote = pattern('r', 0.5, PEER, 1)
    await t.replica.mergeRemote([remote])
    await t.replica.mergeRemote([remote]) // no change, no event
    off()
    await t.replica.write('b', { confidence: 0.5 })
    assert.deepEqual(events.map(e => [e.origin, e.patterns.map(p => p.state.key)]), [['local', ['a']], ['remote', ['r']]])
    const got = events[1]?.patterns[0]
    assert.deepEqual(got?.bytes, encodePattern(remote))
    assert.deepEqual(got?.digest, patternDigest(encodePattern(remote)))
    assert.deepEqual(got?.kh, keyHash('r'))
    assert.equal(errors.length, 3) // the throwing listener saw all three changes; writes still succeeded
    assert.ok(await t.replica.get('b'))
  })
})
