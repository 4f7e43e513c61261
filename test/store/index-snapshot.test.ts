/**
 * The index saved at a clean stop: loaded instead of the records when it can be trusted, refused
 * when damaged or stale, and checked against the records in the background, which repairs a page
 * that differs. The reference root is always recomputed from the pattern records by the in-heap index.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { keyHash, sha256 } from '../../src/core/encoding.js'
import { LevelPatternStore } from '../../src/store/level-store.js'
import { dbKey, decodeAll, hex, pattern, removeDir, rootOf, tempDir, withRaw, type RawLevel } from './helpers.js'

const N = 600

async function storedRoot (db: RawLevel): Promise<string> {
  return hex(await db.get(dbKey('m', 'root')) ?? new Uint8Array())
}

/** The saved page holding key `key` (its key hash's first 12 bits), as the raw record key. */
function pageKeyOf (key: string): Uint8Array {
  const kh = keyHash(key)
  const page = ((kh[0] as number) << 4) | ((kh[1] as number) >> 4)
  return Uint8Array.of(0x69, page >> 8, page & 0xff)
}

describe('saved index', () => {
  let dir: string
  let expected: string

  beforeEach(async () => {
    dir = await tempDir()
    const store = await LevelPatternStore.open(dir)
    await store.writeBatch(Array.from({ length: N }, (_, i) => pattern(`k${i}`, (i % 10) / 10)), 1)
    await store.close()
    expected = await withRaw(dir, async db => hex(rootOf(await decodeAll(db))))
  })

  afterEach(async () => { await removeDir(dir) })

  it('is loaded after a clean stop, checked in the background, and only changed pages are saved again', async () => {
    let store = await LevelPatternStore.open(dir)
    try {
      assert.equal(store.openReport.indexFrom, 'saved')
      assert.equal(store.openReport.savedIndexUnused, undefined)
      assert.equal(store.count, N)
      assert.equal(hex(store.root()), expected)
      assert.deepEqual(await store.indexCheck, { pagesChecked: 4096, repairedPages: [] })
      await store.writeBatch([pattern('k1', 0.99, 'node-w', 2)], 2)
    } finally {
      await store.close()
    }
    const after = await withRaw(dir, async db => hex(rootOf(await decodeAll(db))))
    assert.notEqual(after, expected)
    store = await LevelPatternStore.open(dir)
    try {
      assert.equal(store.openReport.indexFrom, 'saved')
      assert.equal(hex(store.root()), after)
      assert.deepEqual((await store.indexCheck)?.repairedPages, [])
    } finally {
      await store.close()
    }
  })

  it('is checked while writes land, and repairs nothing a write changed', async () => {
    const store = await LevelPatternStore.open(dir)
    let held: string
    try {
      assert.equal(store.openReport.indexFrom, 'saved')
      // writes interleave with the check's turns of the write lock: new keys and rewrites of old ones
      const writes = (async () => {
        for (let i = 0; i < 40; i++) {
          await store.writeBatch([pattern(`new${i}`, 0.5, 'node-w', 10 + i), pattern(`k${i * 7}`, 0.42, 'node-w', 100 + i)], 200 + i)
          await new Promise(resolve => setImmediate(resolve))
        }
      })()
      const [check] = await Promise.all([store.indexCheck, writes])
      assert.deepEqual(check?.repairedPages, [])
      assert.equal(check?.pagesChecked, 4096)
      assert.equal(store.count, N + 40)
      held = hex(store.root())
    } finally {
      await store.close()
    }
    await withRaw(dir, async db => { assert.equal(hex(rootOf(await decodeAll(db))), held) })
  })

  it('is not trusted after a stop that was not clean', async () => {
    await withRaw(dir, async db => { await db.put(dbKey('m', 'open'), Uint8Array.of(1)) })
    const store = await LevelPatternStore.open(dir)
    try {
      assert.equal(store.openReport.indexFrom, 'records')
      assert.equal(store.openReport.savedIndexUnused, 'the last stop was not clean')
      assert.equal(store.indexCheck, undefined)
      assert.equal(hex(store.root()), expected)
    } finally {
      await store.close()
    }
  })

  const damages: Array<[string, (db: RawLevel) => Promise<void>, RegExp]> = [
    ['a digest flipped in a saved page', async db => {
      const k = pageKeyOf('k7')
      const page = (await db.get(k)) as Uint8Array
      const bad = new Uint8Array(page)
      bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1
      await db.put(k, bad)
    }, /do not give back their root/],
    ['a saved page cut short', async db => {
      const k = pageKeyOf('k8')
      await db.put(k, ((await db.get(k)) as Uint8Array).subarray(0, 70))
    }, /damaged/],
    ['a saved page lost', async db => { await db.del(pageKeyOf('k9')) }, /do not give back their root/],
    ['a foreign record among the pages', async db => { await db.put(Uint8Array.of(0x69, 1), Uint8Array.of(1)) }, /malformed key/],
    ['a header from an older save', async db => { await db.put(dbKey('m', 'index'), new Uint8Array(40).fill(3)) }, /older than the store/]
  ]
  for (const [what, damage, why] of damages) {
    it(`is refused, and the records used, with ${what}`, async () => {
      await withRaw(dir, damage)
      let store = await LevelPatternStore.open(dir)
      try {
        assert.equal(store.openReport.indexFrom, 'records')
        assert.match(store.openReport.savedIndexUnused ?? '', why)
        assert.equal(hex(store.root()), expected)
        assert.equal(store.count, N)
      } finally {
        await store.close()
      }
      // the clean close saved every page again: the next open takes them
      store = await LevelPatternStore.open(dir)
      try {
        assert.equal(store.openReport.indexFrom, 'saved')
        assert.equal(hex(store.root()), expected)
      } finally {
        await store.close()
      }
    })
  }

  it('that agrees with a stored root the records contradict is repaired by the background check', async () => {
    // an 'h' record whose digest no longer matches the saved pages (the root stays as saved)
    const kh = keyHash('k3')
    await withRaw(dir, async db => {
      const h = (await db.get(dbKey('h', kh))) as Uint8Array
      const bad = new Uint8Array(h)
      bad.set(sha256(Uint8Array.of(1)), 0)
      await db.put(dbKey('h', kh), bad)
    })
    const fromRecords = await withRaw(dir, async db => {
      const { MerkleIndex } = await import('../../src/core/merkle.js')
      const idx = new MerkleIndex()
      for await (const [k, v] of db.iterator({ gte: dbKey('h', ''), lt: dbKey('i', '') })) idx.set(k.subarray(1), v.subarray(0, 32))
      return hex(idx.root())
    })
    assert.notEqual(fromRecords, expected)
    const store = await LevelPatternStore.open(dir)
    try {
      assert.equal(store.openReport.indexFrom, 'saved')
      assert.equal(hex(store.root()), expected)
      const check = await store.indexCheck
      assert.deepEqual(check?.repairedPages, [((kh[0] as number) << 4) | ((kh[1] as number) >> 4)])
      assert.equal(hex(store.root()), fromRecords)
    } finally {
      await store.close()
    }
    await withRaw(dir, async db => { assert.equal(await storedRoot(db), fromRecords) })
  })
})
