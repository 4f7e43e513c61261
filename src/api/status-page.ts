/**
 * The status page served at `GET /` of the local API: one self-contained HTML document
 * (inline CSS and JS, nothing fetched but `/v1/status` and the live `/v1/changes` feed on the same origin).
 *
 * Token: the page itself holds no data and needs no token; it polls `/v1/status` with
 * `Authorization: Bearer <token>`. A header rather than a cookie means a foreign site cannot
 * make the browser send it (no CSRF). The token comes from `?token=` (so a printed link opens
 * the page at once) or a small form; it is kept in sessionStorage (this tab only, gone when
 * the tab closes) and removed from the address bar at once, so it stays out of history,
 * bookmarks and Referer headers. A refused token is forgotten and the form shown again.
 *
 * Escaping: peer ids, addresses and errors come from the network, so the script builds the
 * DOM with textContent/setAttribute only (never innerHTML), and a hash-based CSP forbids any
 * script or style but these two, and any connection but to the page's own origin.
 */
import { createHash } from 'node:crypto'
import { STYLE } from './status-page-style.js'
import { FEED_SCRIPT } from './status-page-feed.js'

// plain JS (the page has no build step); no template literals, so nothing here is interpolated
// the feed's part first: it holds the 'use strict' of the whole script
const SCRIPT = FEED_SCRIPT + String.raw`
var KEY = 'engram.token', POLL_MS = 2000, FETCH_TIMEOUT_MS = 5000, MAX_ROWS = 25, MAX_BARS = 50;
var SVGNS = 'http://www.w3.org/2000/svg';
var timer = null, generation = 0;
function $(id) { return document.getElementById(id); }
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function svg(tag, attrs) {
  var e = document.createElementNS(SVGNS, tag);
  for (var k in attrs) e.setAttribute(k, String(attrs[k]));
  return e;
}
function short(id) { id = String(id); return id.length > 20 ? id.slice(0, 8) + '\u2026' + id.slice(-6) : id; }
function bytes(n) {
  n = Number(n) || 0;
  if (n < 1024) return n + ' B';
  if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1048576).toFixed(1) + ' MiB';
}
function clock(ms) { var d = new Date(Number(ms)); return isNaN(d.getTime()) ? '?' : d.toLocaleTimeString(); }
function setState(state, text) { var c = $('conn'); c.dataset.state = state; c.textContent = text; document.body.dataset.state = state; }

function showLogin(message) {
  stop();
  $('main').hidden = true; $('logout').hidden = true; $('login').hidden = false;
  $('login-msg').textContent = message || '';
  setState('login', 'not signed in');
  $('token-input').focus();
}
function begin(token) {
  sessionStorage.setItem(KEY, token);
  $('login').hidden = true; $('logout').hidden = false;
  setState('loading', 'loading\u2026');
  stop(); poll(++generation);
}
function stop() { if (timer !== null) clearTimeout(timer); timer = null; generation++; stopFeed(); }

async function poll(gen) {
  var token = sessionStorage.getItem(KEY);
  if (token === null) return showLogin();
  var ctl = new AbortController(), t = setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT_MS);
  try {
    var res = await fetch('/v1/status', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store', signal: ctl.signal });
    if (gen !== generation) return;
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem(KEY);
      return showLogin('The token was refused; enter the one in the node\u2019s data directory.');
    }
    if (!res.ok) throw new Error('HTTP ' + res.status);
    render(await res.json());
    setState('ok', 'updated ' + new Date().toLocaleTimeString());
  } catch (err) {
    if (gen !== generation) return;
    setState('error', 'node unreachable: ' + (err && err.name === 'AbortError' ? 'timed out' : String(err && err.message || err)));
  } finally {
    clearTimeout(t);
  }
  if (gen === generation) timer = setTimeout(function () { poll(gen); }, POLL_MS);
}

function render(s) {
  $('main').hidden = false;
  $('node-peer-id').textContent = s.peerId;
  $('node-root').textContent = s.root;
  $('node-patterns').textContent = String(s.patterns);
  $('node-connected').textContent = String((s.connectedPeers || []).length);
  var addrs = $('node-addresses'); addrs.replaceChildren();
  (s.addresses || []).forEach(function (a) { addrs.appendChild(el('li', null, a)); });
  renderPeers(s);
  renderRounds(s.lastRounds || []);
  renderChart(s.lastRounds || []);
  // the newest changes first (seqs are not dense, so this may show fewer), then live
  if (feed === null) startFeed(sessionStorage.getItem(KEY), Math.max(0, Number(s.lastChange) - MAX_CHANGES) || 0);
  $('main').dataset.loaded = 'true';
}

function syncOf(s, peer) {
  var v = Object.prototype.hasOwnProperty.call(s.peersInSync || {}, peer) ? s.peersInSync[peer] : undefined;
  return v === true ? 'in-sync' : v === false ? 'out-of-sync' : 'unknown';
}
var SYNC_TEXT = { 'in-sync': 'in sync', 'out-of-sync': 'out of sync', 'unknown': 'unknown' };

function renderPeers(s) {
  var body = $('peers-body'), peers = s.gossipPeers || [], rounds = s.lastRounds || [];
  body.replaceChildren();
  $('peer-count').textContent = '(' + peers.length + ')';
  $('peers-empty').hidden = peers.length > 0;
  peers.forEach(function (p) {
    var sync = syncOf(s, p), tr = el('tr');
    tr.setAttribute('data-peer', p); tr.setAttribute('data-sync', sync);
    var id = el('td', 'peer', p);
    tr.appendChild(id);
    var st = el('td'); st.appendChild(el('span', 'badge ' + sync, SYNC_TEXT[sync])); tr.appendChild(st);
    var last = null;
    for (var i = rounds.length - 1; i >= 0; i--) {
      if (rounds[i].peer === p && (rounds[i].role === 'initiator' || rounds[i].role === 'responder')) { last = rounds[i]; break; }
    }
    tr.appendChild(el('td', 'muted', last ? clock(last.startedAt) + ' \u00b7 ' + last.role + ' \u00b7 ' + last.outcome : 'no exchange yet'));
    body.appendChild(tr);
  });
}

function renderRounds(rounds) {
  var body = $('rounds-body'); body.replaceChildren();
  $('rounds-empty').hidden = rounds.length > 0;
  rounds.slice(-MAX_ROWS).reverse().forEach(function (r) {
    var tr = el('tr', 'round');
    tr.setAttribute('data-role', r.role); tr.setAttribute('data-outcome', r.outcome);
    tr.appendChild(el('td', 'num', clock(r.startedAt)));
    var p = el('td', 'peer', short(r.peer)); p.title = String(r.peer); tr.appendChild(p);
    tr.appendChild(el('td', null, r.role));
    var o = el('td'); o.appendChild(el('span', 'outcome-' + r.outcome, r.outcome));
    if (r.error) o.appendChild(el('span', 'err', r.error));
    tr.appendChild(o);
    tr.appendChild(el('td', 'num', r.patternsIn + ' / ' + r.patternsOut + ' (' + r.patternsChanged + ')'));
    tr.appendChild(el('td', 'num', bytes(r.bytesIn) + ' / ' + bytes(r.bytesOut)));
    tr.appendChild(el('td', 'num', r.ms + ' ms'));
    body.appendChild(tr);
  });
}

function renderChart(rounds) {
  // the SVG stretches to the card's width, so its labels live in HTML around it
  // newest bar at the right edge, as the axis says
  var c = $('chart'), W = 600, top = 4, bottom = 119, left = 2;
  c.replaceChildren();
  var rs = rounds.slice(-MAX_BARS);
  if (rs.length === 0) { $('chart-max').textContent = 'no rounds yet'; return; }
  var max = 1;
  rs.forEach(function (r) { max = Math.max(max, (Number(r.bytesIn) || 0) + (Number(r.bytesOut) || 0)); });
  var step = (W - left) / MAX_BARS, bw = Math.max(2, step * 0.7), scale = (bottom - top) / max;
  c.appendChild(svg('line', { x1: 0, x2: W, y1: bottom + 0.5, y2: bottom + 0.5 }));
  $('chart-max').textContent = 'largest: ' + bytes(max) + ' in one round; last ' + rs.length + ' rounds';
  rs.forEach(function (r, i) {
    var hin = (Number(r.bytesIn) || 0) * scale, hout = (Number(r.bytesOut) || 0) * scale, x = left + (MAX_BARS - rs.length + i) * step;
    var g = svg('g', { 'class': 'bar', 'data-bytes': (Number(r.bytesIn) || 0) + (Number(r.bytesOut) || 0) });
    g.appendChild(svg('title', {})).textContent =
      clock(r.startedAt) + ' ' + r.role + ' with ' + short(r.peer) + ': ' + bytes(r.bytesIn) + ' in, ' + bytes(r.bytesOut) + ' out';
    g.appendChild(svg('rect', { 'class': 'bin', x: x.toFixed(1), y: (bottom - hin).toFixed(1), width: bw.toFixed(1), height: hin.toFixed(1) }));
    g.appendChild(svg('rect', { 'class': 'bout', x: x.toFixed(1), y: (bottom - hin - hout).toFixed(1), width: bw.toFixed(1), height: hout.toFixed(1) }));
    c.appendChild(g);
  });
}

$('login-form').addEventListener('submit', function (ev) {
  ev.preventDefault();
  var v = $('token-input').value.trim();
  if (v === '') return showLogin('Enter the API token.');
  $('token-input').value = '';
  begin(v);
});
$('logout').addEventListener('click', function () { sessionStorage.removeItem(KEY); showLogin(); });

(function () {
  var q = new URLSearchParams(location.search), t = q.get('token');
  if (t !== null) {
    q.delete('token');
    var rest = q.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
    if (t.trim() !== '') sessionStorage.setItem(KEY, t.trim());
  }
  var saved = sessionStorage.getItem(KEY);
  if (saved === null) showLogin(); else begin(saved);
})();
`

const BODY = `<header>
  <h1>Engram node</h1>
  <span id="conn" data-state="loading">loading…</span>
  <button id="logout" type="button" hidden>Forget token</button>
</header>
<section id="login" hidden>
  <section class="card">
    <h2>API token</h2>
    <form id="login-form" autocomplete="off">
      <input id="token-input" type="password" placeholder="token from the node's data directory" aria-label="API token">
      <button type="submit">Open</button>
    </form>
    <p id="login-msg" class="muted"></p>
  </section>
</section>
<main id="main" hidden>
  <section class="card" id="node">
    <h2>This node</h2>
    <dl>
      <dt>Peer ID</dt><dd id="node-peer-id" class="mono"></dd>
      <dt>Addresses</dt><dd><ul id="node-addresses"></ul></dd>
      <dt>Merkle root</dt><dd id="node-root" class="mono"></dd>
      <dt>Patterns</dt><dd id="node-patterns"></dd>
      <dt>Connected peers</dt><dd id="node-connected"></dd>
    </dl>
  </section>
  <section class="card" id="peers">
    <h2>Gossip peers <span id="peer-count"></span></h2>
    <table><thead><tr><th>peer</th><th>roots at last exchange</th><th>last exchange</th></tr></thead>
      <tbody id="peers-body"></tbody></table>
    <p id="peers-empty" class="muted" hidden>No gossip peers connected.</p>
  </section>
  <section class="card" id="traffic">
    <h2>Bytes per round <span class="legend muted"><i class="lin"></i>in<i class="lout"></i>out</span></h2>
    <div id="chart-max" class="muted"></div>
    <svg id="chart" viewBox="0 0 600 120" preserveAspectRatio="none" role="img" aria-label="bytes per round"></svg>
    <div class="chart-axis muted"><span>oldest</span><span>newest</span></div>
  </section>
  <section class="card" id="changes">
    <h2>Latest changes</h2>
    <table><thead><tr><th class="num">seq</th><th class="num">seen</th><th>origin</th><th>key</th><th>pattern</th></tr></thead>
      <tbody id="changes-body"></tbody></table>
    <p id="changes-empty" class="muted">No changes yet.</p>
  </section>
  <section class="card" id="rounds">
    <h2>Recent rounds</h2>
    <table><thead><tr><th class="num">time</th><th>peer</th><th>role</th><th>outcome</th>
      <th class="num">patterns in / out (changed)</th><th class="num">bytes in / out</th><th class="num">duration</th></tr></thead>
      <tbody id="rounds-body"></tbody></table>
    <p id="rounds-empty" class="muted" hidden>No rounds yet.</p>
  </section>
</main>`

function sha256 (text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`
}

/** The page's Content-Security-Policy; a server may also send it as a header. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'"
].join('; ')

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${STATUS_PAGE_CSP}">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Engram node</title>
<style>${STYLE}</style>
</head>
<body data-state="loading">
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`

/** The status page's HTML (the same string every call). */
export function statusPage (): string {
  return PAGE
}
