/**
 * Discovery must not stall (real libp2p on 127.0.0.1, LevelDB in a temp dir). The node joins
 * through a hostile peer: a bare libp2p node that advertises our DHT protocol, accepts its
 * streams and never answers, so every provide/findProviders the node sends it hangs.
 * Rounds must go on regardless; and once that only connection is gone, the node must re-dial
 * its join address on its own until the peer is back (same key, same port).
 */
import '../../src/node/polyfill.js'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { DHT_PROTOCOL } from '../../src/discovery/constants.js'
import { configureLogging } from '../../src/daemon/logging.js'
import { MetaKnownPeerStore } from '../../src/discovery/known-peers-meta.js'
import { Replica } from '../../src/store/replica.js'
import { startTestNode, stopAll } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import type { EngramLibp2p } from '../../src/node/libp2p.js'
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface'
import { author } from '../helpers/authors.js'

interface Hostile {
  node: Libp2p
  /** DHT streams opened to it (never answered). */
  streams: Stream[]
}

/** A peer that speaks our DHT protocol in identify only: it takes every request and never replies. */
async function startHostile (privateKey: PrivateKey, port = 0): Promise<Hostile> {
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${port}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() }
  })
  const streams: Stream[] = []
  await node.handle(DHT_PROTOCOL, (stream) => { streams.push(stream) }, { maxInboundStreams: 1024 })
  return { node, streams }
}

function addrWithId (node: Libp2p): string {
  const ma = node.getMultiaddrs()[0]
  if (ma == null) throw new Error('hostile peer has no listen address')
  return ma.toString()
}

function portOf (addr: string): number {
  const port = Number(/\/tcp\/(\d+)/.exec(addr)?.[1])
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no tcp port in ${addr}`)
  return port
}

interface LogLine { level: string, component: string, msg: string }

describe('discovery with a DHT peer that never answers', { timeout: 90_000 }, () => {
  let dir: string
  const lines: LogLine[] = []
  const hostiles: Hostile[] = []
  const nodes: EngramLibp2p[] = []
  const dbs: Replica[] = []
  let savedDebug: string | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engram-stall-'))
    // capture what an operator would see at info level
    savedDebug = process.env.DEBUG
    delete process.env.DEBUG
    configureLogging({ level: 'info', json: true, write: l => { lines.push(JSON.parse(l) as LogLine) } })
  })

  after(async () => {
    await stopAll(nodes)
    await Promise.allSettled(hostiles.map(async h => { await h.node.stop() }))
    await Promise.allSettled(dbs.map(async db => { await db.close() }))
    configureLogging({ level: 'silent', json: false })
    if (savedDebug !== undefined) process.env.DEBUG = savedDebug
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps running discovery rounds while every DHT call hangs', async () => {
    const hostile = await startHostile(await generateKeyPair('Ed25519'))
    hostiles.push(hostile)
    const node = await startTestNode({
      join: [addrWithId(hostile.node)],
      discovery: { interval: 200, provideInterval: 400, lookupTimeout: 800, dialTimeout: 2000 }
    })
    nodes.push(node)
    const svc = node.services.discovery
    await waitFor(() => node.getConnections(hostile.node.peerId).length > 0, { timeout: 10_000, message: 'the join dial' })
    await waitFor(() => hostile.streams.length > 0, { timeout: 10_000, message: 'a DHT request to reach the hostile peer' })

    const start = svc.stats
    await waitFor(() => svc.stats.rounds >= start.rounds + 4 && svc.stats.deadlines >= start.deadlines + 3,
      { timeout: 20_000, message: `rounds to go on past hung DHT calls (${JSON.stringify(svc.stats)})` })
    // the calls hung on the peer: it received requests and answered none (kad-dht holds every
    // query until its first self-query, which is the one stuck on the peer)
    assert.ok(hostile.streams.length >= 1)
    assert.ok(node.getConnections(hostile.node.peerId).length > 0)
    assert.equal(svc.stats.isolated, false)
  })

  it('re-dials its join address after losing its only connection and reconnects when the peer is back', async () => {
    const key = await generateKeyPair('Ed25519')
    let hostile = await startHostile(key)
    hostiles.push(hostile)
    const joinAddr = addrWithId(hostile.node)
    const db = await Replica.open({ dir: join(dir, 'known-peers'), author: author('me') })
    dbs.push(db)
    const node = await startTestNode({
      join: [joinAddr],
      // rounds far apart: after the first one, only the reconnector can bring the peer back
      discovery: {
        interval: 600_000,
        lookupTimeout: 800,
        dialTimeout: 2000,
        reconnectMin: 200,
        reconnectMax: 1000,
        knownPeers: new MetaKnownPeerStore(db)
      }
    })
    nodes.push(node)
    const svc = node.services.discovery
    const hostileId = hostile.node.peerId
    await waitFor(() => node.getConnections(hostileId).length > 0, { timeout: 10_000, message: 'the join dial' })
    // remembered in the store (it speaks our DHT protocol, so it counts as a cluster member)
    await waitFor(async () => (await new MetaKnownPeerStore(db).load()).some(p => p.id === hostileId.toString()),
      { timeout: 10_000, message: 'the peer to be remembered' })
    const linesBefore = lines.length

    await hostile.node.stop()
    await waitFor(() => node.getConnections().length === 0, { timeout: 10_000, message: 'the node to lose its connection' })
    await waitFor(() => svc.stats.redials >= 3 && svc.stats.isolations === 1,
      { timeout: 15_000, message: `repeated re-dials while the peer is down (${JSON.stringify(svc.stats)})` })
    assert.equal(svc.stats.isolated, true)
    assert.equal(svc.stats.rounds, 1, 'a discovery round ran; the test means to show the re-dial alone')

    hostile = await startHostile(key, portOf(joinAddr))
    hostiles.push(hostile)
    assert.ok(hostile.node.peerId.equals(hostileId))
    await waitFor(() => node.getConnections(hostileId).length > 0,
      { timeout: 20_000, message: `the node to reconnect to the restarted peer (${JSON.stringify(svc.stats)})` })
    await waitFor(() => svc.stats.reconnects === 1 && !svc.stats.isolated, { timeout: 5000, message: 'the reconnect to be noted' })

    // one info line each way, however many attempts there were in between
    const discoveryInfo = lines.slice(linesBefore).filter(l => l.component === 'engram:discovery' && l.level === 'info')
    const isolated = discoveryInfo.filter(l => l.msg.startsWith('no connections;'))
    assert.deepEqual(isolated.map(l => l.msg), ['no connections; re-dialling 1 join addresses and 1 remembered peers'])
    assert.equal(discoveryInfo.filter(l => l.msg.startsWith('reconnected')).length, 1)
    assert.ok(svc.stats.redials >= 3)
    // the re-dials' own failures stayed at trace
    assert.equal(discoveryInfo.filter(l => /\((join|remembered)\) failed/.test(l.msg)).length, 0,
      discoveryInfo.map(l => l.msg).join('\n'))
  })
})
