import { Command } from 'commander'
import { DataDir } from '../../node/data-dir.js'
import type { EngramNode } from '../../node/engram-node.js'
import { readConfigFile, resolveConfig } from '../config.js'
import { addNodeOptions, dataDirOf, flagsOf } from '../node-options.js'
import { joinHint } from '../addresses.js'

function splitHostPort (s: string): { host: string, port: number } {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) }
}

function isLoopbackHost (host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1'
}

export function startCommand (): Command {
  return addNodeOptions(new Command('start'))
    .description('start a node: listen, find the cluster through the DHT, keep patterns in sync, serve the local API')
    .action(async (_opts: unknown, cmd: Command) => {
      // listen for signals before anything else: a SIGTERM during start-up then means
      // "stop as soon as started", never the default (an abrupt exit)
      const stopRequested = onStopSignal()
      const dir = new DataDir(dataDirOf(cmd))
      const { config, sources } = resolveConfig(flagsOf(cmd), process.env, await readConfigFile(dir.configFile))
      // the node's modules (libp2p and all) load only here, so client commands start fast
      const [{ loadOrCreateKey }, { readSwarmKeyFile }, { EngramNode }, { configureLogging }, { createNodeMetrics }, { startApiServer }, { statusPage }] = await Promise.all([
        import('../../node/keys.js'), import('../../node/swarm-key.js'), import('../../node/engram-node.js'), import('../../node/logging.js'),
        import('../../node/metrics.js'), import('../../api/server.js'), import('../../api/status-page.js')
      ])
      configureLogging({ level: config.logLevel, json: config.logJson })
      const unlock = await dir.lock()
      try {
        // only the default key is created implicitly; a named one must exist
        const key = await loadOrCreateKey(config.key, { create: sources.key === 'default' })
        const swarmKey = config.swarmKey !== null ? await readSwarmKeyFile(config.swarmKey) : undefined
        const node = await EngramNode.create({
          dataDir: dir.root,
          privateKey: key.privateKey,
          listen: config.listen,
          announce: config.announce,
          join: config.join,
          intervalMs: config.interval * 1000,
          fanout: config.fanout,
          swarmKey,
          mdns: config.mdns,
          cluster: config.cluster
        })
        const metrics = createNodeMetrics(node)
        let api: { url: string, close: () => Promise<void> } | undefined
        try {
          await node.start()
          const { host, port } = splitHostPort(config.api)
          api = await startApiServer({ node, host, port, token: await dir.token(), metrics, statusPage })
          await dir.writeApiInfo({ url: api.url, pid: process.pid, peerId: node.peerId.toString() })
          printStarted(node, dir, api.url, key.created ? config.key : undefined, config.swarmKey, isLoopbackHost(host))
          await stopRequested
        } finally {
          // ordered: stop taking requests, stop gossip and the network, close the store
          await api?.close().catch(() => {})
          await dir.removeApiInfo()
          metrics.close()
          await node.stop()
          process.stdout.write('stopped\n')
        }
      } finally {
        await unlock()
      }
    })
}

function printStarted (node: EngramNode, dir: DataDir, apiUrl: string, createdKey: string | undefined, swarmKey: string | null, apiOnLoopback: boolean): void {
  const out = process.stdout
  if (createdKey !== undefined) out.write(`created a new node key in ${createdKey} (keep it: it is this node's identity)\n`)
  out.write(`engram node started\npeer id: ${node.peerId.toString()}\nlistening on:\n`)
  for (const a of node.addresses()) out.write(`  ${a}\n`)
  out.write(`data dir: ${dir.root} (${node.replica.count} patterns)\n`)
  const report = node.replica.openReport
  if (report.rebuilt) out.write(`store repaired: index rebuilt (${report.reason ?? 'root mismatch'}); ${report.quarantined.length} unreadable records quarantined\n`)
  out.write(`api: ${apiUrl} (token in ${dir.tokenFile}; status page: ${apiUrl}/)\n`)
  if (!apiOnLoopback) out.write('warning: the API listens beyond loopback; anyone who can reach it needs only the token\n')
  out.write(`to join this node, on another machine or port run:\n  ${joinHint(node.addresses(), swarmKey ?? undefined)}\n`)
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
function onStopSignal (): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false
    const onSignal = (sig: string): void => {
      if (stopping) {
        process.stderr.write(`engram: ${sig} again, exiting without a clean shutdown\n`)
        process.exit(1)
      }
      stopping = true
      process.stdout.write(`${sig} received, stopping...\n`)
      resolve()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}
