/**
 * Runs one benchmark section in a process of its own (forked by bench/run.ts) and sends its
 * result back: no section runs in a heap, JIT state or event loop another one left behind
 * (a 1M-pattern diff leaves a large heap to collect; the bulk pull after it ran ~1.5x slower).
 */
import { SECTIONS } from './sections.js'

const [id, ...flags] = process.argv.slice(2)
const entry = SECTIONS.find(([name]) => name === id)
if (entry === undefined || process.send === undefined) {
  process.stderr.write(`section-child: unknown section ${String(id)} or no IPC channel\n`)
  process.exit(2)
}
const section = await (await entry[1]()).run({ quick: flags.includes('--quick') })
process.send(section, () => process.exit(0))
