import { Command } from 'commander'
import { access } from 'node:fs/promises'
import { DataDir } from '../../daemon/data-dir.js'
import { loadOrCreateKey } from '../../node/keys.js'
import { addNodeOptions, dataDirOf, flagsOf } from '../node-options.js'
import { resolveConfig, writeConfigFile } from '../config.js'
import { CliError } from '../errors.js'
import { describeClusterSecret, resolveClusterSecret } from '../cluster-secret.js'

export function initCommand (): Command {
  return addNodeOptions(new Command('init'))
    .description('create the data dir, the node key, the cluster secret and a config file (with the settings given), without starting')
    .option('--force', 'replace an existing config.json', false)
    .action(async (_opts: unknown, cmd: Command) => {
      const dir = new DataDir(dataDirOf(cmd))
      const exists = await access(dir.configFile).then(() => true, () => false)
      if (exists && cmd.opts().force !== true) {
        throw new CliError(`${dir.configFile} already exists (use --force to replace it, or edit it)`)
      }
      const flags = flagsOf(cmd)
      // validate the whole resulting configuration now, not at the first start
      const { config } = resolveConfig(flags, {}, {})
      const given = Object.fromEntries(Object.keys(flags).map(k => [k, config[k as keyof typeof config]]))
      // a running node owns its data dir: refuse rather than change its config under it
      const unlock = await dir.lock()
      await unlock()
      const key = await loadOrCreateKey(config.key, { create: true })
      const secret = await resolveClusterSecret(dir, config)
      await writeConfigFile(dir.configFile, { ...given, key: config.key })
      await dir.token()
      const out = process.stdout
      out.write(`initialised ${dir.root}\n`)
      out.write(`key:    ${config.key} (${key.created ? 'created' : 'existing'})\n`)
      out.write(`peer id: ${key.peerId.toString()}\n`)
      out.write(describeClusterSecret(secret, dir))
      out.write(`config: ${dir.configFile}\n`)
      out.write(`start it with: engram start --data ${dir.root}\n`)
    })
}
