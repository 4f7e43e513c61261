/**
 * The victim of the hostile-peer suite, in a process of its own so that its CPU and heap are
 * its own: a real EngramNode (LevelDB in a temp dir, libp2p on loopback) with the local API.
 * Run with --expose-gc by test/helpers/hostile/victim.ts; it takes its settings as one JSON
 * argument and answers the parent over IPC:
 * - it sends { ready, addr, api, token, peerId } once started;
 * - { measure } → { measured, heapUsed (after full GCs), cpuUs (user + system since start),
 *   maxDelayMs (the longest event-loop delay since the last measure) };
 * - { stop } → stops the node, removes its data dir and exits.
 */
import '../../../src/node/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { EngramNode } from '../../../src/node/engram-node.js'
import { startApiServer } from '../../../src/api/server.js'
import { createNodeMetrics } from '../../../src/daemon/metrics.js'
import type { GossipLimits } from '../../../src/gossip/index.js'
import { FAST_DISCOVERY, LOOPBACK } from '../nodes.js'

export interface VictimInit {
  gossipLimits?: GossipLimits
  /** patterns the victim holds before the attack (written by itself) */
  patterns?: number
}

export type VictimRequest = { type: 'measure' } | { type: 'stop' }
export type VictimMessage =
  | { type: 'ready', addr: string, api: string, token: string, peerId: string }
  | { type: 'measured', heapUsed: number, cpuUs: number, maxDelayMs: number }

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')
const send = (m: VictimMessage): void => { process.send?.(m) }

const init = JSON.parse(process.argv[2] ?? '{}') as VictimInit
const dataDir = await mkdtemp(join(tmpdir(), 'engram-victim-'))
const node = await EngramNode.create({
  dataDir,
  privateKey: await generateKeyPair('Ed25519'),
  listen: [LOOPBACK],
  intervalMs: 0,
  fanout: 0,
  connectSync: false,
  discovery: FAST_DISCOVERY,
  gossipLimits: init.gossipLimits
})
await node.start()
for (let i = 0; i < (init.patterns ?? 0); i += 500) {
  const n = Math.min(500, (init.patterns ?? 0) - i)
  await node.putMany(Array.from({ length: n }, (_, j) => ({ key: `victim/${i + j}`, op: { addEpisodes: [`e${i + j}`], confidence: 0.5 } })))
}
const metrics = createNodeMetrics(node)
const token = 'hostile-suite-token'
const api = await startApiServer({ node, host: '127.0.0.1', port: 0, token, metrics })

const delay = monitorEventLoopDelay({ resolution: 10 })
delay.enable()

async function settledHeap (): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.()
    await new Promise(resolve => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

process.on('message', (m: VictimRequest) => {
  void (async () => {
    if (m.type === 'measure') {
      const maxDelayMs = delay.max / 1e6
      const heapUsed = await settledHeap()
      const cpu = process.cpuUsage()
      delay.reset()
      send({ type: 'measured', heapUsed, cpuUs: cpu.user + cpu.system, maxDelayMs })
    } else if (m.type === 'stop') {
      metrics.close()
      await api.close()
      await node.stop()
      await rm(dataDir, { recursive: true, force: true })
      process.exit(0)
    }
  })()
})
// the parent gone (a crashed test): do not linger
process.on('disconnect', () => { process.exit(1) })
send({ type: 'ready', addr: node.addresses()[0]!, api: api.url, token, peerId: node.peerId.toString() })
