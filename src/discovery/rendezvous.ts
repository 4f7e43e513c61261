/**
 * The DHT rendezvous: every member provides a CID derived from the cluster name and looks up
 * its providers. Each call is waited for until the round's bound at most, whether or not the
 * DHT honours the signal, and is not repeated while an earlier one of its kind is stuck.
 */
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { Deadline, raceAbort } from '../utils/deadline.js'
import { CallGate } from './rounds.js'
import type { DiscoveryComponents } from './types.js'
import type { Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A DHT call still in flight this many bounds after it started is given up on. */
const FORGET_AFTER_BOUNDS = 3

/** The CID every member of `cluster` provides; namespaced so it cannot collide with content. */
export async function rendezvousCid (cluster: string): Promise<CID> {
  const digest = await sha256.digest(new TextEncoder().encode(`/engram/rendezvous/${cluster}`))
  return CID.create(1, raw.code, digest)
}

export interface RendezvousInit {
  components: DiscoveryComponents
  /** Bound of one provide or findProviders call, ms. */
  lookupTimeout: number
  /** Time between provide() calls, ms. */
  provideInterval: number
  /** Dials a provider found. */
  dialPeer: (id: PeerId, addrs: Multiaddr[], reason: string) => Promise<void>
  log: Logger
}

export class Rendezvous {
  /** DHT calls we stopped waiting for at their bound. */
  deadlines = 0
  /** DHT calls not made because the previous one of their kind outlived its round. */
  skippedCalls = 0
  private lastProvide = 0
  private readonly provideGate: CallGate
  private readonly lookupGate: CallGate

  constructor (private readonly init: RendezvousInit) {
    this.provideGate = new CallGate(init.lookupTimeout * FORGET_AFTER_BOUNDS)
    this.lookupGate = new CallGate(init.lookupTimeout * FORGET_AFTER_BOUNDS)
  }

  /** A (re)started service provides in its first round. */
  reset (): void {
    this.lastProvide = 0
  }

  /** Provides when due and looks up providers, within one bound. */
  async round (cid: CID, shutdown: AbortSignal): Promise<void> {
    // one signal per round, aborted by us at the bound or at shutdown
    const round = new Deadline(this.init.lookupTimeout, shutdown)
    try {
      const jobs = [this.bounded('findProviders', this.lookupGate, round, async () => { await this.findProviders(cid, round.signal) })]
      if (Date.now() - this.lastProvide >= this.init.provideInterval) {
        jobs.push(this.bounded('provide', this.provideGate, round, async () => { await this.provide(cid, round.signal) }))
      }
      await Promise.all(jobs)
    } finally {
      round.dispose()
    }
  }

  /**
   * Runs one DHT call and waits for it until the round's bound at most, whether or not the
   * callee honours the signal; skips it while the previous call of its kind is still stuck.
   */
  private async bounded (what: string, gate: CallGate, round: Deadline, call: () => Promise<void>): Promise<void> {
    const { log } = this.init
    const { state, skips } = gate.enter()
    if (state === 'busy') {
      this.skippedCalls++
      const logSkip = skips === 1 ? log : log.trace
      logSkip('%s from an earlier round outlived its %d ms bound; not starting another', what, round.ms)
      return
    }
    if (state === 'forgotten') log('%s from an earlier round never settled; starting a new one', what)
    const work = call()
    gate.track(work)
    try {
      await raceAbort(work, round.signal)
    } catch (err) {
      if (!round.expired) return // shutdown
      this.deadlines++
      log.trace('%s: %s', what, (err as Error).message)
    }
  }

  private async provide (cid: CID, signal: AbortSignal): Promise<void> {
    try {
      await this.init.components.contentRouting.provide(cid, { signal })
      this.lastProvide = Date.now()
      this.init.log('provided rendezvous %c', cid)
    } catch (err) {
      // usually "no peers yet" timing out; retried next round
      this.init.log('provide %c failed: %s', cid, (err as Error).message)
    }
  }

  private async findProviders (cid: CID, signal: AbortSignal): Promise<void> {
    let found = 0
    try {
      for await (const provider of this.init.components.contentRouting.findProviders(cid, { signal })) {
        if (signal.aborted) break // the round is over; leaving the loop closes the iterator
        found++
        await this.init.dialPeer(provider.id, provider.multiaddrs, 'rendezvous')
      }
    } catch (err) {
      this.init.log.trace('findProviders %c ended: %s', cid, (err as Error).message)
    }
    this.init.log.trace('rendezvous round: %d provider records', found)
  }
}
