import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { encodePattern, keyHash } from '../../src/core/encoding.js'
import { LevelPatternStore } from '../../src/store/level-store.js'
import { bytes, decodeAll, hex, pattern, removeDir, rootOf, tempDir, withRaw } from './helpers.js'

function keysOf (states: ReadonlyArray<{ key: string }>): string[] {
  return states.map(s => s.key)
}

describe('LevelPatternStore', () => {
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

  it('starts empty with a clean open report', async () => {
    assert.equal(store.count, 0)
    assert.equal(store.counter, 0)
    assert.deepEqual(store.openReport, { rebuilt: false, quarantined: [], counterLost: false, indexFrom: 'records', savedIndexUnused: 'no saved index' })
    assert.deepEqual(await store.list(), [])
  })

  it('stores and reads back states byte for byte', async () => {
    const a = pattern('a', 0.5, 'n1', 1, ['e1', 'e2'])
    const b = pattern('b', 0.25)
    await store.writeBatch([a, b], 1)
    assert.deepEqual(encodePattern(await store.get('a') as never), encodePattern(a))
    assert.deepEqual(encodePattern(await store.get('b') as never), encodePattern(b))
    assert.equal(await store.get('c'), undefined)
    assert.equal(store.count, 2)
    assert.equal(store.counter, 1)
    assert.deepEqual(store.root(), rootOf([a, b]))
  })

  it('replaces a stored state and updates the index', async () => {
    await store.writeBatch([pattern('k', 0.1)])
    const before = store.root()
    const next = pattern('k', 0.9, 'node-w', 2)
    await store.writeBatch([next])
    assert.equal(store.count, 1)
    assert.notDeepEqual(store.root(), before)
    assert.deepEqual(store.root(), rootOf([next]))
    assert.deepEqual(encodePattern(await store.get('k') as never), encodePattern(next))
  })

  it('lists in UTF-8 byte order with prefix and cursor pagination', async () => {
    const keys = ['z', 'a/2', 'é', 'ab', 'a/1', 'a/10', 'a', 'b/1']
    await store.writeBatch(keys.map(k => pattern(k, 0.5)))
    const sorted = [...keys].sort((x, y) => Buffer.compare(bytes(x), bytes(y)))
    assert.deepEqual(keysOf(await store.list()), sorted)

    const pages: string[][] = []
    let after: string | undefined
    for (let i = 0; i < 10; i++) {
      const page = await store.list(after === undefined ? { limit: 3 } : { limit: 3, after })
      if (page.length === 0) break
      pages.push(keysOf(page))
      after = page[page.length - 1]?.key
    }
    assert.deepEqual(pages, [sorted.slice(0, 3), sorted.slice(3, 6), sorted.slice(6)])

    assert.deepEqual(keysOf(await store.list({ prefix: 'a/' })), ['a/1', 'a/10', 'a/2'])
    assert.deepEqual(keysOf(await store.list({ prefix: 'a/', after: 'a/1' })), ['a/10', 'a/2'])
    // a cursor before the prefix range does not leak keys outside it
    assert.deepEqual(keysOf(await store.list({ prefix: 'a/', after: '0' })), ['a/1', 'a/10', 'a/2'])
    assert.deepEqual(keysOf(await store.list({ prefix: 'a/', after: 'a/2' })), [])
    await assert.rejects(store.list({ limit: 0 }), RangeError)
  })

  it('maps key hashes to patterns', async () => {
    await store.writeBatch([pattern('x/1', 0.3), pattern('x/2', 0.4)])
    assert.equal((await store.getByKeyHash(keyHash('x/2')))?.key, 'x/2')
    assert.equal(await store.keyOf(keyHash('x/1')), 'x/1')
    assert.equal(await store.getByKeyHash(keyHash('missing')), undefined)
    assert.equal(await store.getByKeyHash(new Uint8Array(5)), undefined)
  })

  it('keeps meta values for other modules and guards its own', async () => {
    await store.putMeta('peer/b', bytes('B'))
    await store.putMeta('peer/a', bytes('A'))
    await store.putMeta('peers', bytes('not a peer'))
    assert.deepEqual(await store.getMeta('peer/a'), bytes('A'))
    assert.equal(await store.getMeta('peer/zz'), undefined)
    const listed = await store.listMeta('peer/')
    assert.deepEqual(listed.map(e => [e.name, Buffer.from(e.value).toString()]), [['peer/a', 'A'], ['peer/b', 'B']])
    await store.deleteMeta('peer/a')
    assert.equal(await store.getMeta('peer/a'), undefined)
    for (const reserved of ['root', 'counter', 'format']) {
      await assert.rejects(store.putMeta(reserved, bytes('x')), RangeError)
    }
    await store.close()
    store = await LevelPatternStore.open(dir)
    assert.deepEqual(await store.getMeta('peer/b'), bytes('B'))
  })

  it('reopens with the root recomputed from every stored pattern', async () => {
    for (let b = 0; b < 5; b++) {
      await store.writeBatch(Array.from({ length: 40 }, (_, j) => pattern(`r${b}/${j}`, j / 40, 'node-w', b + 1)), b + 1)
    }
    await store.writeBatch([pattern('r0/0', 1, 'node-w', 6)], 6) // a replacement too
    const root = store.root()
    await store.close()
    const recomputed = await withRaw(dir, async db => rootOf(await decodeAll(db)))
    assert.equal(hex(recomputed), hex(root))
    store = await LevelPatternStore.open(dir)
    assert.equal(store.openReport.rebuilt, false)
    assert.equal(hex(store.root()), hex(recomputed))
    assert.equal(store.count, 200)
    assert.equal(store.counter, 6)
  })

  it('never moves the counter backwards', async () => {
    await store.writeBatch([], 5)
    assert.equal(store.counter, 5)
    await assert.rejects(store.writeBatch([], 4), RangeError)
    assert.equal(store.counter, 5)
  })

  it('leaves the index untouched when a batch fails to commit', async () => {
    await store.writeBatch([pattern('keep', 0.5)])
    const root = store.root()
    const db = (store as unknown as { db: { batch: () => unknown } }).db
    const original = db.batch
    // a chained batch whose commit fails, as a full disk would
    db.batch = () => ({ put () {}, del () {}, write: async () => { throw new Error('disk full') }, close: async () => {} })
    try {
      await assert.rejects(store.writeBatch([pattern('lost', 0.5), pattern('keep', 0.9, 'node-w', 2)], 2), /disk full/)
    } finally {
      db.batch = original
    }
    assert.equal(hex(store.root()), hex(root))
    assert.equal(store.count, 1)
    assert.equal(store.index.get(keyHash('lost')), undefined)
    assert.equal(store.counter, 0)
    assert.equal(store.lastSeq, 1, 'the failed batch took no seq')
  })

  it('refuses work once closed', async () => {
    await store.close()
    await assert.rejects(store.get('a'), { name: 'StoreClosedError' })
    await assert.rejects(store.writeBatch([pattern('a', 0.5)]), { name: 'StoreClosedError' })
    await store.close() // idempotent
  })
})
