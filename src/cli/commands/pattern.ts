import { Command, InvalidArgumentError, Option } from 'commander'
import type { PatternRecord } from '../../node/types.js'
import { ApiClient, addClientOptions } from '../api-client.js'
import { patternDetails, patternLine } from '../format.js'
import { collect, intInRange } from '../parse.js'
import { patternImportCommand } from './pattern-import.js'

/** Must be a number; whether it is in [0, 1] is the node's to say (one rule, one message). */
function parseNumber (value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number from 0 to 1')
  return n
}

const path = (key: string): string => `/v1/patterns/${encodeURIComponent(key)}`

function print (cmd: Command, text: string, human: () => string): void {
  process.stdout.write(cmd.opts().json === true ? text : human())
}

export function patternCommand (): Command {
  const pattern = new Command('pattern').description('read and write patterns on the running node').exitOverride()

  addClientOptions(pattern.command('put'))
    .description('create or update a pattern (a confidence is required to create one)')
    .argument('<key>', 'pattern key')
    .option('--episode <id>', 'episode id to add, repeatable', collect)
    .option('--remove-episode <id>', 'episode id to remove, repeatable', collect)
    .addOption(new Option('--confidence <0..1>', 'confidence in [0, 1]').argParser(parseNumber))
    .addOption(new Option('--summary <text>', 'short summary').conflicts('clearSummary'))
    .option('--clear-summary', 'remove the summary')
    .action(async (key: string, opts: {
      episode?: string[]
      removeEpisode?: string[]
      confidence?: number
      summary?: string
      clearSummary?: boolean
    }, cmd: Command) => {
      const body: Record<string, unknown> = {}
      if (opts.episode !== undefined) body.episodes = opts.episode
      if (opts.removeEpisode !== undefined) body.removeEpisodes = opts.removeEpisode
      if (opts.confidence !== undefined) body.confidence = opts.confidence
      if (opts.summary !== undefined) body.summary = opts.summary
      if (opts.clearSummary === true) body.summary = null
      const api = await ApiClient.forCommand(cmd)
      const { text, value } = await api.request<PatternRecord>('PUT', path(key), body)
      print(cmd, text, () => `wrote ${JSON.stringify(key)}\n${patternDetails(value)}`)
    })

  pattern.addCommand(patternImportCommand())

  addClientOptions(pattern.command('get'))
    .description('show one pattern: episodes, confidence, summary, vector clock, digest')
    .argument('<key>', 'pattern key')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const api = await ApiClient.forCommand(cmd)
      const { text, value } = await api.request<PatternRecord>('GET', path(key))
      print(cmd, text, () => patternDetails(value))
    })

  addClientOptions(pattern.command('list'))
    .description('list patterns in key order, a page at a time (deleted ones are marked)')
    .option('--prefix <p>', 'only keys starting with this')
    .addOption(new Option('--limit <n>', 'page size, 1 to 1000 [default: 100]').argParser(intInRange(1, 1000)))
    .option('--cursor <c>', 'where to continue (printed after a full page)')
    .action(async (opts: { prefix?: string, limit?: number, cursor?: string }, cmd: Command) => {
      const q = new URLSearchParams()
      if (opts.prefix !== undefined) q.set('prefix', opts.prefix)
      if (opts.limit !== undefined) q.set('limit', String(opts.limit))
      if (opts.cursor !== undefined) q.set('cursor', opts.cursor)
      const api = await ApiClient.forCommand(cmd)
      const qs = q.toString()
      const { text, value } = await api.request<{ patterns: PatternRecord[], nextCursor: string | null }>('GET', `/v1/patterns${qs === '' ? '' : '?' + qs}`)
      print(cmd, text, () => {
        if (value.patterns.length === 0) return 'no patterns\n'
        let out = value.patterns.map(p => patternLine(p) + '\n').join('')
        if (value.nextCursor !== null) {
          const prefix = opts.prefix !== undefined ? ` --prefix ${JSON.stringify(opts.prefix)}` : ''
          const limit = opts.limit !== undefined ? ` --limit ${opts.limit}` : ''
          out += `more: engram pattern list --cursor ${value.nextCursor}${prefix}${limit}\n`
        }
        return out
      })
    })

  addClientOptions(pattern.command('rm'))
    .description('delete a pattern (a tombstone stays, so peers learn of the delete)')
    .argument('<key>', 'pattern key')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const api = await ApiClient.forCommand(cmd)
      const { text } = await api.request<PatternRecord>('DELETE', path(key))
      print(cmd, text, () => `deleted ${JSON.stringify(key)} (a tombstone stays so peers learn of the delete)\n`)
    })

  return pattern
}
