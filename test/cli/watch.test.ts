/**
 * `engram watch` against a real node process: it prints every change of the feed, and when the
 * node is SIGKILLed mid-stream of writes and started again on its data dir, the watcher
 * reconnects from its last seq and ends up with every change once: nothing lost, nothing
 * twice, no seq handed out again after the kill.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { freePort, runCli, type RunningCli, startCli } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

interface Line { seq: number, key: string, origin: string, pattern: { confidence: number } }

function lines (out: string): Line[] {
  return out.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as Line)
}

describe('engram watch', { timeout: 180_000 }, () => {
  let dir: string
  let data: string
  let node: RunningCli | undefined
  let watcher: RunningCli | undefined
  let flags: string[]

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engram-watch-'))
    data = join(dir, 'data')
    assert.equal((await runCli(['key', 'generate', join(dir, 'node.key')])).code, 0)
    flags = ['start', '--key', join(dir, 'node.key'), '--data', data, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', `127.0.0.1:${await freePort()}`]
    node = await startCli(flags)
  })

  after(async () => {
    await watcher?.stop('SIGKILL')
    await node?.stop('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  it('follows the feed across a SIGKILL and restart of the node, every change once', async () => {
    const write = async (from: number, to: number): Promise<void> => {
      const file = join(dir, `batch-${from}.ndjson`)
      await writeFile(file, Array.from({ length: to - from }, (_, i) => JSON.stringify({ key: `k/${from + i}`, confidence: 0.5 })).join('\n') + '\n')
      const r = await runCli(['pattern', 'import', file, '--data', data])
      assert.equal(r.code, 0, r.stderr)
    }
    await write(0, 10)
    watcher = await startCli(['watch', '--since', '0', '--json', '--prefix', 'k/', '--data', data], { ready: /\n/ })
    await waitFor(() => lines(watcher!.output()).length >= 10, { timeout: 20_000, message: 'the first 10 changes' })
    const bad = await runCli(['watch', '--since', 'x', '--data', data])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /--since must be a seq/)
    // --no-follow: the feed so far, then exit; human lines: seq, origin, key, what the pattern is
    const sofar = await runCli(['watch', '--since', '0', '--no-follow', '--prefix', 'k/', '--data', data])
    assert.equal(sofar.code, 0, sofar.stderr)
    const rows = sofar.stdout.trim().split('\n')
    assert.equal(rows.length, 10)
    assert.match(rows[0]!, /^\d+\tlocal\tk\/0\tconfidence 0\.5, 0 episodes$/)

    // writes go on while the node is killed: some of them may land, some not
    const during = write(10, 40).catch(() => {})
    await new Promise(resolve => setTimeout(resolve, 150))
    await node!.stop('SIGKILL')
    await during
    await waitFor(() => /lost the node's feed/.test(watcher!.stderr()), { timeout: 60_000, message: 'the watcher to see the node gone' })
    const seenBefore = lines(watcher!.output())
    node = await startCli(flags)
    // whatever landed before the kill is stored; write all of it (again) and more
    await write(10, 60)
    await waitFor(() => new Set(lines(watcher!.output()).map(l => l.key)).size >= 60, { timeout: 60_000, message: 'every key in the feed' })

    const all = lines(watcher!.output())
    for (let i = 1; i < all.length; i++) assert.ok(all[i]!.seq > all[i - 1]!.seq, `seq ${all[i]!.seq} after ${all[i - 1]!.seq}`)
    const keys = new Set(all.map(l => l.key))
    assert.deepEqual(keys, new Set(Array.from({ length: 60 }, (_, i) => `k/${i}`)))
    // a key the restarted node changed again shows again, with a new seq; no key twice before the kill
    assert.equal(new Set(seenBefore.map(l => l.key)).size, seenBefore.length)
    const highestBefore = Math.max(...seenBefore.map(l => l.seq))
    assert.ok(all.slice(seenBefore.length).every(l => l.seq > highestBefore), 'no seq handed out again after the kill')
    assert.equal(await watcher!.stop('SIGINT'), 0, 'Ctrl-C ends the watch cleanly')
    watcher = undefined
  })
})
