/** Picking the address other machines should use to join this node. */

function isLoopback (addr: string): boolean {
  return addr.startsWith('/ip4/127.') || addr.startsWith('/ip6/::1/')
}

import { isAbsolute, relative, sep } from 'node:path'

/** How to invoke this CLI again: ./bin/engram from a checkout, plain `engram` when installed. */
function self (): string {
  const script = process.argv[1]
  if (script === undefined) return 'engram'
  const rel = relative(process.cwd(), script)
  return rel.startsWith('..') || isAbsolute(rel) ? 'engram' : `./${rel}`
}

/** A path as short as it can be shown to someone in this directory: ./data/swarm.key rather than the absolute path. */
function shownPath (path: string): string {
  const rel = relative(process.cwd(), path)
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : `./${rel.split(sep).join('/')}`
}

/**
 * A ready-to-paste `engram start` line for another node joining this one. The new node's
 * key and data dir are named after its port (keys/node-4002.key, ./data-4002 for port 4002),
 * so the line printed by that node in turn (port 4003) names a key and data dir of its own,
 * never its parent's.
 */
export function joinHint (addresses: string[], swarmKey?: string): string {
  const best = addresses.find(a => !isLoopback(a)) ?? addresses[0] ?? '<this node\'s address>'
  const port = /\/tcp\/(\d+)/.exec(best)?.[1]
  const nextPort = port !== undefined && Number(port) > 0 && Number(port) < 65535 ? Number(port) + 1 : 4002
  const psk = swarmKey !== undefined ? ` --swarm-key ${shownPath(swarmKey)}` : ''
  const e = self()
  const key = `keys/node-${nextPort}.key`
  // a node reachable only on loopback can only be joined from this machine: keep the new one there too
  const host = best.startsWith('/ip6/::1/') ? '/ip6/::1' : isLoopback(best) ? '/ip4/127.0.0.1' : '/ip4/0.0.0.0'
  return `${e} key generate ${key} && ${e} start --key ${key} --data ./data-${nextPort} --listen ${host}/tcp/${nextPort}${psk} --join ${best}`
}
