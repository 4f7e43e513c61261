/**
 * A newcomer's first hour: every command of README.md's "Quick start" and "Operating a node"
 * sections, run AS WRITTEN and in order, on this machine, against real processes (three nodes).
 *
 * The working directory is a fresh copy of the repository without node_modules and dist, so
 * `npm ci && npm start` installs, builds and starts for real. The only changes made to the
 * commands are the ones the README itself documents:
 *   - placeholders `<first node's PeerId>`, `<second node's PeerId>`, `<third node's PeerId>`
 *     are filled with the `peer id:` the 1st/2nd/3rd started node printed;
 *   - "Ports 4001–4003 are examples": they become three consecutive free ports, and the first
 *     node (`npm start`, no --listen) gets ENGRAM_LISTEN as the README shows;
 *   - `/ip4/0.0.0.0` becomes `/ip4/127.0.0.1` ("keeps a node on this machine only"): tests talk
 *     to loopback only, and a node on 0.0.0.0 would advertise (and peers dial) LAN addresses.
 * Every wait is bounded; every process group is killed and the copy removed, also on failure.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitFor } from '../helpers/wait.js'
import { joinHint } from '../../src/cli/addresses.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
/** README to check (ENGRAM_TEST_README overrides it, e.g. to show that an older README fails). */
const README = process.env.ENGRAM_TEST_README ?? join(REPO, 'README.md')

/** What is copied into the fresh working directory (never node_modules or dist). */
const COPIED = ['package.json', 'package-lock.json', 'src', 'bin', 'docs', 'keys/README.md']

/** `npm ci` installs from the registry or the cache and builds through `prepare`. */
const INSTALL_TIMEOUT_MS = 600_000
/** A start without an install must print "engram node started" within this. */
const START_TIMEOUT_MS = 60_000
/** Any other command must exit within this (`engram sync` may wait out a busy peer). */
const COMMAND_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 30_000
const CONVERGE_TIMEOUT_MS = 30_000
const PLACEHOLDERS = ['<first node\'s PeerId>', '<second node\'s PeerId>', '<third node\'s PeerId>']
/** Not allowed in any line a node writes to stderr during the whole run. */
const BAD_STDERR = /Warning|:error|Error/

// ---------- reading the README ----------

/** The text under `## <title>` up to the next `## ` heading. */
function section (md: string, title: string): string {
  const lines = md.split('\n')
  const start = lines.findIndex(l => l.trim() === `## ${title}`)
  assert.ok(start >= 0, `README has no "## ${title}" section`)
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '))
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n')
}

/** The contents of the ```sh blocks, in order. */
function shBlocks (text: string): string[] {
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map(m => m[1]!)
}

/** Commands of a block: lines ending in `\` joined, comment lines and blank lines dropped. */
function commands (block: string): string[] {
  const out: string[] = []
  let pending: string | undefined
  for (const raw of block.split('\n')) {
    const line = raw.trimEnd()
    if (pending === undefined && (line.trim() === '' || line.trim().startsWith('#'))) continue
    const joined = pending === undefined ? line.trim() : `${pending} ${line.trim()}`
    if (joined.endsWith('\\')) {
      pending = joined.slice(0, -1).trimEnd()
    } else {
      out.push(joined)
      pending = undefined
    }
  }
  assert.equal(pending, undefined, `a block ends in a line continuation: ${String(pending)}`)
  return out
}

const isStart = (cmd: string): boolean => /(^|&&\s*)(npm start|\.\/bin\/engram start)(\s|$)/.test(cmd)

// ---------- processes ----------

interface Proc {
  cmd: string
  child: ChildProcess
  stdout: string
  stderr: string
  exited: Promise<number | null>
}

/** Starts `sh -c cmd` in its own process group, collecting its output. */
function shell (cmd: string, cwd: string, env: NodeJS.ProcessEnv): Proc {
  const child = spawn('sh', ['-c', cmd], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const p: Proc = { cmd, child, stdout: '', stderr: '', exited: once(child, 'exit').then(([code, signal]) => code ?? (signal !== null ? -1 : null)) }
  child.stdout!.on('data', d => { p.stdout += String(d) })
  child.stderr!.on('data', d => { p.stderr += String(d) })
  return p
}

function killGroup (p: Proc, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (p.child.pid === undefined) return
  try { process.kill(-p.child.pid, signal) } catch {}
}

const report = (p: Proc): string => `\n$ ${p.cmd}\n--- stdout ---\n${p.stdout}\n--- stderr ---\n${p.stderr}`

/** Resolves with the exit code, or null after `ms` (the process group is then killed). */
async function exitWithin (p: Proc, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>(resolve => { timer = setTimeout(() => resolve('timeout'), ms) })
  const r = await Promise.race([p.exited, timeout])
  clearTimeout(timer)
  if (r === 'timeout') {
    killGroup(p)
    return null
  }
  return r
}

async function portFree (port: number): Promise<boolean> {
  const srv = createServer()
  return await new Promise<boolean>(resolve => {
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/** Three consecutive free TCP ports on 127.0.0.1 (bounded tries). */
async function threeFreePorts (): Promise<[number, number, number]> {
  for (let i = 0; i < 100; i++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000)
    if (await portFree(base) && await portFree(base + 1) && await portFree(base + 2)) return [base, base + 1, base + 2]
  }
  throw new Error('no three consecutive free ports on 127.0.0.1 in 100 tries')
}

/** The process group of a pid (Linux /proc), to make sure we signal our own node only. */
function pgidOf (pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
  } catch {
    return undefined
  }
}

// ---------- the newcomer ----------

interface Node {
  proc: Proc
  peerId: string
  dataDir: string
  apiUrl: string
  hint: string
}

describe('README: a newcomer\'s first hour, on one machine', { timeout: 1_200_000 }, () => {
  let cwd: string
  let ports: [number, number, number]
  let quickStart: string[]
  let operating: string[]
  const nodes: Node[] = []
  const procs: Proc[] = []
  /** commands as run (after the documented substitutions), in order */
  const ran: string[] = []
  const baseEnv: NodeJS.ProcessEnv = {}

  /** The documented substitutions (see the header). */
  const substitute = (cmd: string): string => {
    let out = cmd
      .replace(/\b4001\b/g, String(ports[0])).replace(/\b4002\b/g, String(ports[1])).replace(/\b4003\b/g, String(ports[2]))
      .replaceAll('/ip4/0.0.0.0/', '/ip4/127.0.0.1/')
    PLACEHOLDERS.forEach((ph, i) => {
      if (!out.includes(ph)) return
      assert.ok(nodes[i] !== undefined, `"${cmd}" needs ${ph}, but only ${nodes.length} nodes were started before it`)
      out = out.replaceAll(ph, nodes[i]!.peerId)
    })
    // outside quoted strings and the trailing comment, any <…> left is a placeholder nobody fills
    const unknown = /<[^<>]*>/.exec(out.replace(/'[^']*'|"[^"]*"/g, '').replace(/(^|\s)#.*$/, ''))
    assert.equal(unknown, null, `"${cmd}" has a placeholder the README does not define: ${String(unknown?.[0])}`)
    return out
  }

  const engram = async (...args: string[]): Promise<Proc> => {
    const p = shell(['./bin/engram', ...args].map(a => `'${a}'`).join(' '), cwd, baseEnv)
    procs.push(p)
    const code = await exitWithin(p, COMMAND_TIMEOUT_MS)
    assert.equal(code, 0, `exit code ${String(code)}${report(p)}`)
    return p
  }
  const json = async (...args: string[]): Promise<any> => JSON.parse((await engram(...args, '--json')).stdout)

  before(async () => {
    const md = await readFile(README, 'utf8')
    quickStart = shBlocks(section(md, 'Quick start')).map(commands).flat()
    operating = shBlocks(section(md, 'Operating a node')).map(commands).flat()
    const first = shBlocks(section(md, 'Quick start')).slice(0, 2).map(commands)
    // the quick start stays two commands, as the first two blocks
    assert.deepEqual(first, [['npm ci && npm start'], ['npm ci && npm test']])
    ports = await threeFreePorts()
    cwd = await mkdtemp(join(tmpdir(), 'engram-readme-'))
    for (const f of COPIED) {
      if (existsSync(join(REPO, f))) await cp(join(REPO, f), join(cwd, f), { recursive: true })
    }
    for (const f of ['tsconfig.json', 'tsconfig.build.json']) {
      if (existsSync(join(REPO, f))) await cp(join(REPO, f), join(cwd, f))
    }
    await mkdir(join(cwd, 'keys'), { recursive: true })
    // the newcomer's shell: no engram settings, not inside a test runner nor inside `npm test`
    // (npm_config_local_prefix would even make the inner `npm ci` install into this checkout)
    const npmRun = (k: string): boolean => k.startsWith('npm_') && (!k.startsWith('npm_config_') || k === 'npm_config_local_prefix')
    for (const [k, v] of Object.entries(process.env)) {
      if (k.startsWith('ENGRAM_') || k === 'NODE_TEST_CONTEXT' || k === 'INIT_CWD' || npmRun(k)) continue
      baseEnv[k] = v
    }
    baseEnv.PATH = (process.env.PATH ?? '').split(':').filter(d => !d.includes('node_modules')).join(':')
  })

  after(async () => {
    for (const p of procs) killGroup(p)
    await sleep(200)
    if (cwd !== undefined) await rm(cwd, { recursive: true, force: true, maxRetries: 3 })
  })

  it('joinHint names the new node\'s key and data dir after its port, so the line a joined node prints collides with nothing', () => {
    const id = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
    const h1 = joinHint([`/ip4/127.0.0.1/tcp/4001/p2p/${id}`, `/ip4/192.168.1.10/tcp/4001/p2p/${id}`])
    assert.match(h1, / key generate keys\/node-4002\.key && \S+ start --key keys\/node-4002\.key --data \.\/data-4002 /)
    assert.match(h1, / --listen \/ip4\/0\.0\.0\.0\/tcp\/4002 --join \/ip4\/192\.168\.1\.10\/tcp\/4001\/p2p\//)
    const h2 = joinHint([`/ip4/127.0.0.1/tcp/4002/p2p/${id}`])
    assert.match(h2, /keys\/node-4003\.key .*--data \.\/data-4003 --listen \/ip4\/127\.0\.0\.1\/tcp\/4003 --join \/ip4\/127\.0\.0\.1\/tcp\/4002\/p2p\//)
    // the cluster secret goes before --join, shown relative to this directory when it is inside it
    assert.match(joinHint([`/ip4/10.0.0.2/tcp/4001/p2p/${id}`], join(process.cwd(), 'data', 'swarm.key')), / --swarm-key \.\/data\/swarm\.key --join \//)
    assert.match(joinHint([`/ip4/10.0.0.2/tcp/4001/p2p/${id}`], '/elsewhere/swarm.key'), / --swarm-key \/elsewhere\/swarm\.key --join \//)
  })

  it('runs every command of "Quick start" and "Operating a node" as written, in order', async (t) => {
    for (const cmd of [...quickStart, ...operating]) {
      if (cmd === 'npm ci && npm test') {
        // not run: it is what runs this test (asserted above to be exactly this command)
        t.diagnostic('skipped (this test runs inside it): npm ci && npm test')
        continue
      }
      const line = substitute(cmd)
      ran.push(line)
      const started = Date.now()
      if (isStart(cmd)) {
        const env = { ...baseEnv }
        // the README: for the first node, `ENGRAM_LISTEN=/ip4/…/tcp/<port> npm start`
        if (/(^|&&\s*)npm start\b/.test(cmd)) env.ENGRAM_LISTEN = `/ip4/127.0.0.1/tcp/${ports[0]}`
        const p = shell(line, cwd, env)
        procs.push(p)
        const limit = cmd.includes('npm ci') ? INSTALL_TIMEOUT_MS : START_TIMEOUT_MS
        const ready = /engram node started\n[\s\S]*to join this node[^\n]*\n {2}([^\n]+)\n/
        let exitCode: number | null | undefined
        void p.exited.then(c => { exitCode = c })
        const message = `"${line}" to print "engram node started"`
        await waitFor(() => ready.test(p.stdout) || exitCode !== undefined, { timeout: limit, interval: 100, message })
          .catch((err: Error) => { killGroup(p); throw new Error(`${err.message}${report(p)}`) })
        assert.ok(exitCode === undefined, `"${line}" exited with ${String(exitCode)} before it started${report(p)}`)
        const out = p.stdout
        const node: Node = {
          proc: p,
          peerId: /^peer id: (\S+)$/m.exec(out)![1]!,
          dataDir: /^data dir: (.+) \(\d+ patterns\)$/m.exec(out)![1]!,
          apiUrl: /^api: (http:\/\/\S+) /m.exec(out)![1]!,
          hint: ready.exec(out)![1]!
        }
        nodes.push(node)
        t.diagnostic(`node ${nodes.length} started in ${Date.now() - started} ms: ${line}`)
      } else {
        const p = shell(line, cwd, baseEnv)
        procs.push(p)
        const code = await exitWithin(p, COMMAND_TIMEOUT_MS)
        assert.equal(code, 0, `command failed (exit ${String(code)}${code === null ? `: not done in ${COMMAND_TIMEOUT_MS} ms` : ''})${report(p)}`)
        t.diagnostic(`ok in ${Date.now() - started} ms: ${line}`)
      }
    }
  })

  it('gives what the README promises: three nodes on one machine, in sync, each with its own API port, key and data dir', async () => {
    assert.equal(nodes.length, 3, `expected the README to start three nodes, it started ${nodes.length}`)
    const [n1, n2, n3] = nodes as [Node, Node, Node]
    assert.equal(n1.dataDir, resolve(cwd, 'data'), 'the first node is npm start\'s, on ./data')
    assert.equal(new Set(nodes.map(n => n.peerId)).size, 3)
    assert.equal(new Set(nodes.map(n => n.dataDir)).size, 3)

    // each node's API: a port of its own, recorded in its api.json, announced when it is not the default
    for (const n of nodes) {
      const info = JSON.parse(await readFile(join(n.dataDir, 'api.json'), 'utf8'))
      assert.equal(info.url, n.apiUrl, `${n.dataDir}/api.json`)
      assert.equal(info.peerId, n.peerId)
      assert.ok(new URL(n.apiUrl).hostname === '127.0.0.1', n.apiUrl)
    }
    assert.equal(new Set(nodes.map(n => new URL(n.apiUrl).port)).size, 3, `API ports: ${nodes.map(n => n.apiUrl).join(', ')}`)
    for (const n of [n2, n3]) assert.match(n.proc.stdout, /api: the default port was taken .* find it in \S+api\.json/)

    // network rule: every node is on loopback only
    for (const n of nodes) {
      for (const a of (await json('status', '--data', n.dataDir)).addresses as string[]) assert.match(a, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    }

    // the join lines the nodes print match the README: a node joining node k is started with the
    // key, data dir and port named in node k's line (and the pasted line is exactly node 1's)
    for (let k = 0; k < 2; k++) {
      const i = ran.findIndex(c => isStart(c) && c.includes(`/p2p/${nodes[k]!.peerId}`))
      assert.ok(i > 0, `no README command joins node ${k + 1}`)
      const joiner = `${ran[i - 1]!} && ${ran[i]!}`
      const hint = nodes[k]!.hint
      for (const flag of ['--key', '--data', '--listen']) {
        const want = new RegExp(`${flag} (\\S+)`).exec(hint)![1]!
        assert.ok(joiner.includes(`${flag} ${want}`),
          `node ${k + 1} prints "${hint}", but the README starts the node joining it with "${joiner}" (no ${flag} ${want})`)
      }
      if (/ key generate /.test(ran[i - 1]!)) assert.equal(joiner, hint, 'the README\'s commands for the second node are the line the first node prints')
    }

    // every pattern the README wrote on the first node reaches the second and third
    const written = ran.map(c => /^\.\/bin\/engram pattern put (\S+)/.exec(c)).filter(m => m !== null && !/--data/.test(m.input)).map(m => m![1]!)
    assert.ok(written.length > 0, 'the README writes no pattern on the first node')
    const list = async (n: Node): Promise<string> => JSON.stringify((await json('pattern', 'list', '--data', n.dataDir)).patterns)
    const reference = await list(n1)
    assert.ok(JSON.parse(reference).length >= written.length)
    await waitFor(async () => await list(n2) === reference && await list(n3) === reference,
      { timeout: CONVERGE_TIMEOUT_MS, interval: 500, message: 'nodes 2 and 3 to hold every pattern of node 1' })
    for (const key of written) {
      const want = await json('pattern', 'get', key, '--data', n1.dataDir)
      for (const n of [n2, n3]) assert.deepEqual(await json('pattern', 'get', key, '--data', n.dataDir), want, `${key} on ${n.dataDir}`)
    }
    const roots = await Promise.all(nodes.map(async n => (await json('status', '--data', n.dataDir)).root))
    assert.equal(new Set(roots).size, 1, `roots: ${roots.join(' ')}`)
  })

  it('stops every node on SIGTERM with exit 0, and no node printed a warning or an error', async (t) => {
    for (const n of nodes) {
      const { pid } = JSON.parse(await readFile(join(n.dataDir, 'api.json'), 'utf8')) as { pid: number }
      const group = n.proc.child.pid!
      const pgid = pgidOf(pid)
      assert.ok(pgid === undefined || pgid === group, `pid ${pid} in ${n.dataDir}/api.json is not in the group of "${n.proc.cmd}"`)
      process.kill(pid, 'SIGTERM')
      const code = await exitWithin(n.proc, STOP_TIMEOUT_MS)
      assert.equal(code, 0, `"${n.proc.cmd}" after SIGTERM: exit ${String(code)}${report(n.proc)}`)
      assert.match(n.proc.stdout, /SIGTERM received, stopping\.\.\.\nstopped\n/)
      assert.equal(existsSync(join(n.dataDir, 'api.json')), false, 'api.json removed at stop')
    }
    for (const n of nodes) {
      const lines = n.proc.stderr.split('\n').filter(l => l !== '')
      t.diagnostic(`${lines.length} stderr lines from "${n.proc.cmd}"`)
      const bad = lines.filter(l => BAD_STDERR.test(l))
      assert.deepEqual(bad, [], `stderr of "${n.proc.cmd}" has warnings or errors${report(n.proc)}`)
    }
    assert.equal(nodes.length, 3, 'three nodes were started and stopped')
  })
})
