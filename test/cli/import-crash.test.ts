/**
 * The saved index across a SIGKILL in the middle of `engram pattern import`: a node that stopped
 * cleanly once (its index pages saved) takes an import and is killed mid-way. The next open must not
 * take those stale pages: it reads the key-hash records, and its root equals the root rebuilt from
 * the pattern records by the in-heap index. A clean stop then saves pages the open after it takes.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { EngramClient } from '../../src/client/index.js'
import { LevelPatternStore } from '../../src/store/level-store.js'
import { decodeAll, hex, rootOf, withRaw } from '../store/helpers.js'
import { ENGRAM, runCli, startCli, type RunningCli } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

const FIRST = 2000
const SECOND = 30_000

async function clientOf (data: string): Promise<EngramClient> {
  const info = JSON.parse(await readFile(join(data, 'api.json'), 'utf8')) as { url: string }
  return new EngramClient({ url: info.url, token: (await readFile(join(data, 'api.token'), 'utf8')).trim() })
}

async function ndjson (file: string, from: number, n: number): Promise<void> {
  const line = (i: number): string => JSON.stringify({ key: `imp/${i}`, episodes: [`e${i}`], confidence: 0.5 })
  await writeFile(file, Array.from({ length: n }, (_, i) => line(from + i)).join('\n') + '\n')
}

describe('saved index across a SIGKILL mid-import', { timeout: 240_000 }, () => {
  let dir: string
  let node: RunningCli | undefined

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'engram-import-crash-')) })
  after(async () => {
    await node?.stop('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  it('reopens from the records, with the root a rebuild gives, and saves pages again at the next clean stop', async () => {
    const data = join(dir, 'data')
    const store = join(data, 'store')
    assert.equal((await runCli(['key', 'generate', join(dir, 'n.key')])).code, 0)
    const args = ['start', '--key', join(dir, 'n.key'), '--data', data, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--interval', '3600']
    node = await startCli(args)
    await ndjson(join(dir, 'first.ndjson'), 0, FIRST)
    assert.equal((await runCli(['pattern', 'import', join(dir, 'first.ndjson'), '--data', data], { timeout: 120_000 })).code, 0)
    assert.equal(await node.stop(), 0)

    node = await startCli(args)
    await ndjson(join(dir, 'second.ndjson'), FIRST, SECOND)
    const importer = spawn(process.execPath, [ENGRAM, 'pattern', 'import', join(dir, 'second.ndjson'), '--data', data], { stdio: 'ignore' })
    const importerExit = once(importer, 'exit')
    const client = await clientOf(data)
    await waitFor(async () => (await client.status()).patterns >= FIRST + 3000, { timeout: 120_000, interval: 20, message: 'the import to be under way' })
    await node.stop('SIGKILL')
    node = undefined
    await importerExit
    const held = await withRaw(store, async db => await decodeAll(db))
    assert.ok(held.length > FIRST && held.length < FIRST + SECOND, `${held.length} patterns after the kill`)

    let s = await LevelPatternStore.open(store)
    try {
      assert.equal(s.openReport.indexFrom, 'records')
      assert.equal(s.openReport.savedIndexUnused, 'the last stop was not clean')
      assert.equal(s.openReport.rebuilt, false)
      assert.equal(s.count, held.length)
      assert.equal(hex(s.root()), hex(rootOf(held)))
    } finally {
      await s.close()
    }
    s = await LevelPatternStore.open(store)
    try {
      assert.equal(s.openReport.indexFrom, 'saved')
      assert.equal(hex(s.root()), hex(rootOf(held)))
      assert.deepEqual((await s.indexCheck)?.repairedPages, [])
    } finally {
      await s.close()
    }
  })
})
