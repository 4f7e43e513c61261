/**
 * The change feed as the store keeps it: one entry per key with the next seq, written in the
 * batch of the change; pages by seq and prefix; a sequence that goes on across clean and
 * unclean stops; and the repair of a feed that is missing or names quarantined patterns.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { applyWrite } from '../../src/core/pattern.js'
import { SEQ_EPOCH } from '../../src/store/change-feed.js'
import { LevelPatternStore } from '../../src/store/level-store.js'
import { author } from '../helpers/authors.js'
import { dbKey, pattern, removeDir, tempDir, withRaw } from './helpers.js'

function summary (s: { changes: Array<{ seq: number, key: string, origin: string, peer?: string }> }): string[] {
  return s.changes.map(c => `${c.seq} ${c.key} ${c.origin}${c.peer !== undefined ? ' ' + c.peer : ''}`)
}

describe('change feed (store)', () => {
  let dir: string
  let store: LevelPatternStore

  beforeEach(async () => {
    dir = await tempDir()
    store = await LevelPatternStore.open(dir)
  })

  afterEach(async () => {
    await store.close()
    await removeDir(dir)
  })

  it('gives every change the next seq and keeps one entry per key', async () => {
    assert.equal(store.lastSeq, 0)
    assert.deepEqual(await store.writeBatch([pattern('a', 0.1), pattern('b', 0.2)]), undefined)
    await store.writeBatch([pattern('c', 0.3)], undefined, { change: { origin: 'push', peer: 'peer-1' } })
    assert.equal(store.lastSeq, 3)
    assert.deepEqual(summary(await store.changes(0)), ['1 a local', '2 b local', '3 c push peer-1'])
    // a changes again: its entry moves to the end
    const a2 = applyWrite(await store.get('a'), 'a', { summary: 'again' }, author('node-w'), 2)
    await store.writeBatch([a2], undefined, { change: { origin: 'session', peer: 'peer-2' } })
    const page = await store.changes(0)
    assert.deepEqual(summary(page), ['2 b local', '3 c push peer-1', '4 a session peer-2'])
    assert.equal(page.changes[2]?.pattern.state.versions[0]?.summary, 'again')
    assert.equal(page.last, 4)
    assert.equal(page.more, false)
    assert.deepEqual(summary(await store.changes(3)), ['4 a session peer-2'])
    assert.deepEqual(await store.changes(4), { changes: [], last: 4, more: false })
    // the peers are kept by number: a reopened store names them, and numbers new ones after them
    await store.close()
    store = await LevelPatternStore.open(dir)
    await store.writeBatch([pattern('d', 0.3)], undefined, { change: { origin: 'push', peer: 'peer-3' } })
    assert.deepEqual(summary(await store.changes(0)), ['2 b local', '3 c push peer-1', '4 a session peer-2', '5 d push peer-3'])
  })

  it('pages by limit and filters by prefix, with a bounded scan', async () => {
    await store.writeBatch(Array.from({ length: 30 }, (_, i) => pattern(`${i % 3 === 0 ? 'x' : 'y'}/${i}`, 0.5)))
    const first = await store.changes(0, { limit: 4 })
    assert.deepEqual(first.changes.map(c => c.seq), [1, 2, 3, 4])
    assert.equal(first.more, true)
    const next = await store.changes(first.last, { limit: 4 })
    assert.deepEqual(next.changes.map(c => c.seq), [5, 6, 7, 8])
    const xs = await store.changes(0, { prefix: 'x/' })
    assert.deepEqual(xs.changes.map(c => c.key), Array.from({ length: 10 }, (_, i) => `x/${i * 3}`))
    // one change asked for: the scan stops after 16 entries even if none matched
    const none = await store.changes(0, { prefix: 'z/', limit: 1 })
    assert.deepEqual(none, { changes: [], last: 16, more: true })
    const rest = await store.changes(none.last, { prefix: 'z/', limit: 1 })
    assert.deepEqual(rest, { changes: [], last: 30, more: false })
  })

  it('numbers the same key twice in one batch once, with the later state', async () => {
    const a1 = pattern('a', 0.1)
    const a2 = applyWrite(a1, 'a', { confidence: 0.9 }, author('node-w'), 2)
    await store.writeBatch([a1, a2])
    const page = await store.changes(0)
    assert.deepEqual(summary(page), ['2 a local'])
    assert.equal(page.changes[0]?.pattern.state.versions[0]?.confidence, 0.9)
  })

  it('goes on after a clean stop, and past the whole epoch after an unclean one', async () => {
    await store.writeBatch([pattern('a', 0.1)])
    await store.close()
    store = await LevelPatternStore.open(dir)
    assert.equal(store.openReport.uncleanStop, undefined)
    assert.equal(store.lastSeq, 1)
    await store.writeBatch([pattern('b', 0.1)])
    assert.equal(store.lastSeq, 2)
    await store.close()
    // a process that died holding the store leaves its open mark behind
    await withRaw(dir, async db => { await db.put(dbKey('m', 'open'), new Uint8Array([1])) })
    store = await LevelPatternStore.open(dir)
    assert.equal(store.openReport.uncleanStop, true)
    assert.equal(store.lastSeq, SEQ_EPOCH)
    await store.writeBatch([pattern('c', 0.1)])
    assert.deepEqual(summary(await store.changes(0)), ['1 a local', '2 b local', `${SEQ_EPOCH + 1} c local`])
  })

  it('builds the feed of a data dir from before it, once', async () => {
    await store.writeBatch([pattern('a', 0.1), pattern('b', 0.2)])
    await store.close()
    await withRaw(dir, async db => {
      for await (const k of db.keys({ gte: dbKey('c', ''), lt: dbKey('d', '') })) await db.del(k)
      // 'h' records as they were before the feed: digest + key, no seq
      for await (const [k, v] of db.iterator({ gte: dbKey('h', ''), lt: dbKey('i', '') })) {
        await db.put(k, Buffer.concat([v.subarray(0, 32), v.subarray(41)]))
      }
      await db.del(dbKey('m', 'seq'))
    })
    store = await LevelPatternStore.open(dir)
    assert.deepEqual(store.openReport.feedRepaired, { added: 2, dropped: 0 })
    // (in key-hash order: the repair walks the 'h' records)
    assert.deepEqual(summary(await store.changes(0)).map(l => l.slice(2)).sort(), ['a store', 'b store'])
    assert.equal(store.lastSeq, 2)
    await store.close()
    store = await LevelPatternStore.open(dir)
    assert.equal(store.openReport.feedRepaired, undefined)
  })

  it('drops the entry of a pattern a rebuild quarantined, and keeps the others', async () => {
    await store.writeBatch([pattern('a', 0.1), pattern('b', 0.2), pattern('c', 0.3)])
    await store.close()
    await withRaw(dir, async db => {
      await db.put(dbKey('p', 'b'), new Uint8Array([0xde, 0xad]))
      await db.del(dbKey('m', 'root'))
    })
    store = await LevelPatternStore.open(dir)
    assert.deepEqual(store.openReport.quarantined, ['b'])
    assert.deepEqual(store.openReport.feedRepaired, { added: 0, dropped: 1 })
    assert.deepEqual(summary(await store.changes(0)), ['1 a local', '3 c local'])
  })

  it('keeps no feed when opened without it, and rebuilds it at the next open with it', async () => {
    await store.writeBatch([pattern('a', 0.1)])
    await store.close()
    store = await LevelPatternStore.open(dir, { changeFeed: false })
    assert.equal(store.changeFeed, false)
    await store.writeBatch([pattern('b', 0.2)])
    assert.equal(store.lastSeq, 0)
    await store.close()
    store = await LevelPatternStore.open(dir)
    // a's entry was kept; b, written without the feed, gets one now
    assert.deepEqual(store.openReport.feedRepaired, { added: 1, dropped: 0 })
    assert.deepEqual(summary(await store.changes(0)), ['1 a local', '2 b store'])
  })

  it('refuses its own meta names to other modules', async () => {
    await assert.rejects(store.putMeta('seq', new Uint8Array(8)), RangeError)
    await assert.rejects(store.putMeta('open', new Uint8Array(1)), RangeError)
    await assert.rejects(store.putMeta('feed-peer/1', new Uint8Array(1)), RangeError)
  })
})
