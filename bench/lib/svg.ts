/** A small SVG line chart (no dependencies): fraction of nodes that have a pattern vs rounds. */

export interface Series {
  label: string
  /** y values at x = 0, 1, 2, ... */
  points: number[]
  dashed?: boolean
}

const COLORS = ['#2563eb', '#16a34a', '#ea580c', '#9333ea', '#dc2626', '#0891b2', '#4b5563']

function esc (s: string): string {
  return s.replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string)
}

export function lineChart (title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const W = 720
  const H = 420
  const m = { l: 60, r: 190, t: 40, b: 50 }
  const maxX = Math.max(1, ...series.map(s => s.points.length - 1))
  const x = (v: number): number => m.l + (v / maxX) * (W - m.l - m.r)
  const y = (v: number): number => H - m.b - v * (H - m.t - m.b)
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`)
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  parts.push(`<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`)
  for (let i = 0; i <= 4; i++) {
    const v = i / 4
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`)
    parts.push(`<text x="${m.l - 8}" y="${y(v) + 4}" text-anchor="end">${(v * 100).toFixed(0)}%</text>`)
  }
  const step = maxX <= 12 ? 1 : Math.ceil(maxX / 12)
  for (let v = 0; v <= maxX; v += step) {
    parts.push(`<text x="${x(v)}" y="${H - m.b + 18}" text-anchor="middle">${v}</text>`)
  }
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(0)}" y2="${y(0)}" stroke="#111"/>`)
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${y(0)}" y2="${y(1)}" stroke="#111"/>`)
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`)
  parts.push(`<text x="16" y="${(m.t + H - m.b) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.t + H - m.b) / 2})">${esc(yLabel)}</text>`)
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(j).toFixed(1)},${y(Math.max(0, Math.min(1, p))).toFixed(1)}`).join(' ')
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : ''
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`)
    const ly = m.t + 10 + i * 20
    parts.push(`<line x1="${W - m.r + 14}" x2="${W - m.r + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`)
    parts.push(`<text x="${W - m.r + 46}" y="${ly + 4}">${esc(s.label)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}
