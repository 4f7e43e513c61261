/**
 * Node settings from four sources, highest first:
 *   1. command-line flags            (--fanout 6)
 *   2. ENGRAM_* environment variables (ENGRAM_FANOUT=6; lists comma-separated)
 *   3. <data dir>/config.json         ({"fanout": 6}, written by `engram init`)
 *   4. built-in defaults
 * Every source goes through the same validation; an unknown key in config.json or a bad
 * value anywhere is an error that names its source.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { CliError } from './errors.js'
import { isLogLevel, type LogLevel } from '../node/logging.js'
import type { Fanout } from '../node/gossip/push.js'

export interface NodeConfig {
  key: string
  listen: string[]
  announce: string[]
  join: string[]
  interval: number
  fanout: Fanout
  swarmKey: string | null
  mdns: boolean
  cluster: string
  api: string
  logLevel: LogLevel
  logJson: boolean
}

export type ConfigSource = 'flag' | 'env' | 'config' | 'default'

export const DEFAULTS: NodeConfig = {
  key: 'keys/node.key',
  listen: ['/ip4/0.0.0.0/tcp/4001'],
  announce: [],
  join: [],
  interval: 60,
  fanout: 'auto',
  swarmKey: null,
  mdns: false,
  cluster: 'engram',
  api: '127.0.0.1:5480',
  logLevel: 'info',
  logJson: false
}

type Parser = (raw: unknown) => unknown

function str (raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new Error('expected a non-empty string')
  return raw
}

function ma (raw: unknown): string {
  try {
    return multiaddr(str(raw)).toString()
  } catch (err: any) {
    throw new Error(`not a multiaddr: ${String(raw)} (${String(err?.message ?? err)})`)
  }
}

function list (item: Parser): Parser {
  return (raw) => {
    const items = typeof raw === 'string' ? raw.split(',').map(s => s.trim()).filter(s => s !== '') : raw
    if (!Array.isArray(items)) throw new Error('expected a list')
    if (items.length > 64) throw new Error('at most 64 entries')
    return items.map(item)
  }
}

function number (min: number, max: number, integer: boolean): Parser {
  return (raw) => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new Error(`expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`)
    }
    return n
  }
}

function withHint (p: Parser, hint: string): Parser {
  return (raw) => {
    try {
      return p(raw)
    } catch (err: any) {
      throw new Error(String(err.message) + hint)
    }
  }
}

function bool (raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw
  if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return true
  if (typeof raw === 'string' && /^(0|false|no|off)$/i.test(raw)) return false
  throw new Error('expected true or false')
}

/** host:port for the API; host an IP literal or localhost. */
export function parseHostPort (raw: unknown): string {
  const s = str(raw)
  const m = /^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):(\d{1,5})$/.exec(s)
  if (m === null || Number(m[2]) > 65535) throw new Error(`expected host:port such as 127.0.0.1:5480, got ${s}`)
  return s
}

const PARSERS: Record<keyof NodeConfig, Parser> = {
  key: str,
  listen: list(ma),
  announce: list(ma),
  join: list(ma),
  interval: number(0.05, 86_400, false),
  fanout: (raw) => raw === 'auto' ? 'auto' : withHint(number(0, 64, true), ', or auto')(raw),
  swarmKey: (raw) => raw === null ? null : str(raw),
  mdns: bool,
  cluster: (raw) => {
    const s = str(raw)
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(s)) throw new Error('letters, digits, . _ - only, at most 64')
    return s
  },
  api: parseHostPort,
  logLevel: (raw) => {
    const s = str(raw)
    if (!isLogLevel(s)) throw new Error('one of silent, error, info, debug, trace')
    return s
  },
  logJson: bool
}

export const CONFIG_KEYS = Object.keys(PARSERS) as Array<keyof NodeConfig>

export function envName (key: keyof NodeConfig): string {
  return 'ENGRAM_' + key.replace(/[A-Z]/g, c => '_' + c).toUpperCase()
}

function parseField (key: keyof NodeConfig, raw: unknown, source: string): unknown {
  try {
    return PARSERS[key](raw)
  } catch (err: any) {
    throw new CliError(`${source}: ${key}: ${String(err.message)}`)
  }
}

export async function readConfigFile (path: string): Promise<Partial<NodeConfig>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    if (err.code === 'ENOENT') return {}
    throw new CliError(`cannot read ${path}: ${String(err.message)}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err: any) {
    throw new CliError(`${path} is not valid JSON: ${String(err.message)}`)
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CliError(`${path}: expected a JSON object`)
  const out: Partial<NodeConfig> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (!(CONFIG_KEYS as string[]).includes(k)) throw new CliError(`${path}: unknown setting "${k}" (known: ${CONFIG_KEYS.join(', ')})`)
    ;(out as any)[k] = parseField(k as keyof NodeConfig, v, path)
  }
  return out
}

export async function writeConfigFile (path: string, config: Partial<NodeConfig>): Promise<void> {
  await writeFile(path, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
}

export interface Resolved {
  config: NodeConfig
  sources: Record<keyof NodeConfig, ConfigSource>
}

/** Merges flags (already parsed by commander), environment and file, highest first. */
export function resolveConfig (flags: Partial<NodeConfig>, env: NodeJS.ProcessEnv, file: Partial<NodeConfig>): Resolved {
  const config = { ...DEFAULTS }
  const sources = {} as Record<keyof NodeConfig, ConfigSource>
  for (const key of CONFIG_KEYS) {
    const envValue = env[envName(key)]
    if (flags[key] !== undefined) {
      ;(config as any)[key] = flags[key]
      sources[key] = 'flag'
    } else if (envValue !== undefined && envValue !== '') {
      ;(config as any)[key] = parseField(key, envValue, `environment ${envName(key)}`)
      sources[key] = 'env'
    } else if (file[key] !== undefined) {
      ;(config as any)[key] = file[key]
      sources[key] = 'config'
    } else {
      sources[key] = 'default'
    }
  }
  return { config, sources }
}
