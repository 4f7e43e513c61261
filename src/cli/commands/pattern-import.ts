/**
 * `engram pattern import <file|->`: bulk writes from NDJSON, one pattern per line:
 *   {"key": "topic/1", "episodes": ["e1"], "confidence": 0.8, "summary": "..."}
 * The input is read as a stream and sent in chunks, each one atomic batch, so memory stays
 * at a chunk whatever the size of the input. A file is checked for shape first (a bad line
 * stops the import before anything is written); stdin can be read only once, so a bad line
 * there stops the import after the chunks before it, and the error says how many are written.
 */
import { Command, Option } from 'commander'
import { createReadStream } from 'node:fs'
import { decodeUtf8, isWellFormedText } from '../../core/bytes.js'
import { JsonText } from '../../client/json-text.js'
import { ApiClient, addClientOptions } from '../api-client.js'
import { CliError } from '../errors.js'
import { intInRange } from '../parse.js'

const MAX_LINE = 1024 * 1024
/** requests in flight: two keep the node busy while the next chunk is read (it applies them in turn) */
const PIPELINE = 2

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

/** One input line that holds a pattern: its line number and its JSON text. */
interface Line {
  n: number
  text: string
}

/**
 * The input's patterns, one line at a time (memory: one line); a line that is not one stops it,
 * named by its number. `checked`: the lines were checked by an earlier pass (a file is read
 * twice), so they are only decoded, not parsed again; the node checks every pattern anyway.
 */
async function * readItems (file: string, checked = false): AsyncGenerator<Line> {
  const input = file === '-' ? process.stdin : createReadStream(file)
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
      if (checked) {
        yield { n, text: line }
        continue
      }
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
      yield { n, text: line }
    }
  } catch (err: any) {
    if (err.code === 'ENOENT') throw new CliError(`${file}: no such file`)
    throw err
  } finally {
    if (file !== '-') (input as ReturnType<typeof createReadStream>).destroy()
  }
}

/** Counts the patterns of a file, checking every line, before anything is sent (a file can be read twice; stdin cannot). */
async function checkFile (file: string): Promise<number> {
  let count = 0
  const lines = readItems(file)
  while ((await lines.next()).done !== true) count++
  return count
}

/** A progress line on a terminal (stderr), at most a few times a second; nothing when stderr is not a terminal. */
function progress (total: number | undefined): { update: (done: number) => void, end: () => void } {
  if (process.stderr.isTTY !== true) return { update: () => {}, end: () => {} }
  const t0 = performance.now()
  let last = 0
  const show = (done: number): void => {
    const rate = done / Math.max(0.001, (performance.now() - t0) / 1000)
    process.stderr.write(`\rimported ${done}${total === undefined ? '' : ` of ${total}`} patterns (${Math.round(rate)}/s)`)
  }
  return {
    update: done => {
      if (performance.now() - last < 250) return
      last = performance.now()
      show(done)
    },
    end: () => { if (last > 0) process.stderr.write('\n') }
  }
}

export function patternImportCommand (): Command {
  return addClientOptions(new Command('import'))
    .description('bulk create/update patterns from NDJSON (one {"key", "episodes", "confidence", "summary"} per line; - reads stdin)')
    .argument('<file>', 'NDJSON file, or - for stdin')
    .addOption(new Option('--chunk <n>', 'patterns per request (each an atomic batch)').argParser(intInRange(1, 1000)).default(500))
    .action(async (file: string, opts: { chunk: number }, cmd: Command) => {
      // a file is checked whole first, so a bad line stops the import before anything is written
      const total = file === '-' ? undefined : await checkFile(file)
      const api = await ApiClient.forCommand(cmd)
      const shown = progress(total)
      let written = 0
      let root = ''
      let rootOf = -1
      let chunk: Line[] = []
      let sent = 0
      const failures: Array<{ at: number, lines: Line[], err: Error }> = []
      // PIPELINE chunks in flight: the node stores one while the next is parsed and sent
      const inFlight = new Set<Promise<void>>()
      const send = async (): Promise<void> => {
        const lines = chunk
        const at = sent++
        chunk = []
        // the lines' own JSON text: each was parsed once already, and the node parses them again
        const body = new JsonText(`{"patterns":[${lines.map(l => l.text).join(',')}]}`)
        const p = api.request<{ written: number, root: string }>('POST', '/v1/patterns', body).then(({ value }) => {
          written += value.written
          if (at > rootOf) [root, rootOf] = [value.root, at]
          shown.update(written)
        }, (err: Error) => { failures.push({ at, lines, err }) }).finally(() => inFlight.delete(p))
        inFlight.add(p)
        while (inFlight.size >= PIPELINE) await Promise.race(inFlight)
        if (failures.length > 0) await failed()
      }
      /** Stops at the first chunk refused, once the ones in flight have landed, saying exactly what is written. */
      const failed = async (): Promise<never> => {
        await Promise.all(inFlight)
        const first = failures.sort((x, y) => x.at - y.at)[0] as { lines: Line[], err: Error }
        throw new CliError(`${first.err.message} (lines ${first.lines[0]?.n ?? 0}-${first.lines.at(-1)?.n ?? 0}, not written; ` +
          `${written} patterns are written${failures.length > 1 || sent > 1 ? ', each chunk whole or not at all' : ''})`)
      }
      const lines = readItems(file, file !== '-')
      try {
        for (;;) {
          let next: IteratorResult<Line>
          try {
            next = await lines.next()
          } catch (err) {
            // stdin is read once: a bad line there stops the import after the chunks before it
            if (file === '-' && err instanceof CliError) {
              await Promise.all(inFlight)
              if (failures.length > 0) await failed()
              throw new CliError(`${err.message} (the first ${written} patterns are written, none after them)`)
            }
            throw err
          }
          if (next.done === true) break
          chunk.push(next.value)
          if (chunk.length >= opts.chunk) await send()
        }
        if (chunk.length > 0) await send()
        await Promise.all(inFlight)
        if (failures.length > 0) await failed()
      } finally {
        shown.end()
      }
      const result = { written, root }
      process.stdout.write(cmd.opts().json === true ? JSON.stringify(result) + '\n' : `imported ${written} patterns (root ${root.slice(0, 16)}…)\n`)
    })
}
