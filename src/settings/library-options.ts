/**
 * The library's node options checked with the same parsers as the CLI's settings, so
 * `createEngramNode({ cluster: 'bad name!' })` is refused just like `--cluster 'bad name!'`.
 */
import {
  MAX_INTERVAL_S, parseCluster, parseFanout, parseInterval, parseMultiaddrList, parseTrustedPeers, InvalidSettingError, type Fanout
} from './node-settings.js'

export interface CheckedNodeOptions {
  listen?: string[]
  announce?: string[]
  join?: string[]
  /** ms; 0 turns the anti-entropy timer off (tests and embedders that sync on demand) */
  intervalMs?: number
  fanout?: Fanout
  cluster?: string
  connectSync?: boolean
  /** only writes signed by these node ids (and this node) are merged */
  trustedPeers?: string[]
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
  check('intervalMs', o.intervalMs, (raw) => {
    if (raw === 0) return 0
    if (typeof raw !== 'number') throw new Error(`expected milliseconds, 0 or up to ${MAX_INTERVAL_S * 1000}`)
    return parseInterval(raw / 1000)
  })
}
