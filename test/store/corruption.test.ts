import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { keyHash } from '../../src/core/encoding.js'
import { LevelPatternStore } from '../../src/store/level-store.js'
import { Replica } from '../../src/store/replica.js'
import { bytes, dbKey, decodeAll, hex, pattern, removeDir, rootOf, tempDir, withRaw } from './helpers.js'
import { author } from '../helpers/authors.js'

const GARBAGE = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02])

describe('store corruption and foreign data', () => {
  let dir: string

  beforeEach(async () => {
    dir = await tempDir()
    const store = await LevelPatternStore.open(dir)
    await store.writeBatch([pattern('a', 0.1), pattern('b', 0.2), pattern('c', 0.3)], 1)
    await store.close()
  })

  afterEach(async () => {
    await removeDir(dir)
  })

  it('reports a corrupt pattern value by key on read', async () => {
    await withRaw(dir, async db => { await db.put(dbKey('p', 'b'), GARBAGE) })
    const store = await LevelPatternStore.open(dir)
    try {
      assert.equal((await store.get('a'))?.key, 'a')
      await assert.rejects(store.get('b'), (err: Error & { key?: string }) => {
        assert.equal(err.name, 'StoreCorruptionError')
        assert.equal(err.key, 'b')
        assert.match(err.message, /"b"/)
        return true
      })
      await assert.rejects(store.getByKeyHash(keyHash('b')), { name: 'StoreCorruptionError' })
      await assert.rejects(store.list(), { name: 'StoreCorruptionError' })
    } finally {
      await store.close()
    }
  })

  it('rebuilds on a stale root and quarantines undecodable records, once', async () => {
    await withRaw(dir, async db => {
      await db.put(dbKey('m', 'root'), new Uint8Array(32).fill(7))
      await db.put(dbKey('p', 'b'), GARBAGE)
    })
    let store = await LevelPatternStore.open(dir)
    try {
      assert.equal(store.openReport.rebuilt, true)
      assert.match(store.openReport.reason ?? '', /root/)
      assert.deepEqual(store.openReport.quarantined, ['b'])
      assert.equal(store.count, 2)
      assert.equal(await store.get('b'), undefined)
      assert.equal(await store.getByKeyHash(keyHash('b')), undefined)
      assert.deepEqual((await store.list()).map(s => s.key), ['a', 'c'])
      assert.equal(hex(store.root()), hex(rootOf([pattern('a', 0.1), pattern('c', 0.3)])))
    } finally {
      await store.close()
    }
    await withRaw(dir, async db => {
      assert.deepEqual(await db.get(dbKey('q', 'b')), Buffer.from(GARBAGE)) // kept, not deleted
      assert.equal(await db.get(dbKey('h', keyHash('b'))), undefined)
      assert.equal(hex(await db.get(dbKey('m', 'root')) as Uint8Array), hex(rootOf(await decodeAll(db))))
    })
    store = await LevelPatternStore.open(dir)
    try {
      assert.deepEqual(store.openReport, { rebuilt: false, quarantined: [], counterLost: false, indexFrom: 'saved' })
      assert.equal(store.count, 2)
      assert.deepEqual(await store.indexCheck, { pagesChecked: 4096, repairedPages: [] })
    } finally {
      await store.close()
    }
  })

  it('rebuilds when a key-hash record is garbage, dropping stray ones', async () => {
    const stray = new Uint8Array(32).fill(1)
    await withRaw(dir, async db => {
      await db.put(dbKey('h', keyHash('a')), GARBAGE)
      await db.put(dbKey('h', stray), GARBAGE)
      // no saved index (as after a crash): open reads the records and finds the damage
      await db.del(dbKey('m', 'index'))
    })
    const store = await LevelPatternStore.open(dir)
    try {
      assert.equal(store.openReport.rebuilt, true)
      assert.equal(store.openReport.indexFrom, 'rebuilt')
      assert.equal(store.openReport.savedIndexUnused, 'no saved index')
      assert.match(store.openReport.reason ?? '', /malformed/)
      assert.deepEqual(store.openReport.quarantined, [])
      assert.equal(store.count, 3)
      assert.equal((await store.getByKeyHash(keyHash('a')))?.key, 'a')
    } finally {
      await store.close()
    }
    await withRaw(dir, async db => { assert.equal(await db.get(dbKey('h', stray)), undefined) })
  })

  it('with a saved index, finds a garbage key-hash record in the background and rebuilds there', async () => {
    const stray = new Uint8Array(32).fill(1)
    const before = hex(rootOf([pattern('a', 0.1), pattern('b', 0.2), pattern('c', 0.3)]))
    await withRaw(dir, async db => {
      await db.put(dbKey('h', keyHash('a')), GARBAGE)
      await db.put(dbKey('h', stray), GARBAGE)
    })
    const store = await LevelPatternStore.open(dir)
    try {
      assert.equal(store.openReport.indexFrom, 'saved')
      const check = await store.indexCheck
      assert.deepEqual(check?.rebuilt, { quarantined: [] })
      assert.equal(store.count, 3)
      assert.equal(hex(store.root()), before)
      assert.equal((await store.getByKeyHash(keyHash('a')))?.key, 'a')
    } finally {
      await store.close()
    }
    await withRaw(dir, async db => {
      assert.equal(await db.get(dbKey('h', stray)), undefined)
      assert.equal((await db.get(dbKey('h', keyHash('a'))))?.length !== GARBAGE.length, true)
    })
  })

  it('recovers a lost counter from its own dots in stored clocks', async () => {
    let replica = await Replica.open({ dir, author: author('me') })
    await replica.write('x', { confidence: 0.5 })
    await replica.write('x', { confidence: 0.6 })
    await replica.mergeRemote([pattern('y', 0.5, 'me', 9)])
    await replica.close()
    await withRaw(dir, async db => { await db.put(dbKey('m', 'counter'), new Uint8Array([1, 2, 3])) })
    replica = await Replica.open({ dir, author: author('me') })
    try {
      assert.equal(replica.openReport.counterLost, true)
      assert.equal(replica.counter, 9)
      const next = await replica.write('z', { confidence: 0.5 })
      assert.equal(next.state.clock.get('me'), 10)
    } finally {
      await replica.close()
    }
  })

  it('refuses a LevelDB that is not an Engram store', async () => {
    const foreign = join(dir, 'foreign')
    await withRaw(foreign, async db => { await db.put(bytes('user:1'), bytes('alice')) })
    await assert.rejects(LevelPatternStore.open(foreign), (err: Error) => {
      assert.equal(err.name, 'StoreFormatError')
      assert.match(err.message, /not an Engram data directory/)
      return true
    })
    // the refusal released the database and changed nothing
    await withRaw(foreign, async db => {
      assert.deepEqual(await db.get(bytes('user:1')), Buffer.from('alice'))
      assert.equal(await db.get(dbKey('m', 'format')), undefined)
    })
  })

  it('refuses an unknown store format version', async () => {
    await withRaw(dir, async db => { await db.put(dbKey('m', 'format'), bytes('engram-store/99')) })
    await assert.rejects(LevelPatternStore.open(dir), (err: Error) => {
      assert.equal(err.name, 'StoreFormatError')
      assert.match(err.message, /version "99"/)
      return true
    })
  })

  it('refuses a directory holding files LevelDB never writes', async () => {
    const other = join(dir, 'not-a-db')
    await mkdir(other)
    await writeFile(join(other, 'notes.txt'), 'hello')
    await assert.rejects(LevelPatternStore.open(other), { name: 'StoreFormatError' })
  })
})
