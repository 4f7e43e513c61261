/**
 * Group commit: concurrent local writes share store batches, each is still its own event, a
 * refused write fails alone, and every write a caller saw acknowledged is there after a reopen.
 * Real LevelDB in a temp dir.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { episodesOf } from '../../src/core/pattern.js'
import { Replica } from '../../src/store/replica.js'
import { replicaPerTest } from './helpers.js'
import { author } from '../helpers/authors.js'

const ME = 'me'

describe('group commit of local writes', () => {
  const t = replicaPerTest(ME)

  it('concurrent writes land in a few batches, each its own event, all there after a reopen', async () => {
    const batches: number[] = []
    t.replica.onChange(ev => { if (ev.origin === 'local') batches.push(ev.patterns.length) })
    const n = 200
    const written = await Promise.all(Array.from({ length: n }, async (_, i) => await t.replica.write(`k${i}`, { confidence: 0.5, addEpisodes: [`e${i}`] })))
    // every write is one event of this node: counters 1..n, none twice
    const counters = written.map(p => p.state.clock.get(ME) as number).sort((a, b) => a - b)
    assert.deepEqual(counters, Array.from({ length: n }, (_, i) => i + 1))
    assert.equal(t.replica.counter, n)
    // the first write goes alone; the ones that arrived meanwhile share the next batch(es)
    assert.equal(batches.reduce((a, b) => a + b, 0), n)
    assert.ok(batches.length <= 3, `batches: ${batches.join(', ')}`)
    await t.replica.close()
    t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
    assert.equal(t.replica.count, n)
    assert.equal(t.replica.counter, n)
    for (let i = 0; i < n; i += 37) assert.deepEqual(episodesOf((await t.replica.get(`k${i}`))!), [`e${i}`])
  })

  it('a refused write fails alone with its own error; the others of its batch land', async () => {
    await t.replica.write('first', { confidence: 0.5 })
    const results = await Promise.allSettled([
      t.replica.write('a', { confidence: 0.5 }),
      t.replica.write('no-confidence', { addEpisodes: ['x'] }),
      t.replica.delete('missing'),
      t.replica.write('bad-episode', { confidence: 0.5, addEpisodes: ['\uD800'] }),
      t.replica.write('b', { confidence: 0.25 })
    ])
    assert.deepEqual(results.map(r => r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name),
      ['ok', 'InvalidPatternError', 'PatternNotFoundError', 'InvalidPatternError', 'ok'])
    assert.ok(await t.replica.get('a') !== undefined && await t.replica.get('b') !== undefined)
    assert.equal(await t.replica.get('no-confidence'), undefined)
    assert.equal(await t.replica.get('bad-episode'), undefined)
    // refused writes used no counter
    assert.equal(t.replica.counter, 3)
  })

  it('writes to one key in one batch apply in order; each caller gets the state as stored', async () => {
    await t.replica.write('k', { confidence: 0.5, addEpisodes: ['base'] })
    const [one, two, three] = await Promise.all([
      t.replica.write('k', { addEpisodes: ['one'] }),
      t.replica.write('k', { addEpisodes: ['two'], removeEpisodes: ['base'] }),
      t.replica.delete('k')
    ])
    assert.equal(three.state.versions[0]?.deleted, true)
    assert.deepEqual(one.bytes, three.bytes)
    assert.deepEqual(two.bytes, three.bytes)
    assert.equal(three.state.clock.get(ME), 4)
    // the delete saw both writes: its deps name the second
    assert.equal(three.state.versions[0]?.deps.get(ME), 3)
  })

  it('a batch that follows one still on its way to disk builds on it and lands after it', async () => {
    const order: number[] = []
    t.replica.onChange(ev => { for (const p of ev.patterns) order.push(p.state.clock.get(ME) as number) })
    const first = t.replica.write('chain', { confidence: 0.5, addEpisodes: ['one'] })
    // let the first batch be prepared and handed to the store, then write again
    await new Promise(resolve => setImmediate(resolve))
    const second = t.replica.write('chain', { addEpisodes: ['two'] })
    const third = t.replica.write('other', { confidence: 0.5 })
    const [a, b, c] = await Promise.all([first, second, third])
    assert.deepEqual(episodesOf(b.state), ['one', 'two'])
    assert.deepEqual([a.state.clock.get(ME), b.state.clock.get(ME), c.state.clock.get(ME)], [1, 2, 3])
    assert.deepEqual(order, [1, 2, 3])
    await t.replica.close()
    t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
    assert.deepEqual(episodesOf((await t.replica.get('chain'))!), ['one', 'two'])
    assert.equal(t.replica.counter, 3)
  })

  it('a write after close is refused, not left waiting', async () => {
    await t.replica.close()
    await assert.rejects(t.replica.write('late', { confidence: 0.5 }))
    t.replica = await Replica.open({ dir: t.dir, author: author(ME) })
  })
})
