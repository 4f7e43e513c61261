/** Shared helpers of the store tests: temp dirs, raw LevelDB access, root recomputation. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach } from 'node:test'
import { Level } from 'level'
import { decodePattern, keyHash, patternDigest } from '../../src/core/encoding.js'
import { MerkleIndex } from '../../src/core/merkle.js'
import { applyWrite, type PatternState } from '../../src/core/pattern.js'
import { Replica } from '../../src/store/replica.js'
import { author } from '../helpers/authors.js'

export type RawLevel = Level<Uint8Array, Uint8Array>

export async function tempDir (): Promise<string> {
  return await mkdtemp(join(tmpdir(), 'engram-store-'))
}

export async function removeDir (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

/** Runs `fn` with a raw handle on the store's LevelDB (the store must be closed). */
export async function withRaw<T> (dir: string, fn: (db: RawLevel) => Promise<T>): Promise<T> {
  const db: RawLevel = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

export function bytes (s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

export function dbKey (prefix: string, rest: string | Uint8Array): Uint8Array {
  const r = typeof rest === 'string' ? bytes(rest) : rest
  const out = new Uint8Array(r.length + 1)
  out[0] = prefix.charCodeAt(0)
  out.set(r, 1)
  return out
}

/** Decodes every stored 'p' record independently of the store code. */
export async function decodeAll (db: RawLevel): Promise<PatternState[]> {
  const out: PatternState[] = []
  for await (const v of db.values({ gte: dbKey('p', ''), lt: dbKey('q', '') })) out.push(decodePattern(v))
  return out
}

export function rootOf (states: readonly PatternState[]): Uint8Array {
  const index = new MerkleIndex()
  for (const s of states) index.set(keyHash(s.key), patternDigest(s))
  return index.root()
}

/** A pattern as if written by `node` as its event `counter`. */
export function pattern (key: string, confidence: number, node = 'node-w', counter = 1, episodes: string[] = []): PatternState {
  return applyWrite(undefined, key, { confidence, addEpisodes: episodes }, author(node), counter)
}

export function hex (b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

/** A fresh Replica in a temp dir for each test of the calling suite; a test may reopen it by assigning `replica`. */
export function replicaPerTest (nodeId: string): { dir: string, replica: Replica } {
  const ctx = { dir: '', replica: undefined as unknown as Replica }
  beforeEach(async () => {
    ctx.dir = await tempDir()
    ctx.replica = await Replica.open({ dir: ctx.dir, author: author(nodeId) })
  })
  afterEach(async () => {
    await ctx.replica.close()
    await removeDir(ctx.dir)
  })
  return ctx
}
