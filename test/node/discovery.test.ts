/**
 * DiscoveryService against fake components: which peers it dials (and never dials), what it
 * remembers, and that stop() leaves nothing running. The real-network behaviour is in
 * cluster.test.ts; there kad-dht's own queries often connect peers first, so the explicit
 * dial paths are pinned down here.
 */
import '../../src/node/polyfill.js'
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { isMultiaddr, multiaddr } from '@multiformats/multiaddr'
import { DHT_PROTOCOL } from '../../src/discovery/constants.js'
import { DiscoveryService, rendezvousCid } from '../../src/discovery/discovery.js'
import { MemoryKnownPeerStore } from '../../src/discovery/peer-book.js'
import { waitFor } from '../helpers/wait.js'
import type { DiscoveryComponents, DiscoveryInit } from '../../src/discovery/discovery.js'
import type { Connection, Logger, PeerId, PeerStore } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function silentLogger (): Logger {
  const log = Object.assign(() => {}, { enabled: false, error: () => {}, trace: () => {} })
  return Object.assign(log, { newScope: () => log }) as unknown as Logger
}

function fakeNode (self: PeerId, opts: { providers?: PeerId[], routingTable?: PeerId[] }) {
  const connected = new Map<string, PeerId>()
  const dialled: string[] = []
  let lookups = 0
  let provides = 0
  const conn = (id: PeerId, addr: Multiaddr): Connection =>
    ({ remotePeer: id, remoteAddr: addr, direction: 'outbound' }) as unknown as Connection
  const components: DiscoveryComponents & { dht: unknown } = {
    peerId: self,
    logger: { forComponent: () => silentLogger() },
    events: new EventTarget() as unknown as DiscoveryComponents['events'],
    peerStore: {
      merge: async () => {},
      get: async (id: PeerId) => ({ id, protocols: [DHT_PROTOCOL], addresses: [{ multiaddr: multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${id.toString()}`) }] })
    } as unknown as PeerStore,
    contentRouting: {
      provide: async () => { provides++ },
      cancelReprovide: async () => {},
      findProviders: async function * () {
        lookups++
        for (const id of [self, ...(opts.providers ?? [])]) yield { id, multiaddrs: [], routing: 'fake' }
      },
      get: async () => new Uint8Array(),
      put: async () => {}
    },
    connectionManager: {
      openConnection: async (target) => {
        dialled.push(target.toString())
        const id = isMultiaddr(target) ? await newPeerId() : target
        connected.set(id.toString(), id)
        return conn(id, multiaddr('/ip4/127.0.0.1/tcp/2'))
      },
      getConnections: (peer) => [...connected.values()]
        .filter(id => peer == null || id.equals(peer))
        .map(id => conn(id, multiaddr('/ip4/127.0.0.1/tcp/2')))
    },
    dht: { routingTable: { kb: { toIterable: function * () { for (const peerId of opts.routingTable ?? []) yield { peerId } } } } }
  }
  return { components, connected, dialled, stats: () => ({ lookups, provides }) }
}

async function run (svc: DiscoveryService): Promise<void> {
  await svc.start()
  await svc.afterStart()
}

async function halt (svc: DiscoveryService): Promise<void> {
  await svc.beforeStop()
  await svc.stop()
}

const FAST: DiscoveryInit = { interval: 40, provideInterval: 200, lookupTimeout: 500, dialTimeout: 500 }

describe('DiscoveryService (fake components)', () => {
  it('dials providers and routing-table peers it is not connected to, never itself', async () => {
    const self = await newPeerId()
    const [p1, p2, rt] = [await newPeerId(), await newPeerId(), await newPeerId()]
    const fake = fakeNode(self, { providers: [p1, p2], routingTable: [rt] })
    const svc = new DiscoveryService(fake.components, FAST)
    try {
      await run(svc)
      await waitFor(() => [p1, p2, rt].every(p => fake.connected.has(p.toString())), { timeout: 3000, message: 'dials' })
      await waitFor(() => fake.stats().provides >= 2, { timeout: 3000, message: 're-provide' })
    } finally {
      await halt(svc)
    }
    assert.ok(!fake.dialled.includes(self.toString()), 'dialled itself')
    // each peer dialled once: connected peers are skipped on later rounds
    assert.equal(new Set(fake.dialled).size, fake.dialled.length)
  })

  it('dials join addresses and remembered peers, and remembers connected cluster peers', async () => {
    const self = await newPeerId()
    const known = await newPeerId()
    const store = new MemoryKnownPeerStore()
    await store.save([{ id: known.toString(), addrs: ['/ip4/127.0.0.1/tcp/7'] }, { id: 'not-a-peer-id', addrs: ['junk'] }])
    const fake = fakeNode(self, {})
    const svc = new DiscoveryService(fake.components, { ...FAST, join: ['/ip4/127.0.0.1/tcp/9', 'not a multiaddr'], knownPeers: store })
    try {
      await run(svc)
      await waitFor(() => fake.dialled.includes('/ip4/127.0.0.1/tcp/9') && fake.connected.has(known.toString()),
        { timeout: 3000, message: 'join and remembered dials' })
    } finally {
      await halt(svc)
    }
    const saved = new Set((await store.load()).map(p => p.id))
    for (const id of fake.connected.keys()) assert.ok(saved.has(id), `connected peer ${id} not remembered`)
    const entry = (await store.load()).find(p => p.id === known.toString())
    assert.ok(entry?.addrs.every(a => !a.includes('/p2p/')), 'stored addresses carry the peer id')
  })

  it('stop() ends every round: no lookups afterwards', async () => {
    const fake = fakeNode(await newPeerId(), { providers: [] })
    const svc = new DiscoveryService(fake.components, FAST)
    await run(svc)
    await waitFor(() => fake.stats().lookups >= 2, { timeout: 3000, message: 'rounds' })
    await halt(svc)
    const after = fake.stats().lookups
    await sleep(200)
    assert.equal(fake.stats().lookups, after)
    assert.equal(svc.pendingDials, 0)
    assert.equal(svc.isStarted(), false)
  })

  it('the rendezvous CID depends on the cluster name only', async () => {
    assert.equal((await rendezvousCid('a')).toString(), (await rendezvousCid('a')).toString())
    assert.notEqual((await rendezvousCid('a')).toString(), (await rendezvousCid('b')).toString())
  })
})
