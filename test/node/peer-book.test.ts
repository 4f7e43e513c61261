/** The remembered-peer list: its order and bounds, and its persistence in the node's own store (the production path). */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryKnownPeerStore } from '../../src/discovery/peer-book.js'
import type { KnownPeerStore } from '../../src/discovery/peer-book.js'
import { MetaKnownPeerStore } from '../../src/discovery/known-peers-meta.js'
import { Replica } from '../../src/store/replica.js'
import { author } from '../helpers/authors.js'

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

  it('memory list: newest first, bounded', async () => {
    await behaves(max => new MemoryKnownPeerStore(max))
  })

  it('in the node\'s store: newest first, bounded, survives reopen, patterns untouched', async () => {
    const storeDir = join(dir, 'store')
    let replica = await Replica.open({ dir: storeDir, author: author('me') })
    try {
      await replica.write('a', { confidence: 0.5 })
      const root = Buffer.from(replica.root()).toString('hex')
      await behaves(max => new MetaKnownPeerStore(replica, max))
      assert.equal(replica.count, 1)
      assert.equal(Buffer.from(replica.root()).toString('hex'), root, 'known peers live beside the patterns, not in the index')
    } finally {
      await replica.close()
    }
    replica = await Replica.open({ dir: storeDir, author: author('me') })
    try {
      const store = new MetaKnownPeerStore(replica, 4)
      assert.deepEqual((await store.load()).map(p => p.id), ['peer-9', 'peer-2', 'peer-3', 'peer-4'])
    } finally {
      await replica.close()
    }
  })

  it('an unreadable stored list costs only the remembered peers', async () => {
    const replica = await Replica.open({ dir: join(dir, 'junk'), author: author('me') })
    try {
      await replica.putMeta('known-peers', Buffer.from('{not json'))
      const store = new MetaKnownPeerStore(replica)
      assert.deepEqual(await store.load(), [])
      await store.save(peers(0, 1))
      assert.deepEqual((await new MetaKnownPeerStore(replica).load()).map(p => p.id), ['peer-0'])
    } finally {
      await replica.close()
    }
  })
})
