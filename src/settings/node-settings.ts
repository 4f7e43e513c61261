/**
 * The node's settings: their defaults and ONE parser per setting. Command-line flags,
 * ENGRAM_* variables, config.json and the library's options all go through these parsers,
 * so a value is accepted or refused the same way wherever it comes from.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { MAX_CLOCK_ENTRIES } from '../core/limits.js'
import { isLogLevel, type LogLevel } from './log-levels.js'
import { DEFAULT_CLUSTER } from '../discovery/constants.js'

/** peers a local write is pushed to: 'auto' sizes it to the cluster, a number fixes it, 0 is off */
export type Fanout = number | 'auto'

export interface NodeSettings {
  key: string
  listen: string[]
  announce: string[]
  join: string[]
  /** mean seconds between anti-entropy rounds */
  interval: number
  fanout: Fanout
  swarmKey: string | null
  /** run an open cluster: no cluster secret (a new data dir gets one otherwise) */
  open: boolean
  mdns: boolean
  cluster: string
  /** if not empty, only writes signed by these node ids (and this node) are taken */
  trustedPeers: string[]
  api: string
  logLevel: LogLevel
  logJson: boolean
}

export const DEFAULT_SETTINGS: NodeSettings = {
  key: 'keys/node.key',
  listen: ['/ip4/0.0.0.0/tcp/4001'],
  announce: [],
  join: [],
  interval: 60,
  fanout: 'auto',
  swarmKey: null,
  open: false,
  mdns: false,
  cluster: DEFAULT_CLUSTER,
  trustedPeers: [],
  api: '127.0.0.1:5480',
  logLevel: 'info',
  logJson: false
}

/** Bounds of the settings (a list longer than this is a mistake, not a cluster). */
export const MAX_LIST_ENTRIES = 64
export const MIN_INTERVAL_S = 0.05
export const MAX_INTERVAL_S = 86_400
export const MAX_FANOUT = 64

/** A setting's value is refused; the message names where it came from and what is expected. */
export class InvalidSettingError extends Error {
  override name = 'InvalidSettingError'
  /** a bad flag is a usage error (exit 2, like commander's); a bad file or variable exits 1 */
  constructor (message: string, readonly exitCode = 1) {
    super(message)
  }
}

type Parser<T> = (raw: unknown) => T

function str (raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new Error('expected a non-empty string')
  return raw
}

export function parseMultiaddrSetting (raw: unknown): string {
  try {
    return multiaddr(str(raw)).toString()
  } catch (err: any) {
    throw new Error(`not a multiaddr: ${String(raw)} (${String(err?.message ?? err)}); example: /ip4/192.168.1.10/tcp/4001/p2p/12D3KooW...`)
  }
}

function list<T> (item: Parser<T>, max = MAX_LIST_ENTRIES): Parser<T[]> {
  return (raw) => {
    const items = typeof raw === 'string' ? raw.split(',').map(s => s.trim()).filter(s => s !== '') : raw
    if (!Array.isArray(items)) throw new Error('expected a list')
    if (items.length > max) throw new Error(`at most ${max} entries`)
    return items.map(item)
  }
}

function number (min: number, max: number, integer: boolean): Parser<number> {
  return (raw) => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new Error(`expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`)
    }
    return n
  }
}

function bool (raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw
  if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return true
  if (typeof raw === 'string' && /^(0|false|no|off)$/i.test(raw)) return false
  throw new Error('expected true or false')
}

/** host:port for the API; host an IP literal or localhost; port 0 lets the system pick one. */
export function parseHostPort (raw: unknown): string {
  const s = str(raw)
  const m = /^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):(\d{1,5})$/.exec(s)
  if (m === null || Number(m[2]) > 65535) throw new Error(`expected host:port such as 127.0.0.1:5480, got ${s}`)
  return s
}

export function splitHostPort (s: string): { host: string, port: number } {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) }
}

export function parseFanout (raw: unknown): Fanout {
  if (typeof raw === 'string' && raw.trim() === 'auto') return 'auto'
  try {
    return number(0, MAX_FANOUT, true)(raw)
  } catch (err: any) {
    throw new Error(`${String(err.message)}, or auto`)
  }
}

export function parseCluster (raw: unknown): string {
  const s = str(raw)
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(s)) throw new Error('letters, digits, . _ - only, at most 64')
  return s
}

/** A writer's node id: an Ed25519 PeerId, the only kind whose writes can be checked. */
export function parsePeerIdSetting (raw: unknown): string {
  const s = str(raw)
  try {
    const id = peerIdFromString(s)
    if (id.type !== 'Ed25519') throw new Error(`a ${id.type} PeerId; writers are Ed25519`)
    return id.toString()
  } catch (err: any) {
    throw new Error(`not a writer's PeerId: ${s} (${String(err?.message ?? err)}); example: 12D3KooW...`)
  }
}

export const parseTrustedPeers = list(parsePeerIdSetting, MAX_CLOCK_ENTRIES)
export const parseInterval = number(MIN_INTERVAL_S, MAX_INTERVAL_S, false)
export const parseMultiaddrList = list(parseMultiaddrSetting)

const PARSERS: { [K in keyof NodeSettings]: Parser<NodeSettings[K]> } = {
  key: str,
  listen: parseMultiaddrList,
  announce: parseMultiaddrList,
  join: parseMultiaddrList,
  interval: parseInterval,
  fanout: parseFanout,
  swarmKey: (raw) => raw === null ? null : str(raw),
  open: bool,
  mdns: bool,
  cluster: parseCluster,
  trustedPeers: parseTrustedPeers,
  api: parseHostPort,
  logLevel: (raw) => {
    const s = str(raw)
    if (!isLogLevel(s)) throw new Error('one of silent, error, info, debug, trace')
    return s
  },
  logJson: bool
}

export const SETTING_KEYS = Object.keys(PARSERS) as Array<keyof NodeSettings>

export function isSettingKey (k: string): k is keyof NodeSettings {
  return (SETTING_KEYS as string[]).includes(k)
}

/** ENGRAM_SWARM_KEY for swarmKey */
export function envName (key: keyof NodeSettings): string {
  return 'ENGRAM_' + key.replace(/[A-Z]/g, c => '_' + c).toUpperCase()
}

/** --swarm-key for swarmKey */
export function flagName (key: keyof NodeSettings): string {
  return '--' + key.replace(/[A-Z]/g, c => '-' + c.toLowerCase())
}

/** Parses one setting; `source` says where the value came from (it starts the error message). */
export function parseSetting<K extends keyof NodeSettings> (key: K, raw: unknown, source: string, exitCode = 1): NodeSettings[K] {
  try {
    return PARSERS[key](raw)
  } catch (err: any) {
    throw new InvalidSettingError(`${source}: ${key}: ${String(err.message)}`, exitCode)
  }
}
