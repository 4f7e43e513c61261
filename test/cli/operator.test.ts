import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CliResult, ENGRAM, freePort, runCli, type RunningCli, startCli } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

// no timer rounds and no eager push: only `engram sync` moves patterns between the two
const NODE_FLAGS = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--interval', '3600', '--fanout', '0']

function oneErrorLine (r: CliResult, expected: RegExp, code = 1): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`)
  assert.match(r.stderr, /^engram: /)
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  assert.match(r.stderr, expected)
}

describe('engram operator commands against running nodes', { timeout: 180_000 }, () => {
  let dir: string
  let d1: string
  let d2: string
  let n1: RunningCli | undefined
  let n2: RunningCli | undefined
  let id1: string
  let id2: string
  const cli = async (...args: string[]): Promise<CliResult> => await runCli(args)
  const json = async (...args: string[]): Promise<any> => {
    const r = await runCli([...args, '--json'])
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    return JSON.parse(r.stdout)
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engram-operator-'))
    d1 = join(dir, 'data-1')
    d2 = join(dir, 'data-2')
    for (const k of ['1', '2']) assert.equal((await cli('key', 'generate', join(dir, `${k}.key`))).code, 0)
    n1 = await startCli(['start', '--key', join(dir, '1.key'), '--data', d1, ...NODE_FLAGS])
    id1 = /peer id: (\S+)/.exec(n1.output())![1]!
    const addr = new RegExp(`/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${id1}`).exec(n1.output())![0]
    n2 = await startCli(['start', '--key', join(dir, '2.key'), '--data', d2, ...NODE_FLAGS, '--swarm-key', join(d1, 'swarm.key'), '--join', addr])
    id2 = /peer id: (\S+)/.exec(n2.output())![1]!
    await waitFor(async () => {
      const peers = await json('peers', '--data', d1)
      return peers.peers.some((p: any) => p.peerId === id2 && p.gossip === true)
    }, { timeout: 30_000, interval: 300, message: 'node 2 to be a gossip peer of node 1' })
  })
  after(async () => {
    await n2?.stop()
    await n1?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('has --help on every operator command', async () => {
    for (const args of [['status'], ['peers'], ['sync'], ['pattern'], ['pattern', 'put'], ['pattern', 'get'], ['pattern', 'list'], ['pattern', 'rm']]) {
      const r = await cli(...args, '--help')
      assert.equal(r.code, 0, args.join(' '))
      assert.match(r.stdout, /Usage: engram/)
    }
  })

  it('engram status: human and --json', async () => {
    const s = await json('status', '--data', d1)
    assert.equal(s.peerId, id1)
    assert.ok(s.addresses.length > 0 && s.addresses.every((a: string) => a.endsWith(`/p2p/${id1}`)))
    assert.match(s.root, /^[0-9a-f]{64}$/)
    assert.equal(typeof s.patterns, 'number')
    assert.ok(s.gossipPeers.includes(id2))
    assert.ok(Array.isArray(s.lastRounds))
    const h = await cli('status', '--data', d1)
    assert.equal(h.code, 0, h.stderr)
    assert.match(h.stdout, new RegExp(`peer id: +${id1}`))
    assert.match(h.stdout, /addresses: +\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    assert.match(h.stdout, new RegExp(`root: +${s.root}`))
    assert.match(h.stdout, /patterns: +\d+/)
    assert.match(h.stdout, /1 connected, 1 gossip/)
  })

  it('engram peers: human and --json', async () => {
    const p = (await json('peers', '--data', d2)).peers
    assert.equal(p.length, 1)
    assert.equal(p[0].peerId, id1)
    assert.equal(p[0].gossip, true)
    assert.ok(p[0].addresses[0].startsWith('/ip4/127.0.0.1/'))
    const h = await cli('peers', '--data', d2)
    assert.equal(h.code, 0, h.stderr)
    assert.match(h.stdout, /1 peer connected/)
    assert.match(h.stdout, new RegExp(`${id1} +gossip: yes`))
  })

  it('engram pattern put / get / list / rm: human and --json', async () => {
    const put = await cli('pattern', 'put', 'topic', '--episode', 'e2', '--episode', 'e1', '--confidence', '0.8', '--summary', 'about things', '--data', d1)
    assert.equal(put.code, 0, put.stderr)
    assert.match(put.stdout, /wrote "topic"/)
    assert.match(put.stdout, /confidence: +0\.8/)
    assert.match(put.stdout, /episodes: +2: e1, e2/)

    const upd = await json('pattern', 'put', 'topic', '--episode', 'e3', '--remove-episode', 'e1', '--data', d1)
    assert.deepEqual(upd.episodes, ['e2', 'e3'])

    const got = await json('pattern', 'get', 'topic', '--data', d1)
    assert.equal(got.key, 'topic')
    assert.deepEqual(got.episodes, ['e2', 'e3'])
    assert.equal(got.confidence, 0.8)
    assert.equal(got.summary, 'about things')
    assert.equal(got.clock[id1], 2)
    assert.match(got.digest, /^[0-9a-f]{64}$/)
    assert.equal(got.deleted, false)
    const h = await cli('pattern', 'get', 'topic', '--data', d1)
    assert.equal(h.code, 0, h.stderr)
    assert.match(h.stdout, new RegExp(`clock: +${id1}=2`))
    assert.match(h.stdout, new RegExp(`digest: +${got.digest}`))
    assert.match(h.stdout, /summary: +about things/)

    for (let i = 0; i < 3; i++) assert.equal((await cli('pattern', 'put', `list/${i}`, '--confidence', '0.5', '--data', d1)).code, 0)
    const page1 = await json('pattern', 'list', '--prefix', 'list/', '--limit', '2', '--data', d1)
    assert.deepEqual(page1.patterns.map((p: any) => p.key), ['list/0', 'list/1'])
    assert.equal(typeof page1.nextCursor, 'string')
    const page2 = await json('pattern', 'list', '--prefix', 'list/', '--limit', '2', '--cursor', page1.nextCursor, '--data', d1)
    assert.deepEqual(page2.patterns.map((p: any) => p.key), ['list/2'])
    assert.equal(page2.nextCursor, null)
    const hl = await cli('pattern', 'list', '--prefix', 'list/', '--limit', '2', '--data', d1)
    assert.equal(hl.code, 0, hl.stderr)
    assert.match(hl.stdout, /^list\/0\tconfidence 0\.5\t0 episodes$/m)
    assert.match(hl.stdout, /more: engram pattern list --cursor \S+/)

    const del = await cli('pattern', 'rm', 'list/2', '--data', d1)
    assert.equal(del.code, 0, del.stderr)
    assert.match(del.stdout, /deleted "list\/2"/)
    assert.equal((await json('pattern', 'get', 'list/2', '--data', d1)).deleted, true)
    assert.equal((await json('pattern', 'rm', 'list/1', '--data', d1)).deleted, true)
    oneErrorLine(await cli('pattern', 'rm', 'list/1', '--data', d1), /does not exist/)
    oneErrorLine(await cli('pattern', 'get', 'nothing-here', '--data', d1), /does not exist/)
  })

  it('engram sync: one round now, human and --json, random or named peer', async () => {
    assert.equal((await cli('pattern', 'put', 'to-sync', '--episode', 'x', '--confidence', '0.3', '--data', d1)).code, 0)
    const r = await cli('sync', '--data', d1)
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stdout, /\r/, 'no live line without a terminal')
    assert.match(r.stdout, /synced: 0 patterns in \(0 changed\), \d+ out, \d+(\.\d)? K?i?B in, \d+(\.\d)? K?i?B out, \d+ round trips?, \d+ ms/)
    assert.equal((await json('pattern', 'get', 'to-sync', '--data', d2)).confidence, 0.3)

    const again = await json('sync', '--peer', id2, '--data', d1)
    assert.equal(again.peer, id2)
    assert.equal(again.outcome, 'in-sync')
    assert.equal(again.roundTrips, 1)
    assert.equal((await json('status', '--data', d1)).root, (await json('status', '--data', d2)).root)
    oneErrorLine(await cli('sync', '--peer', 'not-a-peer', '--data', d1), /not a valid PeerId/)
    oneErrorLine(await cli('sync', '--peer', id1, '--data', d1), /not a connected gossip peer/)
  })

  it('engram sync on a terminal shows a live progress line, then the result', async (t) => {
    const hasScript = await new Promise<boolean>(resolve => execFile('script', ['--version'], err => resolve(err === null)))
    if (!hasScript) { t.skip('no `script` to give the command a terminal'); return }
    assert.equal((await cli('pattern', 'put', 'on-tty', '--confidence', '0.6', '--data', d2)).code, 0)
    const out = await new Promise<string>((resolve, reject) => {
      const cmd = `'${process.execPath}' '${ENGRAM}' sync --data '${d1}'`
      execFile('script', ['-qec', cmd, '/dev/null'], { timeout: 60_000 }, (err, stdout) => { err !== null ? reject(err) : resolve(stdout) })
    })
    // eslint-disable-next-line no-control-regex -- matches the terminal's erase-line escape
    assert.match(out, /\r\x1b\[Ksyncing with 12D3KooW/)
    assert.match(out, /initiator 12D3KooW\S+ synced: 1 patterns in \(1 changed\)/)
    assert.equal((await json('pattern', 'get', 'on-tty', '--data', d1)).confidence, 0.6)
  })

  it('refuses bad values with the API\'s message, and they change nothing', async () => {
    const before = (await json('status', '--data', d1)).root
    oneErrorLine(await cli('pattern', 'put', 'bad', '--confidence', '2', '--data', d1), /confidence.*\[0, 1\].*2/)
    oneErrorLine(await cli('pattern', 'put', 'bad', '--episode', 'e1', '--data', d1), /confidence is required/)
    oneErrorLine(await cli('pattern', 'put', 'k'.repeat(600), '--confidence', '0.5', '--data', d1), /longer than 512 bytes/)
    assert.equal((await json('status', '--data', d1)).root, before)
  })

  for (const args of [
    ['status', '--bogus'],
    ['pattern', 'put', 'k', '--confidence', 'high'],
    ['pattern', 'list', '--limit', '0'],
    ['pattern', 'get'],
    ['sync', '--peer'],
    ['pattern', 'frob']
  ]) {
    it(`rejects bad usage: ${args.join(' ')} (exit 2)`, async () => {
      const r = await cli(...args)
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /error/)
    })
  }

  it('says "node not running" for a data dir without a node, or with a stale api.json', async () => {
    const empty = join(dir, 'empty')
    await mkdir(empty)
    for (const args of [['status'], ['peers'], ['pattern', 'get', 'k'], ['sync']]) {
      oneErrorLine(await cli(...args, '--data', empty), /no node is running on data dir/)
    }
    const stale = join(dir, 'stale')
    await mkdir(stale)
    await writeFile(join(stale, 'api.token'), 'a-token-of-a-gone-node-0123\n', { mode: 0o600 })
    // a live pid (ours) but nothing on the port: the node went away without cleaning up
    await writeFile(join(stale, 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${await freePort()}`, pid: process.pid, peerId: id1 }))
    oneErrorLine(await cli('status', '--data', stale), /node not running/)
    // a pid that no longer exists
    await writeFile(join(stale, 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${await freePort()}`, pid: 2 ** 22 + 17, peerId: id1 }))
    oneErrorLine(await cli('pattern', 'list', '--data', stale), /node not running.*is gone/)
  })

  it('says the token is wrong on a 401', async () => {
    const file = join(d1, 'api.token')
    const good = await readFile(file, 'utf8')
    await writeFile(file, 'not-the-token-of-this-node-0123\n')
    try {
      for (const args of [['status'], ['pattern', 'put', 'k', '--confidence', '0.5'], ['sync']]) {
        oneErrorLine(await cli(...args, '--data', d1), /refused the API token.*401/)
      }
    } finally {
      await writeFile(file, good)
    }
    assert.equal((await cli('status', '--data', d1)).code, 0)
  })
})
