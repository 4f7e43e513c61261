/**
 * `engram pattern import <file|->`: bulk writes from NDJSON, one pattern per line:
 *   {"key": "topic/1", "episodes": ["e1"], "confidence": 0.8, "summary": "..."}
 * The whole input is parsed and checked for shape first (a bad line stops the import
 * before anything is written), then sent in chunks; each chunk is one atomic batch.
 */
import { Command, Option } from 'commander'
import { createReadStream } from 'node:fs'
import { decodeUtf8, isWellFormedText } from '../../core/bytes.js'
import { ApiClient, addClientOptions } from '../api-client.js'
import { CliError } from '../errors.js'
import { intInRange } from '../parse.js'

const MAX_LINE = 1024 * 1024

/** The input's lines as raw bytes, so that invalid UTF-8 is seen (a text reader would replace it). */
async function * rawLines (input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0)
  for await (const chunk of input) {
    rest = rest.length === 0 ? chunk : Buffer.concat([rest, chunk])
    let nl: number
    while ((nl = rest.indexOf(0x0a)) >= 0) {
      yield rest.subarray(0, nl)
      rest = rest.subarray(nl + 1)
    }
    // a line this long is refused anyway: stop buffering it
    if (rest.length > MAX_LINE) {
      yield rest
      return
    }
  }
  if (rest.length > 0) yield rest
}

/** A lone surrogate (JSON's "\ud800") in any string of the item: the node would refuse it. */
function hasIllFormedText (v: unknown): boolean {
  if (typeof v === 'string') return !isWellFormedText(v)
  if (Array.isArray(v)) return v.some(hasIllFormedText)
  if (v !== null && typeof v === 'object') return Object.entries(v).some(([k, x]) => hasIllFormedText(k) || hasIllFormedText(x))
  return false
}

async function readItems (file: string): Promise<Array<Record<string, unknown>>> {
  const input = file === '-' ? process.stdin : createReadStream(file)
  const items: Array<Record<string, unknown>> = []
  let n = 0
  try {
    for await (const bytes of rawLines(input)) {
      n++
      if (bytes.length > MAX_LINE) throw new CliError(`${file}:${n}: line longer than ${MAX_LINE} bytes`)
      let line: string
      try {
        line = decodeUtf8(bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes)
      } catch {
        throw new CliError(`${file}:${n}: not valid UTF-8`)
      }
      if (line.trim() === '') continue
      let v: unknown
      try {
        v = JSON.parse(line)
      } catch (err: any) {
        throw new CliError(`${file}:${n}: not JSON (${String(err.message)})`)
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v) || typeof (v as any).key !== 'string') {
        throw new CliError(`${file}:${n}: expected an object with a "key"`)
      }
      if (hasIllFormedText(v)) throw new CliError(`${file}:${n}: a string is not well-formed Unicode (it holds a lone surrogate)`)
      items.push(v as Record<string, unknown>)
    }
  } catch (err: any) {
    if (err.code === 'ENOENT') throw new CliError(`${file}: no such file`)
    throw err
  }
  return items
}

export function patternImportCommand (): Command {
  return addClientOptions(new Command('import'))
    .description('bulk create/update patterns from NDJSON (one {"key", "episodes", "confidence", "summary"} per line; - reads stdin)')
    .argument('<file>', 'NDJSON file, or - for stdin')
    .addOption(new Option('--chunk <n>', 'patterns per request (each an atomic batch)').argParser(intInRange(1, 1000)).default(500))
    .action(async (file: string, opts: { chunk: number }, cmd: Command) => {
      const items = await readItems(file)
      const api = await ApiClient.forCommand(cmd)
      let written = 0
      let root = ''
      for (let i = 0; i < items.length; i += opts.chunk) {
        const chunk = items.slice(i, i + opts.chunk)
        try {
          const { value } = await api.request<{ written: number, root: string }>('POST', '/v1/patterns', { patterns: chunk })
          written += value.written
          root = value.root
        } catch (err: any) {
          throw new CliError(`${String(err.message)} (the ${written} patterns before this chunk are written)`)
        }
      }
      const result = { written, root }
      process.stdout.write(cmd.opts().json === true ? JSON.stringify(result) + '\n' : `imported ${written} patterns (root ${root.slice(0, 16)}…)\n`)
    })
}
