/**
 * Node settings from four sources, highest first:
 *   1. command-line flags            (--fanout 6)
 *   2. ENGRAM_* environment variables (ENGRAM_FANOUT=6; lists comma-separated)
 *   3. <data dir>/config.json         ({"fanout": 6}, written by `engram init`)
 *   4. built-in defaults
 * Every source goes through the same parsers (settings/node-settings.ts); a bad value
 * anywhere is an error that names its source.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { CliError } from './errors.js'
import {
  DEFAULT_SETTINGS, SETTING_KEYS, envName, flagName, isSettingKey, parseSetting, type NodeSettings
} from '../settings/node-settings.js'

export type NodeConfig = NodeSettings
export type ConfigSource = 'flag' | 'env' | 'config' | 'default'
export const DEFAULTS = DEFAULT_SETTINGS
export const CONFIG_KEYS = SETTING_KEYS
export { envName, flagName }

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
    if (!isSettingKey(k)) throw new CliError(`${path}: unknown setting "${k}" (known: ${CONFIG_KEYS.join(', ')})`)
    ;(out as any)[k] = parseSetting(k, v, path)
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

/** Where a setting's value came from, as an operator would fix it ("flag --api", "environment ENGRAM_API", ...). */
export function describeSource (key: keyof NodeConfig, source: ConfigSource, configFile = 'config.json'): string {
  switch (source) {
    case 'flag': return `flag ${flagName(key)}`
    case 'env': return `environment ${envName(key)}`
    case 'config': return `${configFile} "${key}"`
    case 'default': return `the default (change it with ${flagName(key)})`
  }
}

/**
 * Merges flags (raw values as typed), environment and file, highest first; every value
 * goes through the one parser of its setting.
 */
export function resolveConfig (flags: Partial<Record<keyof NodeConfig, unknown>>, env: NodeJS.ProcessEnv, file: Partial<NodeConfig>): Resolved {
  const config = { ...DEFAULTS }
  const sources = {} as Record<keyof NodeConfig, ConfigSource>
  for (const key of CONFIG_KEYS) {
    const envValue = env[envName(key)]
    if (flags[key] !== undefined) {
      ;(config as any)[key] = parseSetting(key, flags[key], `flag ${flagName(key)}`, 2)
      sources[key] = 'flag'
    } else if (envValue !== undefined && envValue !== '') {
      ;(config as any)[key] = parseSetting(key, envValue, `environment ${envName(key)}`)
      sources[key] = 'env'
    } else if (file[key] !== undefined) {
      ;(config as any)[key] = parseSetting(key, file[key], 'config.json')
      sources[key] = 'config'
    } else {
      sources[key] = 'default'
    }
  }
  return { config, sources }
}
