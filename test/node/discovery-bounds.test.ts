/**
 * The pieces that keep discovery from stalling, without sockets: hard deadlines that hold
 * when the callee ignores its signal, round scheduling that never waits for a stuck round
 * and never overlaps rounds, the isolated node's backoff, and the dialer's timeout. The last
 * case runs the DiscoveryService against a DHT that never answers and ignores every signal
 * (something the real kad-dht does not do on demand, hence the hostile fake).
 */
import '../../src/node/polyfill.js'
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Deadline, DeadlineError, raceAbort, withDeadline } from '../../src/utils/deadline.js'
import { Dialer } from '../../src/discovery/dialer.js'
import { DiscoveryService } from '../../src/discovery/discovery.js'
import { Backoff, Reconnector } from '../../src/discovery/reconnect.js'
import { CallGate, RoundScheduler } from '../../src/discovery/rounds.js'
import { waitFor } from '../helpers/wait.js'
import type { DiscoveryComponents } from '../../src/discovery/discovery.js'
import type { Connection, Logger, PeerId, PeerStore } from '@libp2p/interface'

/** A logger that records what it was asked to log, by level. */
function recordingLogger (): { log: Logger, lines: Array<{ level: 'info' | 'error' | 'trace', msg: string }> } {
  const lines: Array<{ level: 'info' | 'error' | 'trace', msg: string }> = []
  const at = (level: 'info' | 'error' | 'trace') => (fmt: string) => { lines.push({ level, msg: String(fmt) }) }
  const log = Object.assign(at('info'), { enabled: true, error: at('error'), trace: at('trace') })
  return { log: Object.assign(log, { newScope: () => log }) as unknown as Logger, lines }
}

/** A promise that never settles, from a callee that never looks at its signal. */
const never = async <T>(): Promise<T> => await new Promise<T>(() => {})

describe('deadlines', () => {
  it('raceAbort gives up on a callee that ignores the signal', async () => {
    const controller = new AbortController()
    const waiting = raceAbort(never(), controller.signal)
    controller.abort(new DeadlineError(5))
    await assert.rejects(waiting, DeadlineError)
  })

  it('withDeadline rejects with DeadlineError at its bound', async () => {
    const started = Date.now()
    await assert.rejects(withDeadline(50, undefined, async () => await never()), (err: unknown) => err instanceof DeadlineError && err.ms === 50)
    assert.ok(Date.now() - started < 5000)
    assert.equal(await withDeadline(1000, undefined, async () => 7), 7)
  })

  it('a Deadline follows its parent and leaves no listener on it', async () => {
    const parent = new AbortController()
    for (let i = 0; i < 100; i++) {
      const d = new Deadline(10_000, parent.signal)
      await withDeadline(10_000, parent.signal, async () => {})
      d.dispose()
    }
    // a long-lived parent (the shutdown signal) must not collect dependants (nodejs/node#55351)
    assert.equal(getEventListeners(parent.signal, 'abort').length, 0)
    const d = new Deadline(10_000, parent.signal)
    parent.abort(new Error('shutdown'))
    assert.equal(d.signal.aborted, true)
    assert.equal(d.expired, false)
    const e = new Deadline(20)
    await waitFor(() => e.signal.aborted, { timeout: 2000, message: 'the deadline to expire' })
    assert.equal(e.expired, true)
  })
})

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap', () => {
    const b = new Backoff({ initial: 1000, max: 30_000, random: () => 0 })
    assert.deepEqual(Array.from({ length: 8 }, () => b.next()), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
    assert.equal(b.attempts, 8)
    b.reset()
    assert.equal(b.attempts, 0)
    assert.equal(b.next(), 1000)
  })

  it('jitter only shortens a delay, and many attempts do not overflow', () => {
    let r = 0
    const randoms = [0.999, 0.5, 0]
    const b = new Backoff({ initial: 1000, max: 30_000, jitter: 0.3, random: () => randoms[r++ % randoms.length] ?? 0 })
    for (let i = 0; i < 2000; i++) {
      const d = b.next()
      assert.ok(Number.isFinite(d) && d >= 0 && d <= 30_000, `delay ${d}`)
      if (i > 10) assert.ok(d >= 30_000 * 0.7 - 1, `capped delay ${d} jittered too far`)
    }
  })
})

describe('RoundScheduler', () => {
  it('schedules the next round while one is stuck, skips instead of overlapping', async () => {
    let release = (): void => {}
    const stuck = new Promise<void>(resolve => { release = resolve })
    let concurrent = 0
    let maxConcurrent = 0
    const skips: number[] = []
    const s = new RoundScheduler({
      nextDelay: () => 10,
      round: async () => {
        concurrent++
        maxConcurrent = Math.max(maxConcurrent, concurrent)
        try { await stuck } finally { concurrent-- }
      },
      onSkip: n => skips.push(n)
    })
    s.start(0)
    try {
      await waitFor(() => s.skipped >= 3, { timeout: 3000, message: 'rounds to come due while one is stuck' })
      assert.equal(s.started, 1)
      assert.deepEqual(skips.slice(0, 3), [1, 2, 3])
      release()
      await waitFor(() => s.started >= 3, { timeout: 3000, message: 'rounds to resume' })
    } finally {
      s.stop()
      release()
      await s.settled()
    }
    assert.equal(maxConcurrent, 1)
    const after = s.started
    await sleep(60)
    assert.equal(s.started, after, 'a round started after stop()')
  })

  it('keeps going after a round throws', async () => {
    let n = 0
    const errors: unknown[] = []
    const s = new RoundScheduler({
      nextDelay: () => 10,
      round: async () => { n++; await sleep(30); if (n === 1) throw new Error('boom') },
      onError: err => errors.push(err)
    })
    s.start(0)
    try {
      await waitFor(() => s.started >= 3, { timeout: 3000, message: 'rounds after a failure' })
    } finally {
      s.stop()
      await s.settled()
    }
    assert.equal(errors.length, 1)
  })
})

describe('CallGate', () => {
  it('is busy while a call is in flight, free after it settles, and forgets a call stuck too long', async () => {
    let now = 0
    const gate = new CallGate(300, () => now)
    assert.equal(gate.enter().state, 'free')
    let settle = (): void => {}
    gate.track(new Promise<void>(resolve => { settle = resolve }))
    assert.deepEqual(gate.enter(), { state: 'busy', skips: 1 })
    assert.deepEqual(gate.enter(), { state: 'busy', skips: 2 })
    settle()
    await sleep(0)
    assert.equal(gate.enter().state, 'free')
    gate.track(never())
    now = 299
    assert.equal(gate.enter().state, 'busy')
    now = 300
    assert.equal(gate.enter().state, 'forgotten')
    assert.equal(gate.busy, false)
  })
})

describe('Dialer', () => {
  it('frees its slot at the timeout when the dial ignores its signal', async () => {
    const { log, lines } = recordingLogger()
    const dialled: string[] = []
    const dialer = new Dialer({
      concurrency: 1,
      maxQueued: 10,
      timeout: 50,
      dial: async (target) => { dialled.push(target.toString()); return await never<Connection>() },
      log
    })
    const targets = ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2', '/ip4/127.0.0.1/tcp/3'].map(a => multiaddr(a))
    for (const t of targets) assert.equal(dialer.enqueue(t, 'test', { quiet: t === targets[2] }), true)
    await waitFor(() => dialer.size === 0, { timeout: 5000, message: 'every stuck dial to time out' })
    assert.deepEqual(dialled, targets.map(String))
    // two failures at info, the quiet one at trace
    assert.equal(lines.filter(l => l.level === 'info' && l.msg.includes('failed')).length, 2)
    assert.equal(lines.filter(l => l.level === 'trace' && l.msg.includes('failed')).length, 1)
    // and stop() does not wait for a dial that never settles
    dialer.enqueue(targets[0]!, 'again')
    await withDeadline(2000, undefined, async () => { await dialer.stop() })
  })
})

describe('Reconnector', () => {
  it('re-dials with backoff while isolated, logs once each way, and its bound holds', async () => {
    const { log, lines } = recordingLogger()
    let connections = 0
    let calls = 0
    let hang = false
    const r = new Reconnector({
      connections: () => connections,
      redial: async () => {
        calls++
        if (hang) await never() // ignores its signal: the attempt's bound must still hold
        return { join: 2, remembered: 3 }
      },
      backoff: new Backoff({ initial: 10, max: 40 }),
      timeout: 100,
      log
    })
    r.start()
    try {
      await waitFor(() => calls >= 4, { timeout: 5000, message: 're-dial attempts' })
      assert.equal(r.isolated, true)
      assert.equal(r.isolations, 1)
      const infos = (): string[] => lines.filter(l => l.level === 'info').map(l => l.msg)
      assert.deepEqual(infos(), ['no connections; re-dialling %d join addresses and %d remembered peers'])

      connections = 1
      r.check()
      assert.equal(r.isolated, false)
      assert.equal(r.reconnects, 1)
      assert.equal(infos().length, 2)
      assert.match(infos()[1] ?? '', /^reconnected/)
      const settled = calls
      await sleep(100)
      assert.ok(calls <= settled + 1, 're-dialled while connected')

      // isolated again, and this time the redial never returns
      hang = true
      connections = 0
      r.check()
      const before = calls
      await waitFor(() => calls >= before + 2, { timeout: 5000, message: 'attempts past a redial that never returns' })
      assert.ok(lines.some(l => l.level === 'error' && l.msg.startsWith('re-dial failed')))
    } finally {
      await withDeadline(2000, undefined, async () => { await r.stop() })
    }
  })

  it('says nothing at info when there is no one to re-dial', async () => {
    const { log, lines } = recordingLogger()
    let calls = 0
    const r = new Reconnector({
      connections: () => 0,
      redial: async () => { calls++; return { join: 0, remembered: 0 } },
      backoff: new Backoff({ initial: 5, max: 10 }),
      timeout: 100,
      log
    })
    r.start()
    try {
      await waitFor(() => calls >= 3, { timeout: 3000, message: 'attempts' })
    } finally {
      await r.stop()
    }
    assert.equal(lines.filter(l => l.level === 'info').length, 0)
    assert.equal(r.isolations, 0)
  })
})

describe('DiscoveryService against a DHT that never answers and ignores its signal', () => {
  it('keeps running rounds, skips the stuck calls, retries them later, and stops promptly', async () => {
    const self: PeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const { log } = recordingLogger()
    let lookups = 0
    let provides = 0
    const components: DiscoveryComponents = {
      peerId: self,
      logger: { forComponent: () => log },
      events: new EventTarget() as unknown as DiscoveryComponents['events'],
      peerStore: { merge: async () => {}, get: async () => await never() } as unknown as PeerStore,
      contentRouting: {
        provide: async () => { provides++; await never() },
        cancelReprovide: async () => {},
        findProviders: () => {
          lookups++
          // an iterator whose next() never settles, whatever the signal does
          return { [Symbol.asyncIterator]: () => ({ next: async () => await never() }) }
        },
        get: async () => new Uint8Array(),
        put: async () => {}
      },
      connectionManager: {
        openConnection: async () => await never(),
        getConnections: () => []
      }
    }
    const svc = new DiscoveryService(components, { interval: 30, provideInterval: 30, lookupTimeout: 100, dialTimeout: 100 })
    await svc.start()
    await svc.afterStart()
    try {
      await waitFor(() => svc.stats.rounds >= 6 && svc.stats.deadlines >= 2 && svc.stats.skippedCalls >= 2,
        { timeout: 10_000, message: `rounds past stuck DHT calls (${JSON.stringify(svc.stats)})` })
      // a stuck call is given up on after a few bounds, then tried again
      await waitFor(() => lookups >= 2 && provides >= 2, { timeout: 10_000, message: 'stuck calls to be retried' })
    } finally {
      await withDeadline(5000, undefined, async () => {
        await svc.beforeStop()
        await svc.stop()
      })
    }
    const rounds = svc.stats.rounds
    await sleep(100)
    assert.equal(svc.stats.rounds, rounds, 'a round ran after stop()')
  })
})
