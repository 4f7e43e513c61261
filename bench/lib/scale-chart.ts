/** The scale section's chart: idle RSS, serving peak RSS and open time against the number of patterns (log scale). */

export interface ScalePoint { n: number, idleMB: number, openS: number, servingPeakMB: number }

function esc (s: string): string {
  return s.replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string)
}

/** Two panels side by side: memory (MB) and open time (s), each point labelled with its value. */
export function scaleChart (points: ScalePoint[]): string {
  const W = 760
  const H = 360
  const panel = { w: 300, h: 240, top: 60 }
  const lefts = [70, 450]
  const ns = points.map(p => Math.log10(p.n))
  const minX = Math.min(...ns) - 0.3
  const maxX = Math.max(...ns) + 0.3
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc('One node, N patterns: memory and restart time')}</text>`]
  const draw = (left: number, title: string, unit: string, series: Array<{ label: string, color: string, ys: number[] }>): void => {
    const maxY = Math.max(1, ...series.flatMap(s => s.ys)) * 1.15
    const x = (v: number): number => left + ((v - minX) / (maxX - minX)) * panel.w
    const y = (v: number): number => panel.top + panel.h - (v / maxY) * panel.h
    parts.push(`<text x="${left + panel.w / 2}" y="${panel.top - 12}" text-anchor="middle">${esc(title)}</text>`)
    parts.push(`<line x1="${left}" x2="${left + panel.w}" y1="${y(0)}" y2="${y(0)}" stroke="#9ca3af"/>`)
    parts.push(`<line x1="${left}" x2="${left}" y1="${panel.top}" y2="${y(0)}" stroke="#9ca3af"/>`)
    parts.push(`<text x="${left - 8}" y="${panel.top + 4}" text-anchor="end">${maxY.toFixed(maxY < 10 ? 1 : 0)} ${unit}</text>`)
    for (const p of points) {
      const label = p.n >= 1_000_000 ? `${p.n / 1_000_000}M` : `${p.n / 1000}k`
      parts.push(`<text x="${x(Math.log10(p.n))}" y="${y(0) + 16}" text-anchor="middle">${label}</text>`)
    }
    series.forEach((s, si) => {
      const pts = s.ys.map((v, i) => `${x(ns[i] as number).toFixed(1)},${y(v).toFixed(1)}`)
      parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`)
      s.ys.forEach((v, i) => {
        parts.push(`<circle cx="${x(ns[i] as number)}" cy="${y(v)}" r="3" fill="${s.color}"/>`)
        parts.push(`<text x="${x(ns[i] as number) + 6}" y="${y(v) - 6}" fill="${s.color}">${v.toFixed(v < 10 ? 2 : 0)}</text>`)
      })
      parts.push(`<text x="${left + 8}" y="${panel.top + 16 + si * 16}" fill="${s.color}">${esc(s.label)}</text>`)
    })
  }
  draw(lefts[0] as number, 'RSS (MB)', 'MB', [
    { label: 'idle after restart', color: '#2563eb', ys: points.map(p => p.idleMB) },
    { label: 'serving a full pull (peak, anonymous)', color: '#ea580c', ys: points.map(p => p.servingPeakMB) }
  ])
  draw(lefts[1] as number, 'restart: start to API answering (s)', 's', [{ label: 'open time', color: '#16a34a', ys: points.map(p => p.openS) }])
  parts.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">patterns in the node (log scale)</text>`)
  parts.push('</svg>')
  return parts.join('\n')
}
