/**
 * Writing many frames under back-pressure on one session signal leaves no listeners behind
 * on it (lpStream's write used p-event, which never removed its abort listener: a long
 * transfer piled them up and Node warned MaxListenersExceededWarning).
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { FramedStream } from '../../src/gossip/framed.js'
import { startTestNode, addrOf, stopAll } from '../helpers/nodes.js'
import type { EngramLibp2p } from '../../src/node/libp2p.js'

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
})
