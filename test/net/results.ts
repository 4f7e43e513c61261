/** The results table of the network suite. */
export interface ScenarioResult {
  scenario: string
  hosts: number
  writes: number
  lost: number
  rounds: number | null
  seconds: number | null
  moved: number | null
  differing: number | null
  passed: boolean
  note: string
}

/** A scenario that ran to the end but missed its bound: its row (passed: false) still goes in the table. */
export class ScenarioMissed extends Error {
  constructor (message: string, readonly row: ScenarioResult) {
    super(message)
    this.name = 'ScenarioMissed'
  }
}

function cell (v: number | null, digits = 0): string {
  return v === null ? '-' : v.toFixed(digits)
}

export function table (results: ScenarioResult[]): string {
  const head = ['scenario', 'hosts', 'writes', 'lost', 'rounds', 'seconds', 'moved', 'differing', 'result']
  const rows = results.map(r => [r.scenario, String(r.hosts), String(r.writes), String(r.lost), cell(r.rounds, 1), cell(r.seconds, 1),
    cell(r.moved), cell(r.differing), r.passed ? 'pass' : 'FAIL'])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] as string).length)))
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ') + ' |'
  return [line(head), '|' + widths.map(w => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n') +
    '\n' + results.filter(r => r.note !== '').map(r => `- ${r.scenario}: ${r.note}`).join('\n') + '\n'
}
