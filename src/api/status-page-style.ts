/** The status page's stylesheet (inline in the page; its hash is in the CSP, see status-page.ts). */
export const STYLE = String.raw`
:root { color-scheme: light dark; --fg: #1d2329; --muted: #66707a; --bg: #f6f7f9; --card: #fff;
  --line: #dde1e6; --ok: #1a7f37; --warn: #b35900; --bad: #c62828; --in: #3b82f6; --out: #f59e0b; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ec; --muted: #98a2ad; --bg: #14181c;
  --card: #1d2328; --line: #333b43; --ok: #4ac26b; --warn: #f0a040; --bad: #ff6b6b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 12px; padding: 10px 20px; border-bottom: 1px solid var(--line); background: var(--card); }
h1 { font-size: 17px; margin: 0; flex: 1; }
h2 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
main, #login { max-width: 1100px; margin: 0 auto; padding: 16px 20px; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 14px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; min-width: 0; }
.mono, td.peer, dd.mono, #node-addresses { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
#node-addresses { list-style: none; margin: 0; padding: 0; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.in-sync, .outcome-in-sync, .outcome-synced { color: var(--ok); }
.out-of-sync, .outcome-timeout, .outcome-refused { color: var(--warn); }
.unknown { color: var(--muted); }
.outcome-error { color: var(--bad); }
.err { display: block; color: var(--bad); font-size: 12px; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
#conn[data-state="ok"] { color: var(--ok); } #conn[data-state="error"] { color: var(--bad); }
#chart { width: 100%; height: 120px; display: block; margin: 4px 0; }
#chart .bin { fill: var(--in); } #chart .bout { fill: var(--out); }
#chart line { stroke: var(--line); }
.chart-axis { display: flex; justify-content: space-between; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }
.legend .lin { background: var(--in); } .legend .lout { background: var(--out); }
form { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
input { font: inherit; padding: 6px 8px; min-width: 22em; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--fg); }
button { font: inherit; padding: 5px 12px; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; }
[hidden] { display: none !important; }
`
