/** Picking the address other machines should use to join this node. */

function isLoopback (addr: string): boolean {
  return addr.startsWith('/ip4/127.') || addr.startsWith('/ip6/::1/')
}

import { relative, isAbsolute } from 'node:path'

/** How to invoke this CLI again: ./bin/engram from a checkout, plain `engram` when installed. */
function self (): string {
  const script = process.argv[1]
  if (script === undefined) return 'engram'
  const rel = relative(process.cwd(), script)
  return rel.startsWith('..') || isAbsolute(rel) ? 'engram' : `./${rel}`
}

/** A ready-to-paste `engram start` line for a second node joining this one. */
export function joinHint (addresses: string[], swarmKey?: string): string {
  const best = addresses.find(a => !isLoopback(a)) ?? addresses[0] ?? '<this node\'s address>'
  const port = /\/tcp\/(\d+)/.exec(best)?.[1]
  const nextPort = port !== undefined ? Number(port) + 1 : 4002
  const psk = swarmKey !== undefined ? ` --swarm-key ${swarmKey}` : ''
  const e = self()
  return `${e} key generate keys/node-2.key && ${e} start --key keys/node-2.key --data ./data-2 --listen /ip4/0.0.0.0/tcp/${nextPort} --join ${best}${psk}`
}
