import { Command, Option } from 'commander'
import { resolve } from 'node:path'
import { loadOrCreateKey } from '../../node/keys.js'
import { readSwarmKeyFile } from '../../node/swarm-key.js'
import { EngramNode } from '../../node/engram-node.js'
import { collectMultiaddr, intInRange, secondsPositive } from '../parse.js'
import { joinHint } from '../addresses.js'

export const DEFAULT_KEY = 'keys/node.key'
export const DEFAULT_DATA = './data'
export const DEFAULT_LISTEN = '/ip4/0.0.0.0/tcp/4001'

interface StartOptions {
  key: string
  data: string
  listen?: string[]
  announce?: string[]
  join?: string[]
  interval: number
  swarmKey?: string
  fanout: number
  mdns: boolean
  cluster: string
}

export function startCommand (): Command {
  return new Command('start')
    .description('start a node: listen, find the cluster through the DHT, keep patterns in sync')
    .option('--key <file>', 'libp2p private key (created on first start only when left at the default)', DEFAULT_KEY)
    .option('--data <dir>', 'data directory (LevelDB store, node files)', DEFAULT_DATA)
    .option('--listen <multiaddr>', `address to listen on, repeatable (default ${DEFAULT_LISTEN})`, collectMultiaddr)
    .option('--announce <multiaddr>', 'address to tell peers instead of the listen ones, repeatable', collectMultiaddr)
    .option('--join <multiaddr>', 'address of any cluster member, repeatable', collectMultiaddr)
    .addOption(new Option('--interval <seconds>', 'mean seconds between anti-entropy rounds (jittered)').argParser(secondsPositive).default(60))
    .option('--swarm-key <file>', 'pre-shared swarm key: only nodes with the same key can connect')
    .addOption(new Option('--fanout <n>', 'peers each local write is pushed to at once; 0 turns eager push off').argParser(intInRange(0, 64)).default(4))
    .option('--mdns', 'also discover peers on the LAN by multicast DNS (off by default)', false)
    .option('--cluster <name>', 'cluster name: nodes only rendezvous with the same name', 'engram')
    .action(async (opts: StartOptions, cmd: Command) => {
      const keyIsDefault = cmd.getOptionValueSource('key') === 'default'
      const key = await loadOrCreateKey(opts.key, { create: keyIsDefault })
      const swarmKey = opts.swarmKey !== undefined ? await readSwarmKeyFile(opts.swarmKey) : undefined
      const node = await EngramNode.create({
        dataDir: resolve(opts.data),
        privateKey: key.privateKey,
        listen: opts.listen ?? [DEFAULT_LISTEN],
        announce: opts.announce,
        join: opts.join,
        intervalMs: opts.interval * 1000,
        fanout: opts.fanout,
        swarmKey,
        mdns: opts.mdns,
        cluster: opts.cluster
      })
      await node.start()
      const out = process.stdout
      if (key.created) out.write(`created a new node key in ${opts.key} (keep it: it is this node's identity)\n`)
      out.write(`engram node started\npeer id: ${node.peerId.toString()}\nlistening on:\n`)
      for (const a of node.addresses()) out.write(`  ${a}\n`)
      out.write(`data dir: ${resolve(opts.data)} (${node.replica.count} patterns)\n`)
      out.write(`to join this node, on another machine or port run:\n  ${joinHint(node.addresses(), opts.swarmKey)}\n`)
      await waitForSignal(node)
    })
}

/** Ordered shutdown on SIGINT/SIGTERM: network and gossip first, then the store. */
async function waitForSignal (node: EngramNode): Promise<void> {
  await new Promise<void>((resolve) => {
    let stopping = false
    const onSignal = (sig: string): void => {
      if (stopping) {
        process.stderr.write(`engram: ${sig} again, exiting without a clean shutdown\n`)
        process.exit(1)
      }
      stopping = true
      process.stdout.write(`${sig} received, stopping...\n`)
      node.stop().then(() => {
        process.stdout.write('stopped\n')
        resolve()
      }, (err: Error) => {
        process.stderr.write(`engram: error while stopping: ${err.message}\n`)
        process.exitCode = 1
        resolve()
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}
