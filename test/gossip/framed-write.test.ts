/**
 * Writing many frames under back-pressure on one session signal leaves no listeners behind
 * on it (lpStream's write used p-event, which never removed its abort listener: a long
 * transfer piled them up and Node warned MaxListenersExceededWarning). A writer to a reader
 * that stops holds at most MAX_UNSENT_BYTES and a frame (stream.onDrain resolves at once after
 * the first drain, so waiting on it let a bulk pull pile hundreds of MB into the write buffer),
 * and a bulk send lets the event loop run between frames.
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { FramedStream } from '../../src/gossip/framed.js'
import { startTestNode, addrOf, stopAll } from '../helpers/nodes.js'
import type { EngramLibp2p } from '../../src/node/libp2p.js'
import { MAX_UNSENT_BYTES } from '../../src/gossip/constants.js'
import { sendPatterns } from '../../src/gossip/select.js'
import { CompactMerkleIndex } from '../../src/core/compact-index.js'
import { sha256 } from '../../src/core/hash.js'
import type { GossipStore } from '../../src/gossip/types.js'

const PROTOCOL = '/engram/test/framed/1.0.0'

describe('FramedStream writes', () => {
  const nodes: EngramLibp2p[] = []
  after(async () => { await stopAll(nodes) })

  it('frames arrive whole and in order, and the session signal keeps no listener per write', async () => {
    const a = await startTestNode({ gossip: false })
    const b = await startTestNode({ gossip: false })
    nodes.push(a, b)
    const FRAMES = 64
    const SIZE = 64 * 1024
    const received: number[] = []
    const done = new Promise<void>((resolve, reject) => {
      void b.handle(PROTOCOL, async (stream) => {
        try {
          const lp = lpStream(stream, { maxDataLength: SIZE + 16 })
          for (let i = 0; i < FRAMES; i++) {
            const buf = (await lp.read()).subarray()
            assert.equal(buf.byteLength, SIZE)
            received.push(buf[0]!)
            // a slow reader that pauses its stream: the window fills and the writer waits for drain
            if (i % 4 === 0) {
              stream.pause()
              await new Promise(resolve => setTimeout(resolve, 30))
              stream.resume()
            }
          }
          await stream.close()
          resolve()
        } catch (err) { reject(err) }
      })
    })
    const stream = await a.dialProtocol(multiaddr(addrOf(b)), PROTOCOL)
    const session = new AbortController()
    const io = new FramedStream(stream, session.signal)
    // count the sends the stream refused until it drained: each one was a wait on the signal
    let drains = 0
    const send = stream.send.bind(stream)
    stream.send = (data) => { const ok = send(data); if (!ok) drains++; return ok }
    for (let i = 0; i < FRAMES; i++) await io.writeRaw(new Uint8Array(SIZE).fill(i))
    await done
    assert.deepEqual(received, Array.from({ length: FRAMES }, (_, i) => i))
    assert.ok(drains >= 3, `only ${drains} waits for drain: the test did not exercise back-pressure`)
    assert.ok(getEventListeners(session.signal, 'abort').length <= 1, `${getEventListeners(session.signal, 'abort').length} abort listeners left`)
  })

  it('a writer to a reader that stopped waits with at most MAX_UNSENT_BYTES and a frame unsent', async () => {
    const a = await startTestNode({ gossip: false })
    const b = await startTestNode({ gossip: false })
    nodes.push(a, b)
    const SIZE = 256 * 1024
    let read = 0
    void b.handle(PROTOCOL, async (stream) => {
      // reads a few frames, so the writer sees drains, then stops reading for good
      const lp = lpStream(stream, { maxDataLength: SIZE + 16 })
      for (let i = 0; i < 6; i++) { await lp.read(); read++ }
      stream.pause()
    })
    const stream = await a.dialProtocol(multiaddr(addrOf(b)), PROTOCOL)
    const session = new AbortController()
    const io = new FramedStream(stream, session.signal)
    let written = 0
    let blocked = false
    let maxUnsent = 0
    // 256 MiB if nothing held the writer back: bounded in count, and each write in time
    for (let i = 0; i < 1024 && !blocked; i++) {
      const write = io.writeRaw(new Uint8Array(SIZE).fill(i % 251)).then(() => true)
      const timer = new Promise<false>(resolve => setTimeout(() => resolve(false), 1500))
      blocked = !await Promise.race([write, timer])
      if (!blocked) written++
      maxUnsent = Math.max(maxUnsent, stream.writeBufferLength)
      write.catch(() => {})
    }
    assert.ok(read >= 6, `the reader read ${read} frames`)
    assert.ok(blocked, `${written} frames of ${SIZE} B written to a reader that stopped, none waited`)
    assert.ok(maxUnsent <= MAX_UNSENT_BYTES + SIZE + 16, `${maxUnsent} bytes unsent in the stream`)
    session.abort(new Error('test over'))
    stream.abort(new Error('test over'))
  })

  it('a bulk send lets the event loop run between frames', async () => {
    const a = await startTestNode({ gossip: false })
    const b = await startTestNode({ gossip: false })
    nodes.push(a, b)
    const N = 512 * 40
    const index = new CompactMerkleIndex()
    const encoded = new Uint8Array(64).fill(7)
    const utf8 = new TextEncoder()
    for (let i = 0; i < N; i++) index.set(sha256(utf8.encode(`k${i}`)), sha256(utf8.encode(`d${i}`)))
    const store = { index, getEncoded: async () => encoded } as unknown as GossipStore
    let frames = 0
    void b.handle(PROTOCOL, async (stream) => {
      const lp = lpStream(stream, { maxDataLength: 1024 * 1024 })
      while (frames < N / 512) { await lp.read(); frames++ }
    })
    const stream = await a.dialProtocol(multiaddr(addrOf(b)), PROTOCOL)
    const io = new FramedStream(stream, new AbortController().signal)
    // a macrotask that counts how often the loop got a turn while the send ran
    let turns = 0
    let sending = true
    const tick = (): void => { if (sending) { turns++; setImmediate(tick) } }
    setImmediate(tick)
    const sent = await sendPatterns(io, store, { keyHashes: [], prefixes: [''] })
    sending = false
    assert.equal(sent, N)
    assert.ok(turns >= N / 512 - 1, `the event loop ran ${turns} times during ${N / 512} frames`)
    await stream.close()
  })
})
