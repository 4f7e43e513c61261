import { Command } from 'commander'
import type { RoundReport } from '../../node/types.js'
import { ApiClient, addClientOptions, SYNC_TIMEOUT_MS } from '../api-client.js'
import { CliError } from '../errors.js'
import { progressLine, roundLine } from '../format.js'

const CLEAR_LINE = '\r\x1b[K'

/** A round that did not complete is a failure of the command. */
function checkOutcome (r: RoundReport): void {
  if (r.outcome === 'error' || r.outcome === 'timeout' || r.outcome === 'refused') {
    throw new CliError(`sync with ${r.peer} ${r.outcome === 'refused' ? 'was refused' : 'failed'}: ${r.error ?? r.outcome}`)
  }
}

/** On a terminal: stream the round and keep one live progress line. */
async function syncLive (api: ApiClient, body: { peer?: string }): Promise<RoundReport> {
  let result: RoundReport | undefined
  let failure: string | undefined
  let live = false
  await api.stream('POST', '/v1/sync?stream=1', body, (line: { progress?: RoundReport, result?: RoundReport, error?: { message: string } }) => {
    if (line.progress !== undefined) {
      process.stdout.write(CLEAR_LINE + progressLine(line.progress))
      live = true
    } else if (line.result !== undefined) {
      result = line.result
    } else if (line.error !== undefined) {
      failure = line.error.message
    }
  }, SYNC_TIMEOUT_MS)
  if (live) process.stdout.write(CLEAR_LINE)
  if (result === undefined) throw new CliError(failure ?? 'the node ended the sync without a result')
  return result
}

export function syncCommand (): Command {
  return addClientOptions(new Command('sync'))
    .description('run one anti-entropy round now, with the given peer or a random gossip peer')
    .option('--peer <id>', 'PeerId of a connected gossip peer (see engram peers)')
    .action(async (opts: { peer?: string, json?: boolean }, cmd: Command) => {
      const api = await ApiClient.forCommand(cmd)
      const body: { peer?: string } = opts.peer !== undefined ? { peer: opts.peer } : {}
      if (opts.json === true) {
        const { text, value } = await api.request<RoundReport>('POST', '/v1/sync', body, SYNC_TIMEOUT_MS)
        process.stdout.write(text)
        checkOutcome(value)
        return
      }
      const report = process.stdout.isTTY
        ? await syncLive(api, body)
        : (await api.request<RoundReport>('POST', '/v1/sync', body, SYNC_TIMEOUT_MS)).value
      checkOutcome(report)
      process.stdout.write(roundLine(report) + '\n')
    })
}
