/**
 * The data directory: one place for everything a node keeps (the key lives apart, in
 * keys/). Layout:
 *   store/        LevelDB (patterns, index, counter, remembered peers)
 *   config.json   settings written by `engram init` (see config.ts for precedence)
 *   api.token     bearer token of the local API (0600, created at first start)
 *   api.json      where the running node's API listens {url, pid, peerId} (removed at stop)
 *   engram.lock   held by the running node: a second process on the same dir fails
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { constants as fsc } from 'node:fs'
import { join, resolve } from 'node:path'

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
}

export class NodeNotRunningError extends Error {
  override name = 'NodeNotRunningError'
}

export interface ApiInfo {
  url: string
  pid: number
  peerId: string
}

export class DataDir {
  readonly root: string
  constructor (dir: string) {
    this.root = resolve(dir)
  }

  get storeDir (): string { return join(this.root, 'store') }
  get configFile (): string { return join(this.root, 'config.json') }
  get tokenFile (): string { return join(this.root, 'api.token') }
  get apiFile (): string { return join(this.root, 'api.json') }
  get lockFile (): string { return join(this.root, 'engram.lock') }
  /** the cluster secret a new data dir gets (cli/cluster-secret.ts) */
  get swarmKeyFile (): string { return join(this.root, 'swarm.key') }

  async ensure (): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 })
  }

  /** The API token, created (0600) if there is none yet. */
  async token (): Promise<string> {
    try {
      const t = (await readFile(this.tokenFile, 'utf8')).trim()
      if (t.length >= 16) return t
    } catch (err: any) {
      if (err.code !== 'ENOENT') throw err
    }
    const t = randomBytes(24).toString('base64url')
    await writeFile(this.tokenFile, t + '\n', { mode: 0o600 })
    await chmod(this.tokenFile, 0o600)
    return t
  }

  async writeApiInfo (info: ApiInfo): Promise<void> {
    await writeFile(this.apiFile, JSON.stringify(info) + '\n', { mode: 0o600 })
  }

  async removeApiInfo (): Promise<void> {
    await rm(this.apiFile, { force: true })
  }

  /** Where the node of this data dir serves its API, with the token to use it. */
  async readApi (): Promise<{ info: ApiInfo, token: string }> {
    let info: ApiInfo
    try {
      info = JSON.parse(await readFile(this.apiFile, 'utf8'))
    } catch (err: any) {
      if (err.code === 'ENOENT') throw new NodeNotRunningError(`no node is running on data dir ${this.root} (start one with: engram start --data ${this.root})`)
      throw new NodeNotRunningError(`cannot read ${this.apiFile}: ${String(err.message)}`)
    }
    if (typeof info?.url !== 'string') throw new NodeNotRunningError(`${this.apiFile} is malformed; restart the node`)
    let token: string
    try {
      token = (await readFile(this.tokenFile, 'utf8')).trim()
    } catch {
      throw new NodeNotRunningError(`no API token in ${this.tokenFile}; restart the node`)
    }
    return { info, token }
  }

  /**
   * Takes the data dir's lock (O_EXCL lock file with our pid). A lock left by a dead
   * process is taken over; one held by a live process is an error naming it.
   */
  async lock (): Promise<() => Promise<void>> {
    await this.ensure()
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(this.lockFile, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600)
        await fh.writeFile(`${process.pid}\n`)
        await fh.close()
        return async () => { await rm(this.lockFile, { force: true }) }
      } catch (err: any) {
        if (err.code !== 'EEXIST') throw err
      }
      const holder = Number.parseInt(await readFile(this.lockFile, 'utf8').catch(() => ''), 10)
      if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DataDirLockedError(`data dir ${this.root} is in use by another engram process (pid ${holder}); stop it first or use another --data`)
      }
      // stale: its process is gone (crash, SIGKILL); a lock younger than 2 s may be mid-write
      const age = Date.now() - (await stat(this.lockFile).catch(() => ({ mtimeMs: 0 }))).mtimeMs
      if (!Number.isSafeInteger(holder) && age < 2000) {
        await new Promise(resolve => setTimeout(resolve, 200))
        continue
      }
      await rm(this.lockFile, { force: true })
    }
    throw new DataDirLockedError(`could not take the lock ${this.lockFile}`)
  }
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err.code === 'EPERM'
  }
}
