/**
 * `engram` command line. The only place that writes to the console; everything else
 * logs through the libp2p component logger (DEBUG=engram:*).
 */
import '../node/polyfill.js'
import { Command, CommanderError } from 'commander'
import { keyCommand } from './commands/key.js'
import { startCommand } from './commands/start.js'
import { initCommand } from './commands/init.js'
import { describeError } from './describe-error.js'
import { statusCommand } from './commands/status.js'
import { peersCommand } from './commands/peers.js'
import { patternCommand } from './commands/pattern.js'
import { syncCommand } from './commands/sync.js'
import { metricsCommand } from './commands/metrics.js'
import { watchCommand } from './commands/watch.js'

export function buildProgram (): Command {
  const program = new Command('engram')
    .description('Engram node: keeps consolidated memory patterns in sync across a peer-to-peer cluster')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  program.addCommand(initCommand())
  program.addCommand(startCommand())
  program.addCommand(keyCommand())
  program.addCommand(statusCommand())
  program.addCommand(peersCommand())
  program.addCommand(patternCommand())
  program.addCommand(syncCommand())
  program.addCommand(metricsCommand())
  program.addCommand(watchCommand())
  for (const c of program.commands) {
    c.exitOverride()
    for (const sub of c.commands) sub.exitOverride()
  }
  return program
}

export async function main (argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv, { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors already printed their message
      return err.exitCode === 0 ? 0 : 2
    }
    const { message, exitCode } = describeError(err)
    process.stderr.write(`engram: ${message}\n`)
    return exitCode
  }
}
