/**
 * The status page's list of the latest changes: a live `/v1/changes` feed read line by line
 * (fetch with a stream reader), shown newest first, rebuilt with textContent only (keys come
 * from the network). Plain JS in the page's script (status-page.ts), which calls startFeed.
 */
export const FEED_SCRIPT = String.raw`
'use strict';
var feed = null, changes = [], lastSeq = 0, MAX_CHANGES = 20;
function stopFeed() { if (feed !== null) feed.abort(); feed = null; }

// the live change feed: read line by line; when it breaks, again from the last seq shown
function startFeed(token, since) {
  stopFeed();
  var ctl = feed = new AbortController();
  (async function () {
    try {
      var res = await fetch('/v1/changes?feed=live&since=' + since, { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store', signal: ctl.signal });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      var reader = res.body.getReader(), dec = new TextDecoder(), buf = '';
      for (;;) {
        var r = await reader.read();
        if (r.done) break;
        buf += dec.decode(r.value, { stream: true });
        var i;
        while ((i = buf.indexOf('\n')) >= 0) {
          var line = buf.slice(0, i); buf = buf.slice(i + 1);
          if (line.trim() !== '') onChange(JSON.parse(line));
        }
      }
    } catch (err) {
      if (ctl.signal.aborted) return;
    }
    setTimeout(function () { if (feed === ctl) startFeed(token, lastSeq); }, 2000);
  })();
}

function onChange(c) {
  if (c.heartbeat === true || typeof c.seq !== 'number' || c.seq <= lastSeq) return;
  lastSeq = c.seq;
  c.at = Date.now();
  changes.push(c);
  if (changes.length > MAX_CHANGES) changes.shift();
  renderChanges();
}

function renderChanges() {
  var body = $('changes-body'); body.replaceChildren();
  $('changes-empty').hidden = changes.length > 0;
  changes.slice().reverse().forEach(function (c) {
    var tr = el('tr', 'change');
    tr.setAttribute('data-key', String(c.key)); tr.setAttribute('data-origin', String(c.origin));
    tr.appendChild(el('td', 'num', String(c.seq)));
    tr.appendChild(el('td', 'num', clock(c.at)));
    var o = el('td', null, String(c.origin) + (c.peer ? ' · ' + short(c.peer) : '')); if (c.peer) o.title = String(c.peer); tr.appendChild(o);
    tr.appendChild(el('td', 'mono', String(c.key)));
    var p = c.pattern || {};
    tr.appendChild(el('td', null, p.deleted ? 'deleted' : 'confidence ' + p.confidence + ', ' + (p.episodes || []).length + ' episodes'));
    body.appendChild(tr);
  });
}
`
