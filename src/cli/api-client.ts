/**
 * The CLI's client of a running node's local API: EngramClient (the package's typed client),
 * with the node found from its data dir alone (api.json says where it listens, api.token holds
 * the token), so operator commands need only `--data`. Every failure becomes one clear line:
 * not running, wrong token, or the API's own message for a bad value.
 */
import { Command, Option } from 'commander'
import { EngramClient } from '../client/engram-client.js'
import { DataDir, NodeNotRunningError, isAlive, type ApiInfo } from '../daemon/data-dir.js'
import { dataDirOf } from './node-options.js'
import { CliError } from './errors.js'

/** Plain requests; a sync round gets the session timeout plus a margin. */
const REQUEST_TIMEOUT_MS = 20_000
export const SYNC_TIMEOUT_MS = 90_000

export interface ApiResult<T> {
  /** the body exactly as the node sent it (what --json prints) */
  text: string
  value: T
}

/** Adds the options every operator command takes. */
export function addClientOptions (cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data directory of the running node [default: ./data; env ENGRAM_DATA]')
    .addOption(new Option('--json', 'print the API\'s JSON instead of the human summary'))
    .exitOverride()
}

export class ApiClient {
  readonly client: EngramClient

  constructor (readonly dir: DataDir, readonly info: ApiInfo, token: string) {
    this.client = new EngramClient({ url: info.url, token, timeoutMs: REQUEST_TIMEOUT_MS })
  }

  /** The client of the node running on this command's --data dir. */
  static async forCommand (cmd: Command): Promise<ApiClient> {
    const dir = new DataDir(dataDirOf(cmd))
    const { info, token } = await dir.readApi()
    // api.json left behind by a node that crashed or was killed
    if (Number.isSafeInteger(info.pid) && info.pid > 0 && !isAlive(info.pid)) throw notRunning(dir, `its process ${info.pid} is gone`)
    return new ApiClient(dir, info, token)
  }

  /** Runs calls of the typed client, with its errors told as the CLI tells them. */
  async call<T> (fn: (client: EngramClient) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client)
    } catch (err) {
      throw this.translate(err)
    }
  }

  async request<T> (method: string, path: string, body?: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ApiResult<T>> {
    return await this.call(async c => {
      const text = await c.raw(method, path, body, { timeoutMs })
      return { text, value: JSON.parse(text) as T }
    })
  }

  /** A GET of a non-JSON body (Prometheus text). */
  async text (path: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<string> {
    return await this.call(async c => await c.raw('GET', path, undefined, { timeoutMs }))
  }

  /** An NDJSON request: calls `onLine` with each parsed line as it arrives. */
  async stream (method: string, path: string, body: unknown, onLine: (value: any) => void, timeoutMs = SYNC_TIMEOUT_MS): Promise<void> {
    await this.call(async c => {
      for await (const line of c.rawLines(method, path, body, { timeoutMs })) onLine(line)
    })
  }

  /** One line for the operator: the node's own message, or why it cannot be reached. */
  translate (err: unknown): Error {
    const e = err as { name?: string, message?: string, status?: number, cause?: { code?: string, cause?: { code?: string } } }
    if (e?.name === 'EngramApiError') {
      if (e.status === 401) {
        return new CliError(`the node refused the API token in ${this.dir.tokenFile} (401): ` +
          'it is not the token the node started with (restart the node to make it use this file)')
      }
      return new CliError(String(e.message))
    }
    const code = e?.cause?.cause?.code ?? e?.cause?.code
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return notRunning(this.dir, `nothing answers at ${this.info.url}`)
    if (e?.name === 'EngramTimeoutError' || e?.name === 'EngramConnectionError') return new CliError(String(e.message))
    return new CliError(`cannot reach the node at ${this.info.url}: ${String(e?.message ?? err)}`)
  }
}

function notRunning (dir: DataDir, why: string): NodeNotRunningError {
  return new NodeNotRunningError(`node not running on data dir ${dir.root} (${why}; start it with: engram start --data ${dir.root})`)
}
