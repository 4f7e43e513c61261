/**
 * Real Engram nodes for the benchmarks: EngramNode.create (the same wiring the CLI and the
 * library use) on 127.0.0.1 in a temp data dir, timer rounds, eager push and sync on connect off so that
 * only the exchanges a benchmark starts move patterns.
 */
import '../../src/node/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { EngramNode, type EngramNodeOptions } from '../../src/node/engram-node.js'
// benchmarks drive the store and the network directly (raw writes, dials, roots): internals on purpose
import { internalsOf } from '../../src/node/internals.js'
import type { PatternState } from '../../src/core/pattern.js'
import { inBatches, type Item } from './patterns.js'

export interface BenchNode {
  node: EngramNode
  dataDir: string
  /** the node's TCP listen port on 127.0.0.1 */
  port: number
  /** stops the node; removes its data dir unless keepData */
  stop(opts?: { keepData?: boolean }): Promise<void>
}

export async function startBenchNode (opts: Partial<EngramNodeOptions> = {}): Promise<BenchNode> {
  const dataDir = opts.dataDir ?? await mkdtemp(join(tmpdir(), 'engram-bench-'))
  const node = await EngramNode.create({
    listen: ['/ip4/127.0.0.1/tcp/0'],
    intervalMs: 0,
    fanout: 0,
    // no session on connect either: a benchmark's own exchange is the one it measures
    connectSync: false,
    join: [],
    ...opts,
    dataDir,
    privateKey: opts.privateKey ?? await generateKeyPair('Ed25519')
  })
  await node.start()
  const addr = node.addresses().find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
  if (addr === undefined) throw new Error('node has no 127.0.0.1 TCP address')
  const port = Number(addr.split('/')[4])
  let stopped = false
  return {
    node,
    dataDir,
    port,
    async stop (o = {}) {
      if (stopped) return
      stopped = true
      await node.stop().catch(() => {})
      if (o.keepData !== true) await rm(dataDir, { recursive: true, force: true })
    }
  }
}

/** `from` dials `to` at 127.0.0.1:port (the node's own port, or a proxy's in front of it). */
export async function connect (from: BenchNode, to: BenchNode, port = to.port): Promise<void> {
  await internalsOf(from.node).libp2p.dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${to.node.peerId.toString()}`))
}

/** `from` dials a node known by PeerId and port (e.g. one in another process). */
export async function dialPeer (from: BenchNode, peerId: string, port: number): Promise<void> {
  await internalsOf(from.node).libp2p.dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`))
}

/** Local writes through Replica.writeMany (what putMany does), in atomic batches; returns the states. */
export async function writeItems (n: BenchNode, all: readonly Item[], batch = 5000): Promise<PatternState[]> {
  const out: PatternState[] = []
  await inBatches(all, batch, async b => { out.push(...(await internalsOf(n.node).replica.writeMany(b)).map(p => p.state)) })
  return out
}

/** Gives `n` exactly these states (the remote-merge path a sync uses), in batches. */
export async function mergeStates (n: BenchNode, states: readonly PatternState[], batch = 5000): Promise<void> {
  await inBatches(states, batch, async b => { await internalsOf(n.node).replica.mergeRemote(b) })
}

export async function stopAll (nodes: Array<BenchNode | undefined>): Promise<void> {
  await Promise.allSettled(nodes.map(async n => { await n?.stop() }))
}

export function rootHex (n: BenchNode): string {
  return Buffer.from(internalsOf(n.node).replica.root()).toString('hex')
}
