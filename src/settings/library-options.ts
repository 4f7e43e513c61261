/**
 * The library's node options checked with the same parsers as the CLI's settings, so
 * `createEngramNode({ cluster: 'bad name!' })` is refused just like `--cluster 'bad name!'`.
 */
import {
  MAX_INTERVAL_S, parseCluster, parseFanout, parseInterval, parseMultiaddrList, parseTrustedPeers, InvalidSettingError, type Fanout
} from './node-settings.js'
import type { GossipLimits } from '../gossip/index.js'

export interface CheckedNodeOptions {
  listen?: string[]
  announce?: string[]
  join?: string[]
  /** ms; 0 turns the anti-entropy timer off (tests and embedders that sync on demand) */
  intervalMs?: number
  fanout?: Fanout
  cluster?: string
  connectSync?: boolean
  changeFeed?: boolean
  /** only writes signed by these node ids (and this node) are merged */
  trustedPeers?: string[]
  gossipLimits?: GossipLimits
}

/** each tunable limit: may it be 0 (off)? Keys not listed here are refused, so a typo is not silently ignored. */
const LIMIT_ZERO_OK: Record<keyof GossipLimits, boolean> = {
  sessionTimeoutMs: false,
  messageTimeoutMs: false,
  maxSessionsPerPeer: false,
  maxConcurrentSessions: false,
  sessionCooldownMs: true,
  maxBufferedInboundBytes: false,
  maxInboundGossipStreams: false,
  pushQuota: false,
  channelIdleMs: false
}

function count (raw: unknown, zeroOk: boolean): void {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < (zeroOk ? 0 : 1)) {
    throw new Error(`expected a whole number ${zeroOk ? '>= 0' : '>= 1'}, got ${String(raw)}`)
  }
}

function parseGossipLimits (raw: unknown): void {
  if (typeof raw !== 'object' || raw === null) throw new Error('expected an object')
  for (const [name, value] of Object.entries(raw)) {
    const zeroOk = (LIMIT_ZERO_OK as Record<string, boolean | undefined>)[name]
    if (zeroOk === undefined) throw new Error(`unknown limit ${name} (known: ${Object.keys(LIMIT_ZERO_OK).join(', ')})`)
    if (name !== 'pushQuota') {
      try { count(value, zeroOk) } catch (err: any) { throw new Error(`${name}: ${String(err.message)}`) }
      continue
    }
    const q = value as Record<string, unknown> | null
    if (typeof q !== 'object' || q === null) throw new Error('pushQuota: expected { newKeysPerMinute, bytesPerMinute, framesPerMinute? }')
    for (const k of ['newKeysPerMinute', 'bytesPerMinute', 'framesPerMinute']) {
      if (k === 'framesPerMinute' && q[k] === undefined) continue
      try { count(q[k], false) } catch (err: any) { throw new Error(`pushQuota.${k}: ${String(err.message)}`) }
    }
  }
}

function check<T> (name: string, value: T | undefined, parse: (raw: unknown) => unknown): void {
  if (value === undefined) return
  try {
    parse(value)
  } catch (err: any) {
    throw new InvalidSettingError(`option ${name}: ${String(err.message)}`)
  }
}

/** Throws InvalidSettingError naming the first option that a CLI flag would also refuse. */
export function checkNodeOptions (o: CheckedNodeOptions): void {
  check('listen', o.listen, parseMultiaddrList)
  check('announce', o.announce, parseMultiaddrList)
  check('join', o.join, parseMultiaddrList)
  check('fanout', o.fanout, parseFanout)
  check('cluster', o.cluster, parseCluster)
  check('trustedPeers', o.trustedPeers, parseTrustedPeers)
  check('connectSync', o.connectSync, (raw) => {
    if (typeof raw !== 'boolean') throw new Error('expected true or false')
    return raw
  })
  check('changeFeed', o.changeFeed, (raw) => {
    if (typeof raw !== 'boolean') throw new Error('expected true or false')
    return raw
  })
  check('gossipLimits', o.gossipLimits, parseGossipLimits)
  check('intervalMs', o.intervalMs, (raw) => {
    if (raw === 0) return 0
    if (typeof raw !== 'number') throw new Error(`expected milliseconds, 0 or up to ${MAX_INTERVAL_S * 1000}`)
    return parseInterval(raw / 1000)
  })
}
