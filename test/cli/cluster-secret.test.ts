/**
 * Private by default: a new data dir gets a cluster secret (<data>/swarm.key, 0600), the join
 * line passes it, and a node without it cannot connect. `--open` runs without one, with a
 * warning; a data dir from before secrets stays open, with a warning naming the fix.
 * Real `bin/engram` processes on loopback.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { access, mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { runCli, startCli, type CliResult, type RunningCli } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

const FLAGS = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--interval', '3600']
const exists = async (p: string): Promise<boolean> => await access(p).then(() => true, () => false)

describe('the cluster secret', { timeout: 120_000 }, () => {
  let dir: string
  const running: RunningCli[] = []
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'engram-secret-')) })
  after(async () => {
    for (const n of running) await n.stop()
    await rm(dir, { recursive: true, force: true })
  })
  const start = async (name: string, extra: string[] = []): Promise<{ node: RunningCli, data: string, id: string, addr: string }> => {
    const data = join(dir, name)
    assert.equal((await runCli(['key', 'generate', join(dir, `${name}.key`)])).code, 0)
    const node = await startCli(['start', '--key', join(dir, `${name}.key`), '--data', data, ...FLAGS, ...extra])
    running.push(node)
    const id = /peer id: (\S+)/.exec(node.output())![1]!
    const addr = new RegExp(`/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${id}`).exec(node.output())![0]
    return { node, data, id, addr }
  }
  const gossipPeers = async (data: string): Promise<string[]> => {
    const r = await runCli(['peers', '--data', data, '--json'])
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout).peers.filter((p: any) => p.gossip === true).map((p: any) => p.peerId)
  }

  it('a new data dir gets one (0600), the join line passes it, a member with a copy joins, a stranger cannot', async () => {
    const a = await start('a')
    const secret = join(a.data, 'swarm.key')
    assert.equal((await stat(secret)).mode & 0o777, 0o600)
    assert.match(a.node.output(), new RegExp(`cluster secret: ${secret} \\(created\\)`))
    assert.match(a.node.output(), new RegExp(` --swarm-key ${secret} --join \\S+`))
    assert.doesNotMatch(a.node.stderr(), /warning/i)

    const b = await start('b', ['--swarm-key', secret, '--join', a.addr])
    assert.equal(await exists(join(b.data, 'swarm.key')), false, 'a member given a secret writes none of its own')
    await waitFor(async () => (await gossipPeers(a.data)).includes(b.id), { timeout: 30_000, interval: 300, message: 'b to join a' })

    // c has a secret of its own (a new data dir): it dials a, and nothing connects
    const c = await start('c', ['--join', a.addr])
    await sleep(3000)
    assert.ok(!(await gossipPeers(a.data)).includes(c.id), 'a stranger is never a gossip peer')
    assert.deepEqual(await gossipPeers(c.data), [])
  })

  it('--open runs without a secret and warns; --open with --swarm-key is refused', async () => {
    const o = await start('open', ['--open'])
    assert.equal(await exists(join(o.data, 'swarm.key')), false)
    assert.match(o.node.output(), /warning: open cluster \(--open\)/)
    const both: CliResult = await runCli(['start', '--data', join(dir, 'both'), ...FLAGS, '--open', '--swarm-key', join(dir, 'a', 'swarm.key')])
    assert.equal(both.code, 2, both.stderr)
    assert.match(both.stderr, /--open and --swarm-key contradict/)
    assert.equal(await exists(join(dir, 'both')), false, 'a refused start leaves no data dir')
  })

  it('a data dir from before cluster secrets stays open and says how to close it; init writes a secret', async () => {
    const old = join(dir, 'old')
    await mkdir(join(old, 'store'), { recursive: true })
    const o = await start('old')
    assert.equal(await exists(join(old, 'swarm.key')), false)
    assert.match(o.node.output(), /warning: open cluster: this data dir predates cluster secrets.*engram key swarm/)
    const init = await runCli(['init', '--data', join(dir, 'fresh'), '--key', join(dir, 'fresh.key')])
    assert.equal(init.code, 0, init.stderr)
    assert.match(init.stdout, /cluster secret: .*swarm\.key \(created\)/)
    assert.equal((await stat(join(dir, 'fresh', 'swarm.key'))).mode & 0o777, 0o600)
  })
})
