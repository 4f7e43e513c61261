import { Command } from 'commander'
import type { NodeStatus } from '../../node/types.js'
import { ApiClient, addClientOptions } from '../api-client.js'
import { fields, roundLine } from '../format.js'

/** How many recent rounds the human output shows (--json has them all). */
const SHOWN_ROUNDS = 5

export function statusCommand (): Command {
  return addClientOptions(new Command('status'))
    .description('show the running node: PeerId, addresses, Merkle root, patterns, peers and recent rounds')
    .action(async (_opts: unknown, cmd: Command) => {
      const api = await ApiClient.forCommand(cmd)
      const { text, value: s } = await api.request<NodeStatus>('GET', '/v1/status')
      if (cmd.opts().json === true) {
        process.stdout.write(text)
        return
      }
      const inSync = s.gossipPeers.filter(p => s.peersInSync[p] === true).length
      const [first, ...rest] = s.addresses
      let out = fields([
        ['peer id', s.peerId],
        ['addresses', first ?? '-'],
        ...rest.map((a): [string, string] => ['', a]),
        ['api', api.info.url],
        ['root', s.root],
        ['patterns', String(s.patterns)],
        ['peers', `${s.connectedPeers.length} connected, ${s.gossipPeers.length} gossip, ${inSync} in sync at last exchange`]
      ])
      const rounds = s.lastRounds.slice(-SHOWN_ROUNDS)
      out += rounds.length === 0 ? 'last rounds: none yet\n' : `last rounds (newest last):\n${rounds.map(r => `  ${roundLine(r)}\n`).join('')}`
      process.stdout.write(out)
    })
}
