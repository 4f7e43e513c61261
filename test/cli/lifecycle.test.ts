/**
 * Operator lifecycle, through the real CLI: init, the data dir lock, config precedence at
 * start, SIGTERM and restart with every pattern still there.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from '../helpers/cli.js'

const LOOP = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0']

describe('engram lifecycle', { timeout: 120_000 }, () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'engram-life-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('init creates the data dir, key, token and a config with the given settings, and refuses to redo it', async () => {
    const data = join(dir, 'init-data')
    const key = join(dir, 'init.key')
    const r = await runCli(['init', '--data', data, '--key', key, '--fanout', '2', '--interval', '5', ...LOOP])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /peer id: 12D3KooW/)
    assert.equal((await stat(key)).mode & 0o777, 0o600)
    assert.equal((await stat(join(data, 'api.token'))).mode & 0o777, 0o600)
    const config = JSON.parse(await readFile(join(data, 'config.json'), 'utf8'))
    assert.deepEqual(config, { key, fanout: 2, interval: 5, listen: ['/ip4/127.0.0.1/tcp/0'], api: '127.0.0.1:0' })
    const again = await runCli(['init', '--data', data])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /already exists.*--force/)
    // start takes everything from config.json; the peer id is the init key's
    const node = await startCli(['start', '--data', data])
    assert.match(node.output(), new RegExp(`peer id: ${/peer id: (\S+)/.exec(r.stdout)![1]}`))
    assert.equal(await node.stop(), 0)
  })

  it('a bad config.json or ENGRAM_* value stops start with a message naming it', async () => {
    const data = join(dir, 'bad-config')
    await runCli(['init', '--data', data, '--key', join(dir, 'bad.key'), ...LOOP])
    await writeFile(join(data, 'config.json'), JSON.stringify({ fanout: 'lots' }))
    const r1 = await runCli(['start', '--data', data])
    assert.equal(r1.code, 1)
    assert.match(r1.stderr, /config\.json: fanout: expected a whole number/)
    await writeFile(join(data, 'config.json'), JSON.stringify({ key: join(dir, 'bad.key'), listen: ['/ip4/127.0.0.1/tcp/0'], api: '127.0.0.1:0' }))
    const r2 = await runCli(['start', '--data', data], { env: { ENGRAM_INTERVAL: 'soon' } })
    assert.equal(r2.code, 1)
    assert.match(r2.stderr, /ENGRAM_INTERVAL: interval/)
  })

  it('a second start on the same data dir fails clearly; SIGTERM exits 0; a restart finds every pattern', async () => {
    const data = join(dir, 'life-data')
    const key = join(dir, 'life.key')
    await runCli(['key', 'generate', key])
    const first = await startCli(['start', '--data', data, '--key', key, ...LOOP])
    const second = await runCli(['start', '--data', data, '--key', key, ...LOOP])
    assert.equal(second.code, 1)
    assert.match(second.stderr, /^engram: data dir .* is in use by another engram process \(pid \d+\)/)
    for (let i = 0; i < 25; i++) {
      const put = await runCli(['pattern', 'put', `life/${i}`, '--episode', `e${i}`, '--confidence', '0.5', '--data', data])
      assert.equal(put.code, 0, put.stderr)
    }
    const before = JSON.parse((await runCli(['status', '--json', '--data', data])).stdout)
    assert.equal(await first.stop('SIGTERM'), 0)
    assert.match(first.output(), /SIGTERM received, stopping\.\.\.\nstopped/)
    // the lock and the API address are gone with the process
    await assert.rejects(stat(join(data, 'engram.lock')))
    await assert.rejects(stat(join(data, 'api.json')))
    const notRunning = await runCli(['status', '--data', data])
    assert.equal(notRunning.code, 1)
    assert.match(notRunning.stderr, /no node is running/)

    const again = await startCli(['start', '--data', data, '--key', key, ...LOOP])
    assert.match(again.output(), /\(25 patterns\)/)
    const after = JSON.parse((await runCli(['status', '--json', '--data', data])).stdout)
    assert.equal(after.root, before.root)
    assert.equal(after.patterns, 25)
    const list = JSON.parse((await runCli(['pattern', 'list', '--json', '--data', data])).stdout)
    assert.equal(list.patterns.length, 25)
    assert.equal(await again.stop('SIGINT'), 0)
  })

  it('a lock left by a killed node is taken over', async () => {
    const data = join(dir, 'stale-lock')
    const key = join(dir, 'stale.key')
    await runCli(['key', 'generate', key])
    const node = await startCli(['start', '--data', data, '--key', key, ...LOOP])
    node.child.kill('SIGKILL')
    await node.stop()
    const lock = await readFile(join(data, 'engram.lock'), 'utf8')
    assert.match(lock, /^\d+\n$/)
    const again = await startCli(['start', '--data', data, '--key', key, ...LOOP])
    assert.match(again.output(), /engram node started/)
    assert.equal(await again.stop(), 0)
  })
})
