/**
 * The attacks of issue 14, each as a raw client speaking the gossip protocol to a victim
 * process. Each runs until its signal is aborted (every loop is bounded by that) and counts what
 * it sent and what came back.
 */
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import type { GossipNode } from '../gossip-nodes.js'
import { startTestNode } from '../nodes.js'
import type { EngramLibp2p } from '../../../src/node/libp2p.js'
import { GOSSIP_PROTOCOL, MAX_FRAME_BYTES } from '../../../src/gossip/constants.js'
import { decodeMessage, encodeMessage } from '../../../src/gossip/codec.js'
import { ByteWriter } from '../../../src/core/bytes.js'
import { applyWrite } from '../../../src/core/pattern.js'
import { fromString as fromHex } from 'uint8arrays/from-string'
import type { GossipMessage } from '../../../src/core/reconcile-messages.js'
import { call } from '../api.js'
import type { Attack, AttackTally } from './under-attack.js'
import type { Victim } from './victim.js'

/** what opening a stream needs of a libp2p node */
type Dialer = Pick<EngramLibp2p, 'dialProtocol'>

interface Session {
  stream: Stream
  lp: LengthPrefixedStream<Stream>
  send(m: GossipMessage): Promise<void>
  read(): Promise<GossipMessage>
}

async function open (from: Dialer, victim: Victim, tally: AttackTally): Promise<Session> {
  const stream = await from.dialProtocol(multiaddr(victim.addr), GOSSIP_PROTOCOL)
  const lp = lpStream(stream)
  return {
    stream,
    lp,
    async send (m) {
      const bytes = encodeMessage(m)
      tally.bytes += bytes.length
      await lp.write(bytes)
    },
    read: async () => decodeMessage((await lp.read()).subarray())
  }
}

/** bytes a stream holds to send (libp2p's streams count them; the interface does not show it) */
const queued = (stream: Stream): number => (stream as unknown as { writeBufferLength?: number }).writeBufferLength ?? 0

const randomHello = (): GossipMessage => ({ type: 'hello', version: 1, root: randomBytes(32), count: 1 })
const isBusy = (m: GossipMessage): boolean => m.type === 'reply' && m.busy === true

/** Case 1: a Hello with a random root, then one request naming the whole tree thousands of times. */
export function amplification (attacker: GossipNode, victim: Victim): Attack<AttackTally & { busy: number, endedByVictim: number }> {
  const request: GossipMessage = {
    type: 'request',
    descend: [],
    probes: Array.from({ length: 16_384 }, () => ({ prefix: '', entries: [] })),
    pullPrefixes: Array(4096).fill(''),
    done: false
  }
  return async (signal) => {
    const tally = { bytes: 0, requests: 0, busy: 0, endedByVictim: 0 }
    while (!signal.aborted) {
      const s = await open(attacker.libp2p, victim, tally)
      await s.send(randomHello())
      if (isBusy(await s.read())) {
        tally.busy++
        s.stream.abort(new Error('busy'))
        await sleep(50)
        continue
      }
      await s.send(request)
      tally.requests++
      // the victim ends the stream: nothing comes back but the end
      if (await s.read().then(() => false, () => true)) tally.endedByVictim++
      else s.stream.abort(new Error('done'))
    }
    return tally
  }
}

/** Case 2: hold the session slot, one small request just inside the message timeout, and reopen at once. */
export function slotHolder (attacker: GossipNode, victim: Victim, holdEveryMs: number): Attack<AttackTally & { busy: number, held: number }> {
  return async (signal) => {
    const tally = { bytes: 0, requests: 0, busy: 0, held: 0 }
    while (!signal.aborted) {
      try {
        const s = await open(attacker.libp2p, victim, tally)
        const ended = new Promise<boolean>(resolve => { s.stream.addEventListener('close', () => { resolve(true) }, { once: true }) })
        await s.send({ type: 'hello', version: 1, root: new Uint8Array(32).fill(3), count: 1 })
        tally.requests++
        if (isBusy(await s.read())) {
          tally.busy++
          s.stream.abort(new Error('busy'))
          await sleep(20)
          continue
        }
        tally.held++
        for (const prefix of '0123456789abcdef') {
          if (signal.aborted || await Promise.race([sleep(holdEveryMs).then(() => false), ended])) break
          await s.send({ type: 'request', descend: [], probes: [], pullPrefixes: [prefix], done: false })
          tally.requests++
          while ((await s.read()).type !== 'reply');
        }
        s.stream.abort(new Error('done'))
      } catch {
        // the victim ended the session (its timeout): reopen at once
      }
    }
    return tally
  }
}

const varint = (n: number): Uint8Array => new ByteWriter().varint(n).finish()

/**
 * Case 3: slowloris. On each of the streams a peer may hold, one whole exchange (so a stream may
 * be a kept one, idle between sessions), then most of a large frame, never finished. Counts how
 * long the victim held the longest of them.
 */
export function slowloris (attacker: GossipNode, victim: Victim): Attack<AttackTally & { longestHeldMs: number, stillOpen: number }> {
  const halfFrame = new Uint8Array([...varint(MAX_FRAME_BYTES - 1), ...new Uint8Array(64 * 1024)])
  return async (signal) => {
    const tally = { bytes: 0, requests: 0, longestHeldMs: 0, stillOpen: 0 }
    const holdOne = async (): Promise<void> => {
      const status = await call(victim.api, 'GET', '/v1/status', { token: victim.token })
      const s = await open(attacker.libp2p, victim, tally)
      await s.send({ type: 'hello', version: 1, root: fromHex(status.json.root as string, 'base16'), count: status.json.patterns as number })
      await s.read()
      const t0 = performance.now()
      s.stream.send(halfFrame)
      tally.bytes += halfFrame.length
      tally.requests++
      // the victim must let go within its message timeout; bounded here well above it
      for (let i = 0; i < 600 && s.stream.status === 'open'; i++) await sleep(50)
      if (s.stream.status === 'open') {
        tally.stillOpen++
        s.stream.abort(new Error('done'))
      }
      tally.longestHeldMs = Math.max(tally.longestHeldMs, performance.now() - t0)
    }
    while (!signal.aborted) await Promise.all([holdOne(), holdOne(), holdOne()])
    return tally
  }
}

/** Case 4: empty push frames on one stream, as fast as the stream takes them (a thousand to a write). */
export function emptyPushes (attacker: GossipNode, victim: Victim): Attack {
  const frame = encodeMessage({ type: 'patterns', patterns: [], push: true })
  const one = new Uint8Array([...varint(frame.length), ...frame])
  const batch = new Uint8Array(1000 * one.length)
  for (let i = 0; i < 1000; i++) batch.set(one, i * one.length)
  return async (signal) => {
    const tally: AttackTally = { bytes: 0, requests: 0 }
    const s = await open(attacker.libp2p, victim, tally)
    while (!signal.aborted) {
      // the victim reads no faster than its quota lets it: keep just enough queued to fill what it
      // takes (send() keeps taking data while a send is under way, and our own queue would grow)
      if (queued(s.stream) > 256 * 1024) {
        await sleep(5)
        continue
      }
      if (s.stream.send(batch)) await sleep(0)
      else await s.stream.onDrain({ signal }).catch(() => {})
      tally.requests += 1000
      tally.bytes += batch.length
    }
    s.stream.abort(new Error('done'))
    return tally
  }
}

/** Case 5: new keys pushed without end, each a valid write signed by the attacker. */
export function keyFlood (attacker: GossipNode, victim: Victim): Attack<AttackTally & { keys: number }> {
  return async (signal) => {
    const tally = { bytes: 0, requests: 0, keys: 0 }
    const s = await open(attacker.libp2p, victim, tally)
    for (let counter = 1; !signal.aborted && tally.keys < 100_000;) {
      const patterns = Array.from({ length: 500 }, () =>
        applyWrite(undefined, `flood/${counter}`, { addEpisodes: ['x'], confidence: 0.5 }, attacker.author, counter++))
      await s.send({ type: 'patterns', patterns, push: true })
      tally.requests++
      tally.keys += patterns.length
    }
    s.stream.abort(new Error('done'))
    return tally
  }
}

/**
 * Case 6: fresh identities, one after another: each connects, starts a session, and leaves.
 * Connections beyond the victim's rate per host are refused (counted); the next one comes soon after.
 */
export function freshIdentities (victim: Victim): Attack<AttackTally & { identities: number, refused: number }> {
  return async (signal) => {
    const tally = { bytes: 0, requests: 0, identities: 0, refused: 0 }
    while (!signal.aborted && tally.identities < 200) {
      const one = await startTestNode({ gossip: false })
      tally.identities++
      try {
        const s = await open(one, victim, tally)
        await s.send(randomHello())
        tally.requests++
        await s.read()
      } catch {
        tally.refused++
        await sleep(100)
      } finally {
        await one.stop()
      }
    }
    return tally
  }
}
