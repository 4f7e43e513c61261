/**
 * The store's index alone at a size too big to build through the CLI in a bench run: N random
 * (key hash, digest) entries into a CompactMerkleIndex in batches, its memory, its root, and a save
 * and load of its pages through LevelDB as a clean stop and the next open do them. Its memory is
 * what the process holds with it less what it holds once it is dropped (held-memory.ts).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { CompactMerkleIndex } from '../../src/core/compact-index.js'
import { loadSavedIndex, saveIndex } from '../../src/store/index-snapshot.js'
import { settledBytes } from './held-memory.js'

export interface IndexAtScale {
  n: number
  bytesPerPattern: number
  indexMB: number
  buildS: number
  rootS: number
  saveS: number
  loadS: number
}

const BATCH = 50_000

export async function indexAtScale (n: number): Promise<IndexAtScale> {
  let index: CompactMerkleIndex | undefined = new CompactMerkleIndex()
  let t = performance.now()
  for (let i = 0; i < n; i += BATCH) {
    const raw = randomBytes(Math.min(BATCH, n - i) * 64)
    const at = (j: number): { kh: Uint8Array, digest: Uint8Array } =>
      ({ kh: raw.subarray(j * 64, j * 64 + 32), digest: raw.subarray(j * 64 + 32, j * 64 + 64) })
    index.setMany(Array.from({ length: raw.length / 64 }, (_, j) => at(j)))
  }
  const buildS = (performance.now() - t) / 1000
  t = performance.now()
  const root = index.root()
  const rootS = (performance.now() - t) / 1000
  const dir = await mkdtemp(join(tmpdir(), 'engram-index-'))
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
  try {
    await db.open()
    t = performance.now()
    await saveIndex(db, index, true)
    const saveS = (performance.now() - t) / 1000
    // both readings with the database open, so only the index differs between them
    const withIndex = await settledBytes()
    index = undefined
    const held = withIndex - await settledBytes()
    t = performance.now()
    const loaded = await loadSavedIndex(db, root, false)
    const loadS = (performance.now() - t) / 1000
    if (!('index' in loaded) || loaded.index.size !== n) throw new Error(`saved index did not load: ${JSON.stringify(loaded)}`)
    return { n, bytesPerPattern: held / n, indexMB: held / 2 ** 20, buildS, rootS, saveS, loadS }
  } finally {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}
