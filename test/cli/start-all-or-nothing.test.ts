/**
 * `engram start` is all-or-nothing, through the real CLI (bin/engram runs dist/: build first):
 * every setting is checked before anything is created, the same from every source; a taken
 * API or listen port fails the start before the node goes on the network; a failed start
 * leaves no data dir, lock, api.json or key it made, and its process exits by itself.
 *
 * Ports are real, on 127.0.0.1 only. A join node (a real engram process) is reached through a
 * counting TCP proxy, so "never dialled" is observed, not inferred; a control test shows the
 * proxy does see the dial of a node that starts.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli, type CliResult, type RunningCli } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'
import { envName, flagName } from '../../src/cli/config.js'
import type { NodeSettings } from '../../src/settings/node-settings.js'

/** Every failing run must end on its own well within this; a kill after it fails the test. */
const EXIT_BOUND_MS = 30_000
const LOOP_LISTEN = ['--listen', '/ip4/127.0.0.1/tcp/0']
const DEFAULT_API_PORT = 5480

/** ENGRAM_* from the outer environment would change what start resolves; DEBUG would add log lines. */
const CLEAN_ENV: Record<string, string> = {
  ...Object.fromEntries(Object.keys(process.env).filter(k => k.startsWith('ENGRAM_')).map(k => [k, ''])),
  DEBUG: ''
}

const exists = async (p: string): Promise<boolean> => await stat(p).then(() => true, () => false)

/** Runs the CLI to its end; a process that had to be killed did not exit by itself. */
async function run (args: string[], opts: { cwd: string, env?: Record<string, string> }): Promise<CliResult> {
  const r = await runCli(args, { cwd: opts.cwd, env: { ...CLEAN_ENV, ...opts.env }, timeout: EXIT_BOUND_MS })
  assert.notEqual(r.code, null, `engram ${args.join(' ')} did not exit by itself within ${EXIT_BOUND_MS} ms (killed); stdout: ${r.stdout} stderr: ${r.stderr}`)
  return r
}

/** A failed start: the exit code, exactly one stderr line `engram: ...` matching every pattern, no "started". */
function assertFailed (r: CliResult, code: number, ...patterns: RegExp[]): string {
  assert.equal(r.code, code, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`)
  const lines = r.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, `one error line, got: ${r.stderr}`)
  const line = lines[0]!
  assert.match(line, /^engram: /)
  for (const p of patterns) assert.match(line, p)
  assert.doesNotMatch(r.stdout, /engram node started/)
  return line
}

describe('engram start is all-or-nothing', { timeout: 300_000 }, () => {
  let root: string
  const servers: Server[] = []
  const sockets = new Set<Socket>()
  const running: RunningCli[] = []

  before(async () => { root = await mkdtemp(join(tmpdir(), 'engram-aon-')) })
  after(async () => {
    await Promise.allSettled(running.map(async n => await n.stop()))
    for (const s of sockets) s.destroy()
    await Promise.allSettled(servers.map(async s => await new Promise<void>(resolve => { s.close(() => { resolve() }) })))
    await rm(root, { recursive: true, force: true })
  })

  let cwdCount = 0
  /** A fresh empty directory to run the CLI in (its ./data and ./keys are the defaults). */
  const freshCwd = async (): Promise<string> => {
    const d = join(root, `cwd-${++cwdCount}`)
    await mkdir(d)
    return d
  }

  /** Holds 127.0.0.1:port (0: any free port) with a plain TCP server, as another process would. */
  const holdPort = async (port = 0): Promise<{ port: number, release: () => Promise<void> }> => {
    const server = createServer(s => { sockets.add(s); s.on('error', () => {}) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: '127.0.0.1', port, exclusive: true }, () => { server.off('error', reject); resolve() })
    })
    servers.push(server)
    const held = (server.address() as { port: number }).port
    return { port: held, release: async () => await new Promise<void>(resolve => { server.close(() => { resolve() }) }) }
  }

  /**
   * A TCP proxy to 127.0.0.1:target that counts the connections it accepts. A connection is
   * forwarded once its client sends something (libp2p's dialer speaks first), so the probe
   * `settled()` makes never reaches the target.
   */
  const countingProxy = async (target: number): Promise<{ port: number, dials: () => number, settled: () => Promise<void> }> => {
    const accepted: number[] = []
    const probes = new Set<number>()
    const server = createServer(sock => {
      sockets.add(sock)
      accepted.push(sock.remotePort ?? -1)
      sock.on('error', () => {})
      sock.once('data', first => {
        const up = connect({ host: '127.0.0.1', port: target })
        sockets.add(up)
        up.on('error', () => { sock.destroy() })
        sock.on('close', () => { up.destroy() })
        up.write(first)
        sock.pipe(up)
        up.pipe(sock)
      })
    })
    await new Promise<void>(resolve => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
    servers.push(server)
    return {
      port: (server.address() as { port: number }).port,
      dials: () => accepted.filter(p => !probes.has(p)).length,
      // connections are accepted in order: once our probe is in, any earlier dial is counted
      settled: async () => {
        const probe = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port })
        sockets.add(probe)
        probe.on('error', () => {})
        await new Promise<void>((resolve, reject) => { probe.once('connect', resolve); probe.once('error', reject) })
        probes.add(probe.localPort!)
        await waitFor(() => accepted.includes(probe.localPort!), { timeout: 10_000, message: 'the proxy to accept its probe' })
        probe.destroy()
      }
    }
  }

  /** A fresh node key made by `engram key generate` (so a named key that exists). */
  let keyCount = 0
  const newKey = async (): Promise<string> => {
    const file = join(root, 'keys', `k${++keyCount}.key`)
    const r = await run(['key', 'generate', file], { cwd: root })
    assert.equal(r.code, 0, r.stderr)
    return file
  }

  describe('1. a bad setting is refused the same from every source, before anything is created', () => {
    const BAD: Array<{ key: keyof NodeSettings, typed: string, json: unknown }> = [
      { key: 'interval', typed: '0.01', json: 0.01 },
      { key: 'interval', typed: 'soon', json: 'soon' },
      { key: 'cluster', typed: 'bad name!/x', json: 'bad name!/x' },
      { key: 'fanout', typed: 'many', json: 'many' },
      { key: 'fanout', typed: '65', json: 65 },
      { key: 'listen', typed: 'localhost:4001', json: ['localhost:4001'] },
      { key: 'api', typed: '0.0.0.0', json: '0.0.0.0' },
      { key: 'logLevel', typed: 'loud', json: 'loud' }
    ]
    for (const { key, typed, json } of BAD) {
      it(`${key} ${JSON.stringify(typed)}: as ${flagName(key)} (exit 2), ${envName(key)} and config.json (exit 1)`, async () => {
        const reasons: string[] = []
        const reasonAfter = (line: string, prefix: string): string => {
          const at = line.indexOf(prefix)
          assert.ok(at >= 0, `"${prefix}" in: ${line}`)
          return line.slice(at + prefix.length)
        }

        // flag; no --data: the default ./data must not appear, nor ./keys
        const cwdFlag = await freshCwd()
        const flag = await run(['start', flagName(key), typed], { cwd: cwdFlag })
        const flagLine = assertFailed(flag, 2, new RegExp(`^engram: error: flag ${flagName(key)}: ${key}: `))
        reasons.push(reasonAfter(flagLine, `flag ${flagName(key)}: ${key}: `))
        assert.deepEqual(await readdir(cwdFlag), [], 'nothing created (no ./data, no ./keys)')

        // environment
        const cwdEnv = await freshCwd()
        const env = await run(['start'], { cwd: cwdEnv, env: { [envName(key)]: typed } })
        const envLine = assertFailed(env, 1, new RegExp(`^engram: error: environment ${envName(key)}: ${key}: `))
        reasons.push(reasonAfter(envLine, `environment ${envName(key)}: ${key}: `))
        assert.deepEqual(await readdir(cwdEnv), [], 'nothing created (no ./data, no ./keys)')

        // config.json of the (default) data dir
        const cwdFile = await freshCwd()
        await mkdir(join(cwdFile, 'data'))
        await writeFile(join(cwdFile, 'data', 'config.json'), JSON.stringify({ [key]: json }))
        const file = await run(['start'], { cwd: cwdFile })
        const fileLine = assertFailed(file, 1, new RegExp(`^engram: error: \\S*config\\.json: ${key}: `))
        reasons.push(reasonAfter(fileLine, `config.json: ${key}: `))
        assert.deepEqual(await readdir(cwdFile), ['data'], 'no ./keys')
        assert.deepEqual(await readdir(join(cwdFile, 'data')), ['config.json'], 'nothing added to the data dir (no lock, store, token)')

        // one parser: the same reason whatever the source
        assert.equal(new Set(reasons).size, 1, `the same reason from every source: ${JSON.stringify(reasons)}`)
      })
    }

    it('an explicit --data / ENGRAM_DATA that does not exist is not created either', async () => {
      const cwd = await freshCwd()
      const r1 = await run(['start', '--data', join(cwd, 'a', 'b'), '--interval', '0.01'], { cwd })
      assertFailed(r1, 2, /flag --interval: interval: /)
      const r2 = await run(['start', '--cluster', 'bad name!/x'], { cwd, env: { ENGRAM_DATA: join(cwd, 'c') } })
      assertFailed(r2, 2, /flag --cluster: cluster: /)
      const r3 = await run(['start'], { cwd, env: { ENGRAM_DATA: join(cwd, 'd'), ENGRAM_CLUSTER: 'bad name!/x' } })
      assertFailed(r3, 1, /environment ENGRAM_CLUSTER: cluster: /)
      assert.deepEqual(await readdir(cwd), [])
    })
  })

  describe('2-5. a start that fails after its checks takes everything back, before the network', () => {
    let joinNode: RunningCli | undefined
    let joinData: string
    let joinPort: number
    let joinPeerId: string

    const joinStatus = async (): Promise<{ connectedPeers: string[], peers: unknown[] }> => {
      const s = await run(['status', '--data', joinData, '--json'], { cwd: root })
      assert.equal(s.code, 0, s.stderr)
      const p = await run(['peers', '--data', joinData, '--json'], { cwd: root })
      assert.equal(p.code, 0, p.stderr)
      return { connectedPeers: JSON.parse(s.stdout).connectedPeers, peers: JSON.parse(p.stdout).peers }
    }
    const assertJoinNodeAlone = async (when: string): Promise<void> => {
      const s = await joinStatus()
      assert.deepEqual(s.connectedPeers, [], `join node connections ${when}`)
      assert.deepEqual(s.peers, [], `join node peers ${when}`)
    }
    /**
     * --join the real join node through a fresh counting proxy (its address only: a dial of the
     * direct address could make libp2p skip the proxied one and the count would prove nothing).
     */
    const joinVia = async (): Promise<{ args: string[], proxy: Awaited<ReturnType<typeof countingProxy>> }> => {
      const proxy = await countingProxy(joinPort)
      // with the join node's cluster secret: the control start below really joins it
      return { args: ['--swarm-key', join(joinData, 'swarm.key'), '--join', `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${joinPeerId}`], proxy }
    }

    before(async () => {
      joinData = join(root, 'join-data')
      joinNode = await startCli(['start', '--data', joinData, '--key', await newKey(), ...LOOP_LISTEN, '--api', '127.0.0.1:0'], { cwd: root, env: CLEAN_ENV })
      running.push(joinNode)
      const m = /^\s+(\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\/p2p\/(\S+))$/m.exec(joinNode.output())
      assert.ok(m !== null, joinNode.output())
      joinPort = Number(m[2])
      joinPeerId = m[3]!
    })

    it('2a. a taken --api port: exit 1 naming --api, no data dir, no lock, no key, never dialled', async () => {
      const held = await holdPort()
      const { args: join_, proxy } = await joinVia()
      await assertJoinNodeAlone('before')
      const cwd = await freshCwd()
      const data = join(cwd, 'data')
      const r = await run(['start', '--data', data, '--key', await newKey(), ...LOOP_LISTEN, '--api', `127.0.0.1:${held.port}`, ...join_], { cwd })
      assertFailed(r, 1, /--api/, /in use/, new RegExp(`127\\.0\\.0\\.1:${held.port}`))
      assert.equal(await exists(data), false, 'the data dir this start created is gone')
      assert.equal(await exists(join(data, 'engram.lock')), false, 'no lock')
      assert.deepEqual(await readdir(cwd), [], 'nothing else left (no ./keys)')
      await proxy.settled()
      assert.equal(proxy.dials(), 0, 'the failed node never dialled its --join address')
      await assertJoinNodeAlone('after')
    })

    it('2b. a taken ENGRAM_API port: exit 1 naming ENGRAM_API / --api, nothing left (not even the new parents of --data)', async () => {
      const held = await holdPort()
      const { args: join_, proxy } = await joinVia()
      const cwd = await freshCwd()
      const data = join(cwd, 'new-parent', 'data')
      const r = await run(['start', '--data', data, '--key', await newKey(), ...LOOP_LISTEN, ...join_], { cwd, env: { ENGRAM_API: `127.0.0.1:${held.port}` } })
      assertFailed(r, 1, /ENGRAM_API/, /--api/, /in use/)
      assert.equal(await exists(data), false, 'the data dir this start created is gone')
      assert.deepEqual(await readdir(cwd), [], 'the parent directory it made for the data dir is gone too')
      await proxy.settled()
      assert.equal(proxy.dials(), 0, 'never dialled')
      await assertJoinNodeAlone('after')
    })

    it('2a\'. a taken API port from config.json of an existing data dir: the dir stays, unlocked, without api.json', async () => {
      const held = await holdPort()
      const cwd = await freshCwd()
      const data = join(cwd, 'data')
      const key = join(cwd, 'init.key')
      const init = await run(['init', '--data', data, '--key', key, ...LOOP_LISTEN, '--api', `127.0.0.1:${held.port}`], { cwd })
      assert.equal(init.code, 0, init.stderr)
      const configBefore = await readFile(join(data, 'config.json'), 'utf8')
      const keyBefore = await readFile(key)
      const r = await run(['start', '--data', data], { cwd })
      assertFailed(r, 1, /config\.json "api"/, /--api/, /in use/)
      assert.equal(await exists(data), true, 'a data dir that existed is kept')
      const left = await readdir(data)
      assert.ok(!left.includes('engram.lock'), `no lock left: ${left.join(', ')}`)
      assert.ok(!left.includes('api.json'), `no api.json left: ${left.join(', ')}`)
      assert.equal(await readFile(join(data, 'config.json'), 'utf8'), configBefore)
      assert.deepEqual(await readFile(key), keyBefore, 'an existing key is never touched')
      // and the dir is usable: no stale lock blocks the next start
      const ok = await startCli(['start', '--data', data, '--api', '127.0.0.1:0'], { cwd, env: CLEAN_ENV })
      running.push(ok)
      assert.equal(await ok.stop(), 0)
    })

    it('3. a taken --listen port: exit 1 naming --listen; the join node never saw a connection; nothing left', async () => {
      const held = await holdPort()
      const { args: join_, proxy } = await joinVia()
      await assertJoinNodeAlone('before')
      const cwd = await freshCwd()
      const data = join(cwd, 'data')
      const listen = `/ip4/127.0.0.1/tcp/${held.port}`
      const r = await run(['start', '--data', data, '--key', await newKey(), '--listen', listen, '--api', '127.0.0.1:0', ...join_], { cwd })
      assertFailed(r, 1, /--listen/, new RegExp(`/ip4/127\\.0\\.0\\.1/tcp/${held.port}`), /listens there/)
      assert.equal(await exists(data), false, 'the data dir this start created is gone')
      assert.equal(await exists(join(data, 'engram.lock')), false, 'no lock')
      assert.deepEqual(await readdir(cwd), [])
      await proxy.settled()
      assert.equal(proxy.dials(), 0, 'never dialled its --join address')
      await assertJoinNodeAlone('after')
    })

    it('4a. a named key that does not exist (--key or ENGRAM_KEY): exit 1, no data dir, no key created', async () => {
      const cwd = await freshCwd()
      const data = join(cwd, 'data')
      const r1 = await run(['start', '--data', data, '--key', join(cwd, 'keys', 'named.key'), ...LOOP_LISTEN, '--api', '127.0.0.1:0'], { cwd })
      assertFailed(r1, 1, /named\.key does not exist/, /engram key generate/)
      const r2 = await run(['start', '--data', data, ...LOOP_LISTEN, '--api', '127.0.0.1:0'], { cwd, env: { ENGRAM_KEY: 'other.key' } })
      assertFailed(r2, 1, /other\.key does not exist/)
      assert.deepEqual(await readdir(cwd), [], 'no data dir, no key, no keys dir')
    })

    it('4b. the default key a failed start created is taken back (with ./keys), and ./data is gone', async () => {
      const held = await holdPort()
      const { args: join_, proxy } = await joinVia()
      const cwd = await freshCwd()
      const r = await run(['start', ...LOOP_LISTEN, '--api', `127.0.0.1:${held.port}`, ...join_], { cwd })
      assertFailed(r, 1, /--api/, /in use/)
      assert.equal(await exists(join(cwd, 'keys', 'node.key')), false, 'keys/node.key rolled back')
      assert.equal(await exists(join(cwd, 'data')), false, './data rolled back')
      assert.deepEqual(await readdir(cwd), [], 'not even an empty ./keys')
      await proxy.settled()
      assert.equal(proxy.dials(), 0, 'never dialled')

      // a ./keys that was already there stays, with what it held
      const cwd2 = await freshCwd()
      await mkdir(join(cwd2, 'keys'))
      await writeFile(join(cwd2, 'keys', 'other.key'), 'not ours')
      const r2 = await run(['start', ...LOOP_LISTEN, '--api', `127.0.0.1:${held.port}`], { cwd: cwd2 })
      assertFailed(r2, 1, /--api/)
      assert.deepEqual(await readdir(cwd2), ['keys'])
      assert.deepEqual(await readdir(join(cwd2, 'keys')), ['other.key'])
    })

    it('2c. the default API port taken: a second node starts on a free port, says so, and is found through --data', async (t) => {
      let held: Awaited<ReturnType<typeof holdPort>>
      try {
        held = await holdPort(DEFAULT_API_PORT)
      } catch (err: any) {
        t.skip(`cannot hold 127.0.0.1:${DEFAULT_API_PORT} (${String(err?.code ?? err)}): someone else uses it, so the fallback is not deterministic here`)
        return
      }
      try {
        const cwd = await freshCwd()
        const data = join(cwd, 'data')
        const node = await startCli(['start', '--data', data, '--key', await newKey(), ...LOOP_LISTEN], { cwd, env: CLEAN_ENV })
        running.push(node)
        assert.match(node.output(), /the default port was taken/)
        const info = JSON.parse(await readFile(join(data, 'api.json'), 'utf8'))
        const url = new URL(info.url)
        assert.equal(url.hostname, '127.0.0.1')
        assert.notEqual(Number(url.port), DEFAULT_API_PORT)
        assert.ok(Number(url.port) > 0)
        assert.ok(node.output().includes(`api: ${info.url} `), 'the printed API URL is the one in api.json')
        const status = await run(['status', '--data', data, '--json'], { cwd })
        assert.equal(status.code, 0, status.stderr)
        const peerId = /peer id: (\S+)/.exec(node.output())![1]
        assert.equal(JSON.parse(status.stdout).peerId, peerId)
        assert.equal(await node.stop(), 0)
        assert.equal(await exists(join(data, 'api.json')), false)
        assert.equal(await exists(join(data, 'engram.lock')), false)
      } finally {
        await held.release()
      }
    })

    // last: it connects to the join node, which the tests above check is alone
    it('control: a node that does start dials its --join address through the proxy; --api host:0 is no fallback', async () => {
      const { args: join_, proxy } = await joinVia()
      const cwd = await freshCwd()
      const data = join(cwd, 'data')
      const node = await startCli(['start', '--data', data, '--key', await newKey(), ...LOOP_LISTEN, '--api', '127.0.0.1:0', ...join_], { cwd, env: CLEAN_ENV })
      running.push(node)
      const peerId = /peer id: (\S+)/.exec(node.output())![1]!
      assert.doesNotMatch(node.output(), /default port was taken/, 'port 0 was asked for, nothing fell back')
      await waitFor(() => proxy.dials() > 0, { timeout: 20_000, message: 'the started node to dial the proxied --join address' })
      await waitFor(async () => (await joinStatus()).connectedPeers.includes(peerId), { timeout: 20_000, message: 'the join node to see the started node' })
      assert.equal(await node.stop(), 0)
    })
  })
})
