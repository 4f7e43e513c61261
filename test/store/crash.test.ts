/**
 * Crash safety: a child process writes 200-pattern batches and is SIGKILLed mid-run.
 * Every batch must be all-or-nothing, every batch it reported must be there, and the
 * stored root must match the stored patterns (so the next open needs no repair). From the
 * second run on, the child opens from the index pages the previous clean close saved: after the
 * kill those are stale, and the next open must read the records instead.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { keyHash } from '../../src/core/encoding.js'
import { LevelPatternStore } from '../../src/store/level-store.js'
import { dbKey, decodeAll, hex, removeDir, rootOf, tempDir, withRaw } from './helpers.js'

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url))
const BATCH_SIZE = 200
const ROUNDS = 5
const WAIT_MS = 30_000

/**
 * Lets the child report `n` commits, kills it at a random point soon after, and
 * returns the highest batch it reported before dying (stdout drained to the end).
 */
async function killAfterCommits (child: ChildProcess, n: number): Promise<number> {
  let seen = 0
  let highest = 0
  let buffered = ''
  let timer: NodeJS.Timeout | undefined
  const closed = once(child, 'close')
  const reported = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`writer reported ${seen} commits in ${WAIT_MS} ms`)), WAIT_MS)
    child.once('exit', code => { reject(new Error(`writer exited early with ${String(code)}`)) })
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        const m = /^committed (\d+)$/.exec(line)
        if (m === null) continue
        highest = Number(m[1])
        if (++seen === n) resolve()
      }
    })
  })
  try {
    await reported
    // kill at a random point within the next few batches (one takes ~10-20 ms)
    await new Promise(resolve => setTimeout(resolve, Math.floor(Math.random() * 50)))
  } finally {
    clearTimeout(timer)
    child.kill('SIGKILL')
    await Promise.race([closed, new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('writer did not die')), WAIT_MS) })])
    clearTimeout(timer)
  }
  return highest
}

/**
 * The change feed as stored, checked against the patterns: every pattern has exactly one
 * entry (its key's 'h' record names it), no entry names a key that is not stored, and no
 * entry is above the stored last seq. Returns the highest seq.
 */
async function checkFeed (dir: string): Promise<number> {
  return await withRaw(dir, async db => {
    const keys = new Set((await decodeAll(db)).map(s => s.key))
    const byKey = new Map<string, number>()
    let highest = 0
    for await (const [k, v] of db.iterator({ gte: dbKey('c', ''), lt: dbKey('d', '') })) {
      const seq = Number(Buffer.from(k.subarray(1)).readBigUInt64BE())
      // origin (1), peer number (varint: the one peer here is number 1), key
      assert.equal(v[1], 1, 'peer number')
      const key = Buffer.from(v.subarray(2)).toString('utf8')
      assert.ok(keys.has(key), `feed entry ${seq} names ${key}, which is not stored`)
      assert.equal(byKey.has(key), false, `two feed entries for ${key}`)
      assert.equal(v[0], 2, 'origin: session')
      byKey.set(key, seq)
      highest = Math.max(highest, seq)
    }
    assert.equal(byKey.size, keys.size, 'every stored pattern has its entry')
    for (const [key, seq] of byKey) {
      // the key's 'h' record: digest (32), 0xff, seq (8), key
      const h = await db.get(dbKey('h', keyHash(key)))
      assert.ok(h !== undefined && h[32] === 0xff && Number(Buffer.from(h.subarray(33, 41)).readBigUInt64BE()) === seq, `h record of ${key}`)
    }
    const meta = await db.get(dbKey('m', 'seq'))
    assert.ok(meta !== undefined && Number(Buffer.from(meta).readBigUInt64BE()) >= highest, 'stored last seq covers every entry')
    return highest
  })
}

/** Batch number -> how many of its patterns are stored. */
async function batchSizes (dir: string): Promise<{ sizes: Map<number, number>, storedRoot: string, recomputed: string }> {
  return await withRaw(dir, async db => {
    const states = await decodeAll(db)
    const sizes = new Map<number, number>()
    for (const s of states) {
      const m = /^b(\d+)\/\d+$/.exec(s.key)
      assert.ok(m !== null, `unexpected key ${s.key}`)
      const b = Number(m[1])
      sizes.set(b, (sizes.get(b) ?? 0) + 1)
    }
    const stored = await db.get(dbKey('m', 'root'))
    return { sizes, storedRoot: hex(stored ?? new Uint8Array()), recomputed: hex(rootOf(states)) }
  })
}

describe('crash safety', () => {
  let dir: string
  before(async () => { dir = await tempDir() })
  after(async () => { await removeDir(dir) })

  it('keeps every batch all-or-nothing across SIGKILLs', { timeout: ROUNDS * 3 * WAIT_MS }, async () => {
    let reportedSoFar = 0
    let seqSoFar = 0
    for (let round = 0; round < ROUNDS; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
      const highest = await killAfterCommits(child, 3 + Math.floor(Math.random() * 5))
      assert.ok(highest > reportedSoFar, 'the writer resumed after the stored counter')
      reportedSoFar = highest

      const { sizes, storedRoot, recomputed } = await batchSizes(dir)
      for (const [b, size] of sizes) assert.equal(size, BATCH_SIZE, `batch ${b} is partial: ${size} patterns`)
      for (let b = 1; b <= highest; b++) assert.ok(sizes.has(b), `reported batch ${b} is missing`)
      const maxStored = Math.max(...sizes.keys())
      // at most the batch in flight at the kill may be there unreported
      assert.ok(maxStored === highest || maxStored === highest + 1, `stored up to ${maxStored}, reported ${highest}`)
      assert.equal(storedRoot, recomputed)
      const highestSeq = await checkFeed(dir)
      assert.ok(highestSeq > seqSoFar, 'the feed went on after the last run\'s seqs')
      seqSoFar = highestSeq

      const store = await LevelPatternStore.open(dir)
      try {
        assert.equal(store.openReport.rebuilt, false)
        assert.equal(store.openReport.uncleanStop, true)
        // the index pages saved by the last clean close are stale now: they are not trusted
        assert.equal(store.openReport.indexFrom, 'records')
        assert.equal(store.openReport.savedIndexUnused, 'the last stop was not clean')
        assert.equal(store.openReport.feedRepaired, undefined)
        // no seq the killed run may have handed out is handed out again
        assert.ok(store.lastSeq > highestSeq)
        assert.equal(store.counter, maxStored)
        assert.equal(store.count, maxStored * BATCH_SIZE)
        assert.equal(hex(store.root()), recomputed)
      } finally {
        await store.close()
      }
      reportedSoFar = maxStored
    }
  })
})
