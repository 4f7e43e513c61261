import { Command } from 'commander'
import type { PeerInfo } from '../../node/types.js'
import { ApiClient, addClientOptions } from '../api-client.js'
import { yesNo } from '../format.js'

export function peersCommand (): Command {
  return addClientOptions(new Command('peers'))
    .description('list connected peers: addresses, whether each speaks gossip, and in sync at the last exchange')
    .action(async (_opts: unknown, cmd: Command) => {
      const api = await ApiClient.forCommand(cmd)
      const { text, value } = await api.request<{ peers: PeerInfo[] }>('GET', '/v1/peers')
      if (cmd.opts().json === true) {
        process.stdout.write(text)
        return
      }
      if (value.peers.length === 0) {
        process.stdout.write('no peers connected\n')
        return
      }
      let out = `${value.peers.length} peer${value.peers.length === 1 ? '' : 's'} connected\n`
      for (const p of value.peers) {
        out += `${p.peerId}  gossip: ${yesNo(p.gossip)}  in sync: ${yesNo(p.inSync)}\n`
        for (const a of p.addresses) out += `  ${a}\n`
      }
      process.stdout.write(out)
    })
}
