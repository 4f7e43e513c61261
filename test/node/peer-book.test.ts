import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { LevelKnownPeerStore, MemoryKnownPeerStore } from '../../src/discovery/peer-book.js'
import type { KnownPeerStore } from '../../src/discovery/peer-book.js'

function peers (from: number, to: number): Array<{ id: string, addrs: string[] }> {
  const out = []
  for (let i = from; i < to; i++) out.push({ id: `peer-${i}`, addrs: [`/ip4/127.0.0.1/tcp/${4000 + i}`] })
  return out
}

async function behaves (make: (max: number) => KnownPeerStore | Promise<KnownPeerStore>): Promise<void> {
  const store = await make(4)
  assert.deepEqual(await store.load(), [])
  await store.save(peers(0, 3))
  assert.deepEqual((await store.load()).map(p => p.id), ['peer-0', 'peer-1', 'peer-2'])
  // seen again: moves to the front, addresses replaced; the bound drops the oldest
  await store.save([{ id: 'peer-2', addrs: ['/ip4/127.0.0.1/tcp/9'] }, ...peers(3, 5)])
  const loaded = await store.load()
  assert.deepEqual(loaded.map(p => p.id), ['peer-2', 'peer-3', 'peer-4', 'peer-0'])
  assert.deepEqual(loaded[0]?.addrs, ['/ip4/127.0.0.1/tcp/9'])
  // junk is ignored, duplicates collapsed
  await store.save([{ id: '', addrs: [] }, { id: 'peer-9', addrs: ['/a', '/a', 7 as unknown as string] }])
  assert.deepEqual((await store.load())[0], { id: 'peer-9', addrs: ['/a'] })
  assert.equal((await store.load()).length, 4)
}

describe('known peer stores', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'engram-peers-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('memory store: newest first, bounded', async () => {
    await behaves(max => new MemoryKnownPeerStore(max))
  })

  it('level store: newest first, bounded, survives reopen, own key space', async () => {
    const db = new Level<string, string>(join(dir, 'a'))
    try {
      await db.put('unrelated', 'kept')
      await behaves(max => new LevelKnownPeerStore(db, { maxPeers: max }))
      assert.equal(await db.get('unrelated'), 'kept')
    } finally {
      await db.close()
    }
    const reopened = new Level<string, string>(join(dir, 'a'))
    try {
      const store = new LevelKnownPeerStore(reopened, { maxPeers: 4 })
      assert.deepEqual((await store.load()).map(p => p.id), ['peer-9', 'peer-2', 'peer-3', 'peer-4'])
    } finally {
      await reopened.close()
    }
  })

  it('level store works inside a sublevel handed over by another module', async () => {
    const db = new Level(join(dir, 'b'), { valueEncoding: 'buffer' })
    try {
      const node = db.sublevel('node')
      const store = new LevelKnownPeerStore(node)
      await store.save(peers(0, 2))
      assert.deepEqual((await store.load()).map(p => p.id), ['peer-0', 'peer-1'])
    } finally {
      await db.close()
    }
  })
})
