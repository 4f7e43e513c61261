/**
 * The CLI's client of a running node's local API. The node is found from its data dir
 * alone (api.json says where it listens, api.token holds the token), so operator commands
 * need only `--data`. Every failure becomes one clear line: not running, wrong token, or
 * the API's own message for a bad value.
 */
import { Command, Option } from 'commander'
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
  constructor (readonly dir: DataDir, readonly info: ApiInfo, private readonly token: string) {}

  /** The client of the node running on this command's --data dir. */
  static async forCommand (cmd: Command): Promise<ApiClient> {
    const dir = new DataDir(dataDirOf(cmd))
    const { info, token } = await dir.readApi()
    // api.json left behind by a node that crashed or was killed
    if (Number.isSafeInteger(info.pid) && info.pid > 0 && !isAlive(info.pid)) throw notRunning(dir, `its process ${info.pid} is gone`)
    return new ApiClient(dir, info, token)
  }

  async request<T> (method: string, path: string, body?: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ApiResult<T>> {
    const res = await this.send(method, path, body, timeoutMs, 'application/json')
    const text = await res.text()
    if (!res.ok) throw this.failure(res.status, text)
    return { text, value: JSON.parse(text) as T }
  }

  /** A GET of a non-JSON body (Prometheus text). */
  async text (path: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<string> {
    const res = await this.send('GET', path, undefined, timeoutMs, 'text/plain')
    const text = await res.text()
    if (!res.ok) throw this.failure(res.status, text)
    return text
  }

  /** An NDJSON request: calls `onLine` with each parsed line as it arrives. */
  async stream (method: string, path: string, body: unknown, onLine: (value: any) => void, timeoutMs = SYNC_TIMEOUT_MS): Promise<void> {
    const res = await this.send(method, path, body, timeoutMs, 'application/x-ndjson')
    if (!res.ok) throw this.failure(res.status, await res.text())
    if (res.body === null) return
    const decoder = new TextDecoder()
    let buffered = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true })
        let nl: number
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim()
          buffered = buffered.slice(nl + 1)
          if (line !== '') onLine(JSON.parse(line))
        }
      }
    } catch (err) {
      throw this.transportError(err, timeoutMs)
    }
    if (buffered.trim() !== '') onLine(JSON.parse(buffered))
  }

  private async send (method: string, path: string, body: unknown, timeoutMs: number, accept: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept }
    if (body !== undefined) headers['content-type'] = 'application/json'
    try {
      return await fetch(this.info.url + path, {
        method,
        headers,
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(timeoutMs)
      })
    } catch (err) {
      throw this.transportError(err, timeoutMs)
    }
  }

  private transportError (err: unknown, timeoutMs: number): Error {
    const e = err as { name?: string, message?: string, cause?: { code?: string, message?: string } }
    const code = e?.cause?.code
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
      return notRunning(this.dir, `nothing answers at ${this.info.url}`)
    }
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
      return new CliError(`the node at ${this.info.url} did not answer within ${timeoutMs / 1000} s`)
    }
    return new CliError(`cannot reach the node at ${this.info.url}: ${String(e?.cause?.message ?? e?.message ?? err)}`)
  }

  private failure (status: number, text: string): CliError {
    let message: string | undefined
    try {
      message = JSON.parse(text)?.error?.message
    } catch {}
    if (status === 401) {
      return new CliError(`the node refused the API token in ${this.dir.tokenFile} (401): ` +
        'it is not the token the node started with (restart the node to make it use this file)')
    }
    return new CliError(message ?? `the node answered ${status}: ${text.slice(0, 200)}`)
  }
}

function notRunning (dir: DataDir, why: string): NodeNotRunningError {
  return new NodeNotRunningError(`node not running on data dir ${dir.root} (${why}; start it with: engram start --data ${dir.root})`)
}
