/** The node settings as command-line flags, shared by `engram start` and `engram init`. */
import { Command, Option } from 'commander'
import { CONFIG_KEYS, DEFAULTS, envName, parseHostPort, type NodeConfig } from './config.js'
import { collectMultiaddr, intInRange, secondsPositive } from './parse.js'
import { InvalidArgumentError } from 'commander'
import { LOG_LEVELS } from '../node/logging.js'
import type { Fanout } from '../node/gossip/push.js'

function fanoutArg (v: string): Fanout {
  if (v.trim() === 'auto') return 'auto'
  try {
    return intInRange(0, 64)(v)
  } catch (err: any) {
    throw new InvalidArgumentError(`${String(err.message)}, or auto`)
  }
}

function hostPort (v: string): string {
  try {
    return parseHostPort(v)
  } catch (err: any) {
    throw new InvalidArgumentError(String(err.message))
  }
}

const d = (key: keyof NodeConfig): string => {
  const v = DEFAULTS[key]
  const shown = Array.isArray(v) ? (v.length === 0 ? 'none' : v.join(',')) : v === null ? 'none' : String(v)
  return ` [default: ${shown}; env ${envName(key)}]`
}

/** Adds --data and every node setting (no commander defaults: see config.ts for precedence). */
export function addNodeOptions (cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data directory [default: ./data; env ENGRAM_DATA]')
    .option('--key <file>', 'libp2p private key file (the default one is created on first start)' + d('key'))
    .option('--listen <multiaddr>', 'address to listen on, repeatable' + d('listen'), collectMultiaddr)
    .option('--announce <multiaddr>', 'address to advertise instead of the listen ones, repeatable' + d('announce'), collectMultiaddr)
    .option('--join <multiaddr>', 'address of any cluster member, repeatable' + d('join'), collectMultiaddr)
    .addOption(new Option('--interval <seconds>', 'mean seconds between anti-entropy rounds (jittered ±10 %)' + d('interval')).argParser(secondsPositive))
    .option('--swarm-key <file>', 'pre-shared swarm key: only nodes with the same key can connect' + d('swarmKey'))
    .addOption(new Option('--fanout <n>', 'peers a local write is pushed to at once: auto (ln(peers) + 7) or a number; 0 turns eager push off' + d('fanout')).argParser(fanoutArg))
    .option('--mdns', 'also discover peers on the LAN by multicast DNS' + d('mdns'))
    .option('--cluster <name>', 'cluster name: separate DHT and rendezvous per name' + d('cluster'))
    .addOption(new Option('--api <host:port>', 'local HTTP API address (keep it on loopback)' + d('api')).argParser(hostPort))
    .addOption(new Option('--log-level <level>', 'log verbosity' + d('logLevel')).choices([...LOG_LEVELS]))
    .option('--log-json', 'logs as JSON lines on stderr' + d('logJson'))
}

/** The settings given as flags on this command line (and only those). */
export function flagsOf (cmd: Command): Partial<NodeConfig> {
  const opts = cmd.opts()
  const out: Partial<NodeConfig> = {}
  for (const key of CONFIG_KEYS) {
    if (cmd.getOptionValueSource(key) === 'cli') (out as any)[key] = opts[key]
  }
  return out
}

export function dataDirOf (cmd: Command): string {
  const given = cmd.opts().data as string | undefined
  return given ?? (process.env.ENGRAM_DATA !== undefined && process.env.ENGRAM_DATA !== '' ? process.env.ENGRAM_DATA : './data')
}
