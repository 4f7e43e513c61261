/** Full Engram nodes (store + libp2p + discovery + gossip) on 127.0.0.1 in temp dirs. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { EngramNode, type EngramNodeOptions } from '../../src/node/engram-node.js'
import { FAST_DISCOVERY, LOOPBACK } from './nodes.js'
import { waitFor } from './wait.js'

export interface TestEngram {
  node: EngramNode
  dataDir: string
  privateKey: PrivateKey
}

export async function tempDir (prefix = 'engram-node-'): Promise<string> {
  return await mkdtemp(join(tmpdir(), prefix))
}

export async function startEngram (opts: Partial<EngramNodeOptions> = {}): Promise<TestEngram> {
  const dataDir = opts.dataDir ?? await tempDir()
  const privateKey = opts.privateKey ?? await generateKeyPair('Ed25519')
  const node = await EngramNode.create({
    listen: [LOOPBACK],
    intervalMs: 0,
    fanout: 0,
    discovery: FAST_DISCOVERY,
    dhtInitialQuerySelfInterval: 100,
    ...opts,
    dataDir,
    privateKey
  })
  await node.start()
  return { node, dataDir, privateKey }
}

/**
 * A node restarted with a past (one write) that remembers only a peer which is gone: its local
 * writes (and repairs) wait for a session that cannot come, until `confirmCounterTimeoutMs`.
 */
export async function startHeldNode (confirmCounterTimeoutMs: number): Promise<TestEngram> {
  const gone = await startEngram()
  const deadAddr = gone.node.addresses()[0]!
  await gone.node.stop()
  const first = await startEngram({ join: [deadAddr] })
  await first.node.put('before', { confidence: 0.5 })
  await first.node.stop()
  return await startEngram({ dataDir: first.dataDir, privateKey: first.privateKey, join: [deadAddr], confirmCounterTimeoutMs })
}

/** Starts n nodes in a chain: each joins only the previous one's address. */
export async function startChain (n: number, opts: Partial<EngramNodeOptions> = {}): Promise<TestEngram[]> {
  const out: TestEngram[] = []
  for (let i = 0; i < n; i++) {
    const prev = out[i - 1]
    out.push(await startEngram({ ...opts, join: prev !== undefined ? [prev.node.addresses()[0]!] : [] }))
  }
  return out
}

export async function waitForMesh (nodes: TestEngram[], timeout = 30_000): Promise<void> {
  await waitFor(async () => {
    for (const n of nodes) {
      const peers = new Set((await n.node.status()).gossipPeers)
      for (const o of nodes) if (o !== n && !peers.has(o.node.peerId.toString())) return false
    }
    return true
  }, { timeout, message: 'every node to have every other as a gossip peer' })
}

/** Every pair of nodes has had one successful session (the sync each gets when it connects). */
export async function waitForConnectSyncs (nodes: TestEngram[], timeout = 30_000): Promise<void> {
  const ok = (o: string): boolean => o === 'in-sync' || o === 'synced'
  await waitFor(async () => {
    const rounds = await Promise.all(nodes.map(async n => (await n.node.status()).lastRounds))
    return nodes.every((n, i) => nodes.every(o => o === n ||
      rounds[i]!.some(r => r.peer === o.node.peerId.toString() && (r.role === 'initiator' || r.role === 'responder') && ok(r.outcome))))
  }, { timeout, message: 'a connect sync between every pair of nodes' })
}

export async function stopEngrams (nodes: Array<TestEngram | undefined>, removeData = true): Promise<void> {
  await Promise.allSettled(nodes.map(async n => {
    if (n === undefined) return
    await n.node.stop().catch(() => {})
    if (removeData) await rm(n.dataDir, { recursive: true, force: true })
  }))
}
