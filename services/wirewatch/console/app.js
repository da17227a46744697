// app.js - the wirewatch console page. Plain JavaScript, no libraries, no build
// step. Every piece of alert or event text is inserted with textContent (never
// as HTML): titles and bodies are hostile input.
'use strict';

const MAX_ROWS = 1000;     // alert rows kept in the list; older ones are paged back in
const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];

const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
function fmtTime(ms) {
  if (!ms) return '';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}
function safeHref(u) { return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null; }
async function getJSON(url, opts) {
  const r = await fetch(url, opts);
  let body = null;
  try { body = await r.json(); } catch (e) { body = { error: r.statusText }; }
  if (!r.ok) throw Object.assign(new Error(body && body.error ? body.error : r.statusText), { status: r.status });
  return body;
}

// ---- alerts: list, paging, filters, live stream --------------------------------------

const state = { next: null, head: null, es: null, lastSid: null, retry: null, loading: false, shown: 0 };

function filters() {
  return { channel: $('f-channel').value.trim(), severity: $('f-severity').value, q: $('f-q').value.trim() };
}
function passes(a, f) {
  if (f.channel && !(a.channel || '').startsWith(f.channel)) return false;
  if (f.severity && SEVERITIES.indexOf(a.severity) < SEVERITIES.indexOf(f.severity)) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    const hay = [a.event && a.event.title, a.rule, a.channel].map((s) => (s || '').toLowerCase());
    if (!hay.some((s) => s.includes(q))) return false;
  }
  return true;
}
function alertRow(a, fresh) {
  const tr = el('tr', 'alert' + (fresh ? ' fresh' : ''));
  tr.dataset.sid = a.sid;
  tr.dataset.id = a.id || '';
  tr.appendChild(el('td', 'time', fmtTime(a.fired_at)));
  const sev = el('td');
  sev.appendChild(el('span', 'sev sev-' + (SEVERITIES.includes(a.severity) ? a.severity : 'info'), a.severity));
  tr.appendChild(sev);
  tr.appendChild(el('td', 'mono', a.channel));
  tr.appendChild(el('td', 'mono', a.rule));
  const td = el('td', 'title');
  const link = el('a', null, (a.event && a.event.title) || '(no title)');
  link.href = '#event/' + encodeURIComponent(a.sid);
  td.appendChild(link);
  tr.appendChild(td);
  return tr;
}
function summary() {
  const n = $('alert-rows').children.length;
  $('alert-summary').textContent = n + ' alert' + (n === 1 ? '' : 's') + ' shown' +
    (state.total >= 0 ? ' of ' + state.total + ' in the history' : '');
}
function trimRows() {
  const rows = $('alert-rows');
  while (rows.children.length > MAX_ROWS) rows.removeChild(rows.lastElementChild);
  if (rows.children.length >= MAX_ROWS) {
    state.next = rows.lastElementChild.dataset.sid; // page back in from here
    $('more').hidden = false;
  }
}
async function loadPage(reset) {
  if (state.loading) return;
  state.loading = true;
  const f = filters();
  const p = new URLSearchParams({ limit: '100' });
  if (f.channel) p.set('channel', f.channel);
  if (f.severity) p.set('severity', f.severity);
  if (f.q) p.set('q', f.q);
  if (!reset && state.next) p.set('before', state.next);
  try {
    const page = await getJSON('/api/alerts?' + p);
    const rows = $('alert-rows');
    if (reset) clear(rows);
    for (const a of page.alerts) rows.appendChild(alertRow(a, false));
    state.next = page.next;
    state.total = page.total;
    if (reset && page.head && !state.es) startLive(page.head);
    $('more').hidden = !page.next;
    trimRows();
    summary();
  } catch (e) {
    $('alert-summary').textContent = 'cannot load alerts: ' + e.message;
  } finally {
    state.loading = false;
  }
}
function setStatus(cls, text) {
  const s = $('live-status');
  s.className = 'status ' + cls;
  s.textContent = text;
}
function startLive(after) {
  if (state.es) state.es.close();
  state.lastSid = state.lastSid || after;
  const url = '/api/stream' + (state.lastSid ? '?after=' + encodeURIComponent(state.lastSid) : '');
  const es = new EventSource(url);
  state.es = es;
  es.onopen = () => setStatus('on', 'live');
  es.addEventListener('alert', (ev) => {
    state.lastSid = ev.lastEventId || state.lastSid;
    let a;
    try { a = JSON.parse(ev.data); } catch (e) { return; }
    if (typeof state.total === 'number' && state.total >= 0) state.total++;
    if (passes(a, filters())) {
      const rows = $('alert-rows');
      rows.insertBefore(alertRow(a, true), rows.firstChild);
      trimRows();
    }
    summary();
  });
  es.onmessage = (ev) => { if (ev.lastEventId) state.lastSid = ev.lastEventId; };
  es.onerror = () => {
    // the browser retries by itself (sending Last-Event-ID); when it gives up
    // (the server said 503, say) reconnect after a pause from the last id seen
    if (es.readyState === EventSource.CLOSED) {
      setStatus('off', 'offline');
      clearTimeout(state.retry);
      state.retry = setTimeout(() => startLive(state.lastSid), 3000);
    } else {
      setStatus('wait', 'reconnecting');
    }
  };
}
let filterTimer = null;
function onFilter() {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => { state.next = null; loadPage(true); }, 250);
}

// ---- one alert: the event with highlighted entities, the explanation -------------------

function renderSegments(node, segs) {
  clear(node);
  for (const s of segs || []) {
    if (s.entity) {
      const m = el('mark', 'ent ent-' + String(s.entity).replace(/[^A-Z]/g, ''), s.text);
      m.dataset.type = s.entity;
      m.dataset.canonical = s.canonical || '';
      m.title = s.entity + ': ' + (s.canonical || s.text);
      node.appendChild(m);
    } else if (s.keyword) {
      node.appendChild(el('mark', 'kw', s.text));
    } else {
      node.appendChild(document.createTextNode(s.text));
    }
  }
}
async function showEvent(sid) {
  ['ev-title', 'ev-meta', 'ev-body', 'ev-rule', 'ev-explain', 'ev-matches', 'ev-entities', 'ev-head'].forEach((i) => clear($(i)));
  $('ev-note').hidden = true;
  let d;
  try {
    d = await getJSON('/api/event?sid=' + encodeURIComponent(sid));
  } catch (e) {
    $('ev-head').appendChild(el('p', 'note', 'cannot load the alert: ' + e.message));
    return;
  }
  const a = d.alert, ev = d.event, x = d.explain;
  const head = $('ev-head');
  head.appendChild(el('span', 'sev sev-' + (SEVERITIES.includes(a.severity) ? a.severity : 'info'), a.severity));
  head.appendChild(el('span', 'mono', ' ' + a.channel + ' · rule ' + a.rule + ' · fired ' + fmtTime(a.fired_at) + ' · alert ' + a.id));
  renderSegments($('ev-title'), ev.title);
  renderSegments($('ev-body'), ev.body);
  const meta = $('ev-meta');
  const href = safeHref(ev.url);
  if (href) {
    const l = el('a', null, ev.url);
    l.href = href;
    l.rel = 'noopener noreferrer nofollow';
    l.target = '_blank';
    meta.appendChild(l);
    meta.appendChild(document.createTextNode(' · '));
  }
  meta.appendChild(document.createTextNode((ev.source ? 'source ' + ev.source + ' · ' : '') +
    (ev.published_at ? 'published ' + fmtTime(ev.published_at) : ev.ingested_at ? 'ingested ' + fmtTime(ev.ingested_at) : '')));
  if (!ev.found) {
    $('ev-note').hidden = false;
    $('ev-note').textContent = 'Only the alert is shown: ' + (ev.why || 'the event was not found') + '.';
  }
  $('ev-rule').textContent = x.rule ? x.rule + ': ' + x.match + (x.state ? '  (also depends on its ' + x.state + ')' : '') : '';
  $('ev-explain').textContent = x.text || x.note || '';
  for (const m of a.matches || []) {
    let t = m.kind + ' ' + (m.type ? m.type + ' ' : '') + '"' + m.value + '"';
    if (m.field) t += ' in ' + m.field + ' ' + m.start + '–' + m.end;
    if (m.count) t += ' ×' + m.count;
    $('ev-matches').appendChild(el('li', 'mono', t));
  }
  for (const e of ev.entities || []) {
    const tr = el('tr');
    tr.appendChild(el('td', null, e.type));
    tr.appendChild(el('td', null, e.canonical));
    tr.appendChild(el('td', null, e.text));
    tr.appendChild(el('td', 'mono', e.field + ' ' + e.start + '–' + e.end));
    $('ev-entities').appendChild(tr);
  }
}

// ---- trends ----------------------------------------------------------------------------

const SVGNS = 'http://www.w3.org/2000/svg';
function sparkline(series) {
  const w = 144, h = 28, max = Math.max(1, ...series);
  const svg = document.createElementNS(SVGNS, 'svg');
  svg.setAttribute('width', w);
  svg.setAttribute('height', h);
  svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
  svg.setAttribute('class', 'spark');
  const step = series.length > 1 ? w / (series.length - 1) : w;
  const pts = series.map((v, i) => (i * step).toFixed(1) + ',' + (h - 2 - (v / max) * (h - 4)).toFixed(1));
  const line = document.createElementNS(SVGNS, 'polyline');
  line.setAttribute('points', pts.join(' '));
  svg.appendChild(line);
  const title = document.createElementNS(SVGNS, 'title');
  title.textContent = 'peak ' + max + ' mentions an hour';
  svg.appendChild(title);
  return svg;
}
function trendRows(tbody, list, rising) {
  clear(tbody);
  if (!list.length) {
    const tr = el('tr');
    const td = el('td', 'muted', 'no entity counts in this window');
    td.colSpan = 4;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  for (const t of list) {
    const tr = el('tr', 'trend');
    tr.appendChild(el('td', null, t.name));
    tr.appendChild(el('td', null, t.type));
    tr.appendChild(el('td', 'num', rising ? t.count + ' / ' + t.baseline + ' (×' + t.ratio + ')' : t.count));
    const td = el('td');
    td.appendChild(sparkline(t.series || []));
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
}
async function loadTrends() {
  const p = new URLSearchParams({ window: $('t-window').value, limit: '20' });
  if ($('t-type').value) p.set('type', $('t-type').value);
  try {
    const d = await getJSON('/api/trends?' + p);
    trendRows($('trend-most'), d.most, false);
    trendRows($('trend-rising'), d.rising, true);
  } catch (e) {
    clear($('trend-most'));
    $('trend-most').appendChild(el('tr', null, 'cannot load trends: ' + e.message));
  }
}

// ---- rules, backtest, apply --------------------------------------------------------------

let rulesLoaded = false;
async function loadRules() {
  let d;
  try {
    d = await getJSON('/api/rules');
  } catch (e) {
    $('rules-meta').textContent = 'cannot load the rules: ' + e.message;
    return;
  }
  $('rules-meta').textContent = d.rules.length + ' rules, version ' + (d.version || 'none') + ' (from ' + d.source + '); ' +
    d.alerts_counted + ' alerts counted in the history; ' + d.workers.length + ' alert worker(s)' +
    (d.error ? '; the stored rules do not parse: ' + d.error : '');
  const tb = $('rules-rows');
  clear(tb);
  for (const r of d.rules) {
    const tr = el('tr', 'rule');
    tr.dataset.rule = r.id;
    tr.appendChild(el('td', 'mono', r.id));
    tr.appendChild(el('td', 'mono', r.channel));
    tr.appendChild(el('td', null, r.severity));
    tr.appendChild(el('td', null, r.kind + (r.cooldown_ms ? ', cooldown ' + r.cooldown_ms / 1000 + ' s' : '')));
    tr.appendChild(el('td', 'mono match', r.match));
    tr.appendChild(el('td', 'num alerts', r.alerts));
    tr.appendChild(el('td', 'num', r.cost ? r.cost.avg_us.toFixed(2) + ', ' + r.cost.evals : '–'));
    tb.appendChild(tr);
  }
  if (!rulesLoaded) $('rules-text').value = d.text || '';
  rulesLoaded = true;
  $('save-readonly').hidden = d.editable;
  $('save-form').hidden = !d.editable;
}
async function runBacktest(ev) {
  ev.preventDefault();
  const body = { text: $('rules-text').value };
  if ($('bt-from').value.trim()) body.from = $('bt-from').value.trim();
  if ($('bt-to').value.trim()) body.to = $('bt-to').value.trim();
  if ($('bt-max').value) body.max_events = parseInt($('bt-max').value, 10);
  const sum = $('bt-summary');
  sum.className = '';
  sum.textContent = 'running…';
  $('bt-run').disabled = true;
  try {
    const d = await getJSON('/api/backtest', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    sum.textContent = d.events + ' events read, ' + d.alerts + ' alerts would have fired (suppressed: ' + d.duplicate +
      ' duplicate, ' + d.below + ' below threshold/spike, ' + d.cooldown + ' cooldown) in ' + d.ms + ' ms' +
      (d.truncated ? '; stopped early (' + d.stopped_by + ')' : '') + '; rules version ' + d.rules_version;
    const per = $('bt-per-rule').tBodies[0];
    clear(per);
    for (const p of d.per_rule) {
      const tr = el('tr');
      tr.appendChild(el('td', 'mono', p.rule));
      tr.appendChild(el('td', 'num', p.alerts));
      per.appendChild(tr);
    }
    $('bt-per-rule').hidden = false;
    const tb = $('bt-alerts').tBodies[0];
    clear(tb);
    for (const a of d.list) {
      const tr = el('tr', 'bt-alert');
      tr.appendChild(el('td', 'time', fmtTime(a.fired_at)));
      tr.appendChild(el('td', null, a.severity));
      tr.appendChild(el('td', 'mono', a.rule));
      tr.appendChild(el('td', null, a.event && a.event.title));
      tb.appendChild(tr);
    }
    $('bt-alerts').hidden = false;
  } catch (e) {
    sum.className = 'error';
    sum.textContent = 'backtest failed: ' + e.message;
  } finally {
    $('bt-run').disabled = false;
  }
}
async function saveRules(ev) {
  ev.preventDefault();
  const out = $('save-result');
  out.className = '';
  try {
    const d = await getJSON('/api/rules', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + $('rules-token').value },
      body: JSON.stringify({ text: $('rules-text').value }),
    });
    out.textContent = 'stored ' + d.count + ' rules, version ' + d.version + '; alert workers switch within a second';
    loadRules();
    loadInfo();
  } catch (e) {
    out.className = 'error';
    out.textContent = 'not stored: ' + e.message;
  }
}

// ---- routing --------------------------------------------------------------------------------

async function loadInfo() {
  try {
    const i = await getJSON('/api/info');
    $('rules-version').textContent = 'rules ' + (i.rules_version || 'none') + (i.read_only ? ' · read-only' : '');
  } catch (e) { /* shown by the other calls */ }
}
function route() {
  const h = location.hash || '#alerts';
  const views = { alerts: 'view-alerts', event: 'view-event', trends: 'view-trends', rules: 'view-rules' };
  const name = h.slice(1).split('/')[0];
  const view = views[name] ? name : 'alerts';
  for (const [k, v] of Object.entries(views)) $(v).hidden = k !== view;
  for (const k of ['alerts', 'trends', 'rules']) $('nav-' + k).classList.toggle('active', k === view || (k === 'alerts' && view === 'event'));
  if (view === 'event') {
    let sid = '';
    try { sid = decodeURIComponent(h.slice('#event/'.length)); } catch (e) { /* malformed %-escape: not found */ }
    showEvent(sid);
  }
  if (view === 'trends') loadTrends();
  if (view === 'rules') loadRules();
}

document.addEventListener('DOMContentLoaded', () => {
  $('filters').addEventListener('input', onFilter);
  $('filters').addEventListener('submit', (e) => e.preventDefault());
  $('more').addEventListener('click', () => loadPage(false));
  $('t-refresh').addEventListener('click', loadTrends);
  $('t-window').addEventListener('change', loadTrends);
  $('t-type').addEventListener('change', loadTrends);
  $('bt-form').addEventListener('submit', runBacktest);
  $('save-form').addEventListener('submit', saveRules);
  window.addEventListener('hashchange', route);
  loadInfo();
  loadPage(true);
  route();
});
