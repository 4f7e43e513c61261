/**
 * The cluster secret: a pre-shared swarm key (libp2p pnet) that every member holds, so only
 * members can even connect. Private by default, like ipfs-cluster's secret: a new data dir gets
 * one (<data>/swarm.key, 0600) and the join line says how to pass it; `--open` runs an open
 * cluster on purpose, with a warning. A data dir from before cluster secrets (a store, no key)
 * stays open, with a warning naming the fix, so an upgrade never cuts a node off its cluster.
 */
import { access } from 'node:fs/promises'
import type { DataDir } from '../daemon/data-dir.js'
import { readSwarmKeyFile, writeSwarmKeyFile } from '../node/swarm-key.js'
import type { NodeSettings } from '../settings/node-settings.js'
import { CliError } from './errors.js'

export interface ClusterSecret {
  /** the key, or undefined for an open cluster */
  key: Uint8Array | undefined
  /** the file it came from: what a joining node passes as --swarm-key */
  path: string | undefined
  /** this call wrote the file (a failed start removes it) */
  created: boolean
  /** why the cluster is open: asked for (--open), or a data dir that predates secrets */
  open?: 'asked' | 'predates'
}

const exists = async (path: string): Promise<boolean> => await access(path).then(() => true, () => false)

/** The secret this node runs with, creating <data>/swarm.key for a new data dir. */
export async function resolveClusterSecret (dir: DataDir, config: Pick<NodeSettings, 'swarmKey' | 'open'>): Promise<ClusterSecret> {
  if (config.open && config.swarmKey !== null) {
    throw new CliError('--open and --swarm-key contradict each other: an open cluster has no secret (drop one of them)', 2)
  }
  if (config.swarmKey !== null) return { key: await readSwarmKeyFile(config.swarmKey), path: config.swarmKey, created: false }
  if (config.open) return { key: undefined, path: undefined, created: false, open: 'asked' }
  const path = dir.swarmKeyFile
  if (await exists(path)) return { key: await readSwarmKeyFile(path), path, created: false }
  if (await exists(dir.storeDir)) return { key: undefined, path: undefined, created: false, open: 'predates' }
  return { key: await writeSwarmKeyFile(path), path, created: true }
}

/** What the node prints about its secret (a warning for an open cluster). */
export function describeClusterSecret (secret: ClusterSecret, dir: DataDir): string {
  if (secret.open === 'asked') {
    return 'warning: open cluster (--open): any peer that can reach this node can join it and write patterns\n'
  }
  if (secret.open === 'predates') {
    return 'warning: open cluster: this data dir predates cluster secrets. To make the cluster private, write one with ' +
      `"engram key swarm ${dir.swarmKeyFile}", copy it to every member's data dir as swarm.key and restart them all (README, Security)\n`
  }
  return `cluster secret: ${secret.path ?? ''}${secret.created ? ' (created)' : ''}; a node joins only with a copy of it (--swarm-key)\n`
}
