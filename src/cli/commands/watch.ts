import { Command } from 'commander'
import type { ChangeRecord } from '../../node/types.js'
import { ApiClient, addClientOptions } from '../api-client.js'
import { CliError } from '../errors.js'
import { shortId } from '../format.js'

function parseSince (v: string): number | 'now' {
  if (v === 'now') return 'now'
  if (!/^\d{1,16}$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new CliError(`--since must be a seq (a whole number ≥ 0) or now, got ${JSON.stringify(v)}`)
  }
  return Number(v)
}

export function changeLine (c: ChangeRecord): string {
  const from = c.peer !== null ? ` from ${shortId(c.peer)}` : ''
  const p = c.pattern
  const what = p.deleted ? 'deleted' : `confidence ${p.confidence}, ${p.episodes.length} episode${p.episodes.length === 1 ? '' : 's'}`
  return `${c.seq}\t${c.origin}${from}\t${c.key}\t${what}`
}

export function watchCommand (): Command {
  return addClientOptions(new Command('watch'))
    .description('print the node\'s changes as they happen (its change feed); resumes after a seq with --since')
    .option('--prefix <p>', 'only keys starting with this')
    .option('--since <seq>', 'the last seq already seen: print every change after it (0: the whole feed); default: now')
    .option('--no-follow', 'print the changes after --since and exit, instead of waiting for new ones')
    .action(async (opts: { prefix?: string, since?: string, json?: boolean, follow: boolean }, cmd: Command) => {
      const since = parseSince(opts.since ?? 'now')
      const api = await ApiClient.forCommand(cmd)
      const print = (c: ChangeRecord): void => { process.stdout.write(opts.json === true ? JSON.stringify(c) + '\n' : changeLine(c) + '\n') }
      if (!opts.follow) {
        // page by page to the end of the feed as it is now
        for (let from: number | 'now' = since, more = true; more;) {
          const page = await api.call(async c => await c.changes({ since: from, limit: 1000, ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}) }))
          page.changes.forEach(print)
          from = page.last
          more = page.more
        }
        return
      }
      const stop = new AbortController()
      const onSignal = (): void => stop.abort()
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      let last: number | 'now' = since
      try {
        const feed = api.client.watch({
          since,
          signal: stop.signal,
          ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
          onReconnect: (err, attempt) => {
            if (attempt === 1) process.stderr.write(`engram: lost the node's feed (${api.translate(err).message}); reconnecting from seq ${String(last)}\n`)
          }
        })
        for await (const c of feed) {
          last = c.seq
          print(c)
        }
      } catch (err) {
        throw api.translate(err)
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
    })
}
