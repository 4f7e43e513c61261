import { Command } from 'commander'
import { generateKeyFile, peerIdFromKey } from '../../node/keys.js'
import { generateSwarmKey, writeSwarmKeyFile } from '../../node/swarm-key.js'

export function keyCommand (): Command {
  const key = new Command('key').description('manage node and swarm keys')
  key.command('generate')
    .description('write a new Ed25519 libp2p private key (protobuf encoded, mode 0600)')
    .argument('<file>', 'where to write the key')
    .option('--force', 'overwrite an existing file', false)
    .action(async (file: string, opts: { force: boolean }) => {
      const privateKey = await generateKeyFile(file, { overwrite: opts.force })
      process.stdout.write(`wrote ${file}\npeer id: ${peerIdFromKey(privateKey).toString()}\n`)
    })
  key.command('swarm')
    .description('write a new swarm key (pre-shared key of a private cluster, mode 0600)')
    .argument('<file>', 'where to write the swarm key')
    .option('--force', 'overwrite an existing file', false)
    .action(async (file: string, opts: { force: boolean }) => {
      await writeSwarmKeyFile(file, { overwrite: opts.force, key: generateSwarmKey() })
      process.stdout.write(`wrote ${file}\ngive this file to every member (engram start --swarm-key ${file})\n`)
    })
  return key
}
