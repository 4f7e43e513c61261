/**
 * The node settings as command-line flags, shared by `engram start` and `engram init`.
 * Flags are kept as typed: resolveConfig parses them with the same parser as ENGRAM_*
 * variables and config.json, so every source accepts and refuses the same values.
 */
import { Command } from 'commander'
import { CONFIG_KEYS, DEFAULTS, envName, type NodeConfig } from './config.js'
import { collect } from './parse.js'
import { LOG_LEVELS } from '../settings/log-levels.js'

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
    .option('--listen <multiaddr>', 'address to listen on, repeatable' + d('listen'), collect)
    .option('--announce <multiaddr>', 'address to advertise instead of the listen ones, repeatable' + d('announce'), collect)
    .option('--join <multiaddr>', 'address of any cluster member, repeatable' + d('join'), collect)
    .option('--interval <seconds>', 'mean seconds between anti-entropy rounds (jittered ±10 %)' + d('interval'))
    .option('--swarm-key <file>', 'the cluster secret (pre-shared swarm key): only nodes with the same key can connect; ' +
      'default: <data>/swarm.key, created for a new data dir' + d('swarmKey'))
    .option('--open', 'run an open cluster, without a cluster secret: any peer that reaches the node can join and write' + d('open'))
    .option('--fanout <n>', 'peers a local write is pushed to at once: auto (ln(peers) + 7) or a number; 0 turns eager push off' + d('fanout'))
    .option('--mdns', 'also discover peers on the LAN by multicast DNS' + d('mdns'))
    .option('--cluster <name>', 'cluster name: separate DHT and rendezvous per name' + d('cluster'))
    .option('--trusted-peers <peerIds>', 'comma-separated node ids whose writes are taken (this node\'s always are); ' +
      'writes by others are refused and counted; empty: every member writes' + d('trustedPeers'))
    .option('--api <host:port>', 'local HTTP API address (keep it on loopback; port 0 picks a free one)' + d('api'))
    .option('--log-level <level>', `log verbosity: ${LOG_LEVELS.join(', ')}` + d('logLevel'))
    .option('--log-json', 'logs as JSON lines on stderr' + d('logJson'))
}

/** The settings given as flags on this command line (and only those), as typed. */
export function flagsOf (cmd: Command): Partial<Record<keyof NodeConfig, unknown>> {
  const opts = cmd.opts()
  const out: Partial<Record<keyof NodeConfig, unknown>> = {}
  for (const key of CONFIG_KEYS) {
    if (cmd.getOptionValueSource(key) === 'cli') out[key] = opts[key]
  }
  return out
}

export function dataDirOf (cmd: Command): string {
  const given = cmd.opts().data as string | undefined
  return given ?? (process.env.ENGRAM_DATA !== undefined && process.env.ENGRAM_DATA !== '' ? process.env.ENGRAM_DATA : './data')
}
