import { Command } from 'commander'
import { access, rm, rmdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { DataDir } from '../../daemon/data-dir.js'
import type { EngramNodePort, NodeStatus } from '../../node/types.js'
import type { ApiServer } from '../../api/server.js'
import { describeSource, readConfigFile, resolveConfig, type Resolved } from '../config.js'
import { addNodeOptions, dataDirOf, flagsOf } from '../node-options.js'
import { joinHint } from '../addresses.js'
import { checkListenAddrs } from '../preflight.js'
import { CliError } from '../errors.js'
import { splitHostPort } from '../../settings/node-settings.js'

function isLoopbackHost (host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1'
}

/** What a start made so far, so a failed one can take it all back. */
interface Undo {
  dataDirCreated: boolean
  /** the outermost directory this start created for the data dir (the data dir or an ancestor) */
  dataDirTop?: string
  keyCreated?: string
  /** a cluster secret this start wrote */
  swarmKeyCreated?: string
  /** the outermost directory this start created for a new key file, if any */
  keyDirTop?: string
  unlock?: () => Promise<void>
  node?: EngramNodePort
  metrics?: { close: () => void }
  api?: ApiServer
}

export function startCommand (): Command {
  return addNodeOptions(new Command('start'))
    .description('start a node: listen, find the cluster through the DHT, keep patterns in sync, serve the local API')
    .action(async (_opts: unknown, cmd: Command) => {
      // listen for signals before anything else: a SIGTERM during start-up then means
      // "stop as soon as started", never the default (an abrupt exit)
      const stopRequested = onStopSignal()
      const dir = new DataDir(dataDirOf(cmd))
      // every setting is checked before anything is created
      const resolved = resolveConfig(flagsOf(cmd), process.env, await readConfigFile(dir.configFile))
      const dataDirTop = await outermostMissing(dir.root)
      const undo: Undo = { dataDirCreated: dataDirTop !== undefined, dataDirTop }
      let started = false
      try {
        const node = await startNode(dir, resolved, undo)
        started = true
        await stopRequested
        await stopInOrder(dir, undo, node)
      } catch (err) {
        if (!started) await rollBack(dir, undo)
        throw err
      } finally {
        await undo.unlock?.()
      }
    })
}

async function startNode (dir: DataDir, { config, sources }: Resolved, undo: Undo): Promise<EngramNodePort> {
  // the node's modules (libp2p and all) load only here, so client commands start fast
  const [
    { loadOrCreateKey }, { resolveClusterSecret, describeClusterSecret }, { EngramNode }, { configureLogging }, { createNodeMetrics },
    { startApiServer }, { statusPage }
  ] = await Promise.all([
    import('../../node/keys.js'), import('../cluster-secret.js'), import('../../node/engram-node.js'), import('../../daemon/logging.js'),
    import('../../daemon/metrics.js'), import('../../api/server.js'), import('../../api/status-page.js')
  ])
  configureLogging({ level: config.logLevel, json: config.logJson })
  undo.unlock = await dir.lock()
  // only the default key is created implicitly; a named one must exist
  const keyDirTop = await outermostMissing(dirname(config.key))
  const key = await loadOrCreateKey(config.key, { create: sources.key === 'default' })
  if (key.created) {
    undo.keyCreated = config.key
    undo.keyDirTop = keyDirTop
  }
  const secret = await resolveClusterSecret(dir, config)
  if (secret.created) undo.swarmKeyCreated = secret.path
  await checkListenAddrs(config.listen, describeSource('listen', sources.listen))
  const node: EngramNodePort = await EngramNode.create({
    dataDir: dir.root,
    privateKey: key.privateKey,
    listen: config.listen,
    announce: config.announce,
    join: config.join,
    intervalMs: config.interval * 1000,
    fanout: config.fanout,
    swarmKey: secret.key,
    mdns: config.mdns,
    cluster: config.cluster,
    ...(config.trustedPeers.length > 0 ? { trustedPeers: config.trustedPeers } : {})
  })
  undo.node = node
  const metrics = createNodeMetrics(node)
  undo.metrics = metrics
  // the API binds before the node goes on the network: a taken port fails the start cleanly
  const { host, port } = splitHostPort(config.api)
  const token = await dir.token()
  const bind = async (p: number): Promise<ApiServer> => await startApiServer({ node, host, port: p, token, metrics, statusPage })
  let apiFellBack = false
  try {
    undo.api = await bind(port)
  } catch (err: any) {
    const from = describeSource('api', sources.api)
    if (err?.code !== 'EADDRINUSE') {
      throw new CliError(`cannot serve the API on ${config.api} (${String(err?.code ?? err?.message)}; from ${from}): pick another with --api host:port`)
    }
    // the default port is a convenience, not a promise: a second node on the machine takes a free one
    if (sources.api !== 'default') {
      throw new CliError(`API address ${config.api} (from ${from}) is in use by another process (another engram node?): ` +
        `pick another with --api ${host}:0 (any free port) or --api ${host}:<port>`)
    }
    undo.api = await bind(0)
    apiFellBack = true
  }
  const api = undo.api
  await node.start()
  const status = await node.status()
  await dir.writeApiInfo({ url: api.url, pid: process.pid, peerId: status.peerId })
  printStarted(node, status, dir, api.url, key.created ? config.key : undefined, secret.path, describeClusterSecret(secret, dir),
    isLoopbackHost(host), apiFellBack)
  return node
}

/** Ordered: stop taking requests, stop gossip and the network, close the store. */
async function stopInOrder (dir: DataDir, undo: Undo, node: EngramNodePort): Promise<void> {
  await undo.api?.close().catch(() => {})
  await dir.removeApiInfo()
  undo.metrics?.close()
  await node.stop()
  process.stdout.write('stopped\n')
}

/** A failed start leaves nothing behind: no API, no network, no new data dir, no new key. */
async function rollBack (dir: DataDir, undo: Undo): Promise<void> {
  await undo.api?.close().catch(() => {})
  undo.metrics?.close()
  await undo.node?.stop().catch(() => {})
  if (undo.unlock !== undefined) await dir.removeApiInfo().catch(() => {})
  if (undo.dataDirCreated && undo.unlock !== undefined) {
    await undo.unlock()
    undo.unlock = undefined
    await rm(dir.root, { recursive: true, force: true })
    if (undo.dataDirTop !== undefined) await removeEmptyDirs(dirname(dir.root), undo.dataDirTop)
  }
  if (undo.swarmKeyCreated !== undefined) await rm(undo.swarmKeyCreated, { force: true })
  if (undo.keyCreated !== undefined) {
    await rm(undo.keyCreated, { force: true })
    // the key's directory too (keys/), when this start made it and it is empty now
    if (undo.keyDirTop !== undefined) await removeEmptyDirs(dirname(undo.keyCreated), undo.keyDirTop)
  }
}

/** The outermost of `path` and its ancestors that does not exist yet; undefined when `path` exists. */
async function outermostMissing (path: string): Promise<string | undefined> {
  let missing: string | undefined
  for (let p = resolve(path); !await access(p).then(() => true, () => false); p = dirname(p)) {
    missing = p
    if (dirname(p) === p) break
  }
  return missing
}

/** Removes `dir` and its ancestors up to `top` while they are empty (rmdir never removes content). */
async function removeEmptyDirs (dir: string, top: string): Promise<void> {
  const last = resolve(top)
  for (let d = resolve(dir); d.startsWith(last); d = dirname(d)) {
    if (!await rmdir(d).then(() => true, () => false)) return
    if (d === last || dirname(d) === d) return
  }
}

function printStarted (
  node: EngramNodePort, status: NodeStatus, dir: DataDir, apiUrl: string, createdKey: string | undefined,
  swarmKeyPath: string | undefined, secretLine: string,
  apiOnLoopback: boolean, apiFellBack: boolean
): void {
  const out = process.stdout
  if (createdKey !== undefined) out.write(`created a new node key in ${createdKey} (keep it: it is this node's identity)\n`)
  out.write(`engram node started\npeer id: ${status.peerId}\nlistening on:\n`)
  for (const a of status.addresses) out.write(`  ${a}\n`)
  out.write(`data dir: ${dir.root} (${status.patterns} patterns)\n`)
  const report = node.openReport
  if (report.rebuilt) {
    out.write(`store repaired: index rebuilt (${report.reason ?? 'root mismatch'}); ${report.quarantined.length} unreadable records quarantined\n`)
  }
  out.write(`api: ${apiUrl} (token in ${dir.tokenFile}; status page: ${apiUrl}/)\n`)
  if (apiFellBack) {
    out.write('api: the default port was taken (another node?), so this node took a free one; ' +
      `engram commands with --data ${dir.root} find it in ${dir.apiFile}\n`)
  }
  if (!apiOnLoopback) out.write('warning: the API listens beyond loopback; anyone who can reach it needs only the token\n')
  out.write(secretLine)
  out.write(`to join this node, on another machine or port run:\n  ${joinHint(status.addresses, swarmKeyPath)}\n`)
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
