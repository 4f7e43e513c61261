/**
 * A real Engram node in a process of its own, for benchmarks that need the two ends of a
 * transfer on separate event loops (as on two machines). Started by spawnPeer():
 *   node --import tsx bench/lib/peer-process.ts <patterns> [summaryBytes] [writers]
 * It writes the patterns (Replica.writeMany, batches of 10k; with writers > 1, as signed writes
 * of that many other nodes, merged in), prints one JSON line
 * {peerId, port, root, count, buildMs}, then obeys stdin lines:
 *   profile-start | profile-stop <file> (prints the summary as a JSON line) | stop
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Session } from 'node:inspector/promises'
import { writeFile } from 'node:fs/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { type BenchNode, rootHex, startBenchNode, writeItems } from './nodes.js'
import { authorOf } from '../../src/auth/author.js'
import { applyWrite } from '../../src/core/pattern.js'
import { items } from './patterns.js'
import { summarize, type CpuProfile, type ProfileSummary } from './profile.js'
import { isMain } from './main.js'
import { internalsOf } from '../../src/node/internals.js'

export interface PeerInfo {
  peerId: string
  port: number
  root: string
  count: number
  buildMs: number
}

export interface Peer {
  info: PeerInfo
  pid: number
  /** starts the CPU profiler in the peer */
  profileStart(): Promise<void>
  /** stops it, saves the profile to `file`, returns its summary */
  profileStop(file: string): Promise<ProfileSummary>
  stop(): Promise<void>
}

/** Starts a peer holding `patterns` patterns; resolves once it listens (bounded by timeoutMs). */
export async function spawnPeer (patterns: number, opts: { summaryBytes?: number, writers?: number, timeoutMs?: number } = {}): Promise<Peer> {
  const script = fileURLToPath(import.meta.url)
  const args = ['--import', 'tsx', script, String(patterns), String(opts.summaryBytes ?? 160), String(opts.writers ?? 1)]
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000) })
  const lines = createInterface({ input: child.stdout })
  const waiting: Array<(line: string) => void> = []
  lines.on('line', line => { waiting.shift()?.(line) })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  const next = async (timeoutMs: number): Promise<string> => await new Promise((resolve, reject) => {
    const t = setTimeout(() => { reject(new Error(`peer process silent for ${timeoutMs} ms; stderr: ${stderr}`)) }, timeoutMs)
    waiting.push(line => { clearTimeout(t); resolve(line) })
    void exited.then(() => { clearTimeout(t); reject(new Error(`peer process exited; stderr: ${stderr}`)) })
  })
  const info = JSON.parse(await next(opts.timeoutMs ?? 600_000)) as PeerInfo
  return {
    info,
    pid: child.pid as number,
    async profileStart () {
      child.stdin.write('profile-start\n')
      await next(10_000)
    },
    async profileStop (file: string) {
      child.stdin.write(`profile-stop ${file}\n`)
      return JSON.parse(await next(60_000)) as ProfileSummary
    },
    async stop () {
      if (child.exitCode === null) {
        child.stdin.write('stop\n')
        const killer = setTimeout(() => { child.kill('SIGKILL') }, 20_000)
        await exited
        clearTimeout(killer)
      }
    }
  }
}

/** Patterns i, i + writers, … are written by writer i (each with its own Ed25519 key), counters 1, 2, … */
async function mergeFromWriters (n: BenchNode, patterns: number, summaryBytes: number, writers: number, batch: number): Promise<void> {
  const authors = await Promise.all(Array.from({ length: writers }, async () => {
    const key = await generateKeyPair('Ed25519')
    return authorOf(peerIdFromPrivateKey(key), key)
  }))
  const replica = internalsOf(n.node).replica
  for (let i = 0; i < patterns; i += batch) {
    const states = items(Math.min(batch, patterns - i), { start: i, summaryBytes })
      .map((it, j) => applyWrite(undefined, it.key, it.op, authors[(i + j) % writers]!, Math.floor((i + j) / writers) + 1))
    await replica.mergeRemote(states)
  }
}

async function serve (patterns: number, summaryBytes: number, writers: number): Promise<void> {
  const n = await startBenchNode()
  const t = performance.now()
  const batch = 10_000
  if (writers > 1) await mergeFromWriters(n, patterns, summaryBytes, writers, batch)
  else for (let i = 0; i < patterns; i += batch) await writeItems(n, items(Math.min(batch, patterns - i), { start: i, summaryBytes }), batch)
  const info: PeerInfo = {
    peerId: n.node.peerId.toString(),
    port: n.port,
    root: rootHex(n),
    count: internalsOf(n.node).replica.count,
    buildMs: Math.round(performance.now() - t)
  }
  process.stdout.write(JSON.stringify(info) + '\n')
  const session = new Session()
  session.connect()
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.trim().split(' ')
    if (cmd === 'profile-start') {
      await session.post('Profiler.enable')
      await session.post('Profiler.setSamplingInterval', { interval: 500 })
      await session.post('Profiler.start')
      process.stdout.write('{}\n')
    } else if (cmd === 'profile-stop') {
      const { profile } = await session.post('Profiler.stop') as unknown as { profile: CpuProfile }
      if (arg !== undefined) await writeFile(arg, JSON.stringify(profile))
      process.stdout.write(JSON.stringify(summarize(profile, 20)) + '\n')
    } else if (cmd === 'stop') {
      break
    }
  }
  session.disconnect()
  await n.stop()
  process.exit(0)
}

if (isMain(import.meta.url)) await serve(Number(process.argv[2] ?? 0), Number(process.argv[3] ?? 160), Number(process.argv[4] ?? 1))
