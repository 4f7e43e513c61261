import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { runCli, startCli } from '../helpers/cli.js'

const LOOP = ['--listen', '/ip4/127.0.0.1/tcp/0']

describe('engram CLI: keys and start', { timeout: 120_000 }, () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'engram-cli-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('has --help on every command', async () => {
    for (const args of [['--help'], ['start', '--help'], ['key', '--help'], ['key', 'generate', '--help'], ['key', 'swarm', '--help']]) {
      const r = await runCli(args)
      assert.equal(r.code, 0, args.join(' '))
      assert.match(r.stdout, /Usage: engram/)
    }
  })

  it('key generate writes a 0600 key and refuses to overwrite it', async () => {
    const file = join(dir, 'a.key')
    const r = await runCli(['key', 'generate', file])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /peer id: 12D3KooW/)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    const again = await runCli(['key', 'generate', file])
    assert.notEqual(again.code, 0)
    assert.match(again.stderr, /^engram: .*exists/m)
  })

  it('the same key gives the same PeerId on every start; SIGTERM exits 0', async () => {
    const file = join(dir, 'same.key')
    const gen = await runCli(['key', 'generate', file])
    const id = /peer id: (\S+)/.exec(gen.stdout)![1]
    for (let i = 0; i < 2; i++) {
      const node = await startCli(['start', '--key', file, '--data', join(dir, 'data-same'), ...LOOP])
      assert.match(node.output(), new RegExp(`peer id: ${id}`))
      assert.match(node.output(), new RegExp(`/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${id}`))
      assert.match(node.output(), /--join \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
      assert.equal(await node.stop('SIGTERM'), 0)
    }
  })

  it('creates only the default key on first start', async () => {
    const cwd = await mkdtemp(join(dir, 'fresh-'))
    const node = await startCli(['start', '--data', join(cwd, 'data'), ...LOOP], { cwd })
    assert.match(node.output(), /created a new node key in keys\/node\.key/)
    assert.equal((await stat(join(cwd, 'keys', 'node.key'))).mode & 0o777, 0o600)
    assert.equal(await node.stop('SIGINT'), 0)
  })

  const bad: Array<[string, () => Promise<string[]>, RegExp]> = [
    ['a missing explicit key', async () => ['start', '--key', join(dir, 'nope.key'), ...LOOP], /does not exist.*engram key generate/],
    ['a corrupt key', async () => {
      const f = join(dir, 'corrupt.key')
      await writeFile(f, randomBytes(68), { mode: 0o600 })
      return ['start', '--key', f, ...LOOP]
    }, /not a valid libp2p private key/],
    ['a world-readable key', async () => {
      const f = join(dir, 'open.key')
      await runCli(['key', 'generate', f])
      await chmod(f, 0o644)
      return ['start', '--key', f, ...LOOP]
    }, /chmod 600/],
    ['a malformed swarm key', async () => {
      const f = join(dir, 'swarm.key')
      await writeFile(f, 'not a swarm key\n', { mode: 0o600 })
      const k = join(dir, 'sk-node.key')
      await runCli(['key', 'generate', k])
      return ['start', '--key', k, '--swarm-key', f, ...LOOP]
    }, /swarm/i]
  ]
  for (const [name, args, expected] of bad) {
    it(`refuses ${name} with one clear line and a non-zero exit`, async () => {
      const r = await runCli(await args())
      assert.notEqual(r.code, 0)
      assert.match(r.stderr, expected)
      assert.match(r.stderr, /^engram: /)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    })
  }

  for (const args of [
    ['start', '--fanout', 'many'],
    ['start', '--listen', 'localhost:4001'],
    ['start', '--interval', '-3'],
    ['start', '--bogus'],
    ['frobnicate']
  ]) {
    it(`rejects bad usage: ${args.join(' ')}`, async () => {
      const r = await runCli(args)
      assert.equal(r.code, 2)
      assert.match(r.stderr, /error/)
    })
  }
})
