/* Kefu 客服台 — the lead's 数据报表: the report of a range of days (GET /api/stats,
 * docs/reports.md) as KPI tiles, charts drawn here as inline SVG, and the agents' table;
 * the CSV export (GET /api/stats.csv, written by the server); and a live panel of the
 * desk now (GET /api/presence and GET /api/queue, every 15 s while the screen is open).
 * Leads and admins only. */
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';
const RP_LIVE_MS = 15000;
const RP_COLORS = { conversations: '#1f6feb', handoffs: '#7b3fc4', reason: '#a15c00', csat: '#1e8e3e' };

let rpReturnFocus = null;
let rpLiveTimer = 0;
let rpSeq = 0; // the latest report asked for; older answers are dropped
// rpToday is today in the shop's time zone (YYYY-MM-DD), as the server's default range
// ends; the quick ranges count back from it.
let rpToday = '';

function canReport() {
  return !!S.me && (S.me.role === 'lead' || S.me.role === 'admin');
}

// rpDate is d as YYYY-MM-DD in the browser's own time zone (the shop's, normally).
function rpDate(d) {
  return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
}

// rpRange sets the date fields to the last days days, today (the shop's) included.
function rpRange(days) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(rpToday);
  const to = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : new Date();
  const from = new Date(to.getFullYear(), to.getMonth(), to.getDate() - (days - 1));
  $('rp-from').value = rpDate(from);
  $('rp-to').value = rpDate(to);
}

function openReports() {
  if (!canReport()) return;
  rpReturnFocus = document.activeElement;
  show($('reports-panel'), true);
  loadReport(); // without dates at first: the server's last 7 days, in the shop's time zone
  loadLive();
  clearInterval(rpLiveTimer);
  rpLiveTimer = setInterval(loadLive, RP_LIVE_MS);
}

function closeReports() {
  if ($('reports-panel').hidden) return;
  show($('reports-panel'), false);
  clearInterval(rpLiveTimer);
  rpLiveTimer = 0;
  if (rpReturnFocus && rpReturnFocus.focus) rpReturnFocus.focus();
  rpReturnFocus = null;
}

// rpQuery is the query of the report the filters ask for.
function rpQuery() {
  const q = new URLSearchParams();
  if ($('rp-from').value || $('rp-to').value) {
    q.set('from', $('rp-from').value);
    q.set('to', $('rp-to').value);
  }
  if ($('rp-group').value) q.set('group', $('rp-group').value);
  if ($('rp-agent').value) q.set('agent', $('rp-agent').value);
  return q.toString();
}

async function loadReport(ev) {
  if (ev) ev.preventDefault();
  const sess = S.session;
  const seq = ++rpSeq;
  const err = $('rp-error');
  show(err, false);
  if ($('rp-from').value && $('rp-to').value && $('rp-from').value > $('rp-to').value) {
    showText(err, '开始日期不能晚于结束日期');
    return;
  }
  const q = rpQuery();
  $('rp-csv').href = '/api/stats.csv' + (q ? '?' + q : '');
  $('rp-body').setAttribute('aria-busy', 'true');
  try {
    const r = await api('GET', '/api/stats' + (q ? '?' + q : ''));
    if (sess !== S.session || seq !== rpSeq) return;
    if (!q.includes('from=')) {
      rpToday = r.to;
      $('rp-from').value = r.from;
      $('rp-to').value = r.to;
      $('rp-csv').href = '/api/stats.csv?' + rpQuery();
    }
    renderReport(r);
  } catch (e) {
    if (sess !== S.session || seq !== rpSeq || e.status === 401) return;
    showText(err, '无法加载报表：' + e.message);
  } finally {
    if (seq === rpSeq) $('rp-body').removeAttribute('aria-busy');
  }
}

// ---------------------------------------------------------------------------
// Formatting

function rpPct(v) {
  return v === null || v === undefined ? '—' : (Math.round(v * 1000) / 10) + '%';
}
function rpSecs(v) {
  return v === null || v === undefined ? '—' : fmtDuration(Math.round(v));
}
function rpPair(p) {
  return p && p.count ? rpSecs(p.p50) + ' / ' + rpSecs(p.p90) : '—';
}

// ---------------------------------------------------------------------------
// Rendering

function renderReport(r) {
  const tiles = [
    ['conversations', '会话量', String(r.conversations), r.from === r.to ? r.from : r.from + ' 至 ' + r.to],
    ['bot_resolved', '机器人解决', String(r.bot_resolved), r.conversations ? '占 ' + rpPct(r.bot_resolved / r.conversations) : ''],
    ['handoff_rate', '转人工率', rpPct(r.handoff_rate), '转人工 ' + sumValues(r.handoffs) + ' 次'],
    ['first_response', '首次响应 P50 / P90', rpPair(r.first_response_s), r.first_response_s.count + ' 次'],
    ['wait', '排队等待 P50 / P90', rpPair(r.wait_s), r.wait_s.count + ' 次接入'],
    ['handling', '处理时长 P50 / P90', rpPair(r.handling_s), r.handling_s.count + ' 次结束'],
    ['fcr', '一次解决率', rpPct(r.fcr), '7 天内未重开'],
    ['csat', '满意度', r.csat.avg === null ? '—' : r.csat.avg.toFixed(2) + ' 分', r.csat.count + ' 条评价'],
    ['unanswered', '未解答问题', String(r.unanswered), '已进入编辑待答'],
  ];
  const box = $('rp-tiles');
  box.replaceChildren();
  for (const [key, label, value, note] of tiles) {
    const t = h('div', 'rp-tile');
    t.setAttribute('data-testid', 'rp-tile-' + key);
    t.append(h('div', 'rp-tile-label', label), h('div', 'rp-tile-value', value), h('div', 'rp-tile-note', note));
    box.appendChild(t);
  }
  $('rp-hours').replaceChildren(hourChart(r.by_hour || []));
  const reasons = Object.keys(r.handoffs || {}).filter((k) => r.handoffs[k] > 0)
    .sort((a, b) => r.handoffs[b] - r.handoffs[a]).map((k) => [reasonLabel(k), r.handoffs[k]]);
  $('rp-reasons').replaceChildren(barList(reasons, RP_COLORS.reason, '暂无转人工'));
  $('rp-intents').replaceChildren(barList((r.by_intent || []).map((i) => [INTENTS[i.intent] || i.intent, i.count]), RP_COLORS.handoffs, '暂无转人工'));
  $('rp-csat').replaceChildren(csatChart(r.csat));
  renderAgents(r.agents || []);
  fillAgentOptions((r.agents || []).map((a) => a.name));
  $('rp-zone').textContent = '时区：' + r.time_zone + ' · 按会话开始的日期统计 · 分位数误差 ±' + (r.bin_error * 100).toFixed(1) + '%' +
    (r.group || r.agent ? ' · 会话量、机器人解决、转人工率和未解答问题为全店数据，不受技能组和客服筛选' : '');
}

function sumValues(o) {
  let n = 0;
  for (const k of Object.keys(o || {})) n += o[k];
  return n;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const k of Object.keys(attrs || {})) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = String(text);
  return e;
}

// hourChart draws the conversations and hand-offs of each local hour as paired bars.
function hourChart(hours) {
  const W = 720, H = 200, L = 34, B = 22, T = 10;
  const max = Math.max(1, ...hours.map((x) => Math.max(x.conversations, x.handoffs)));
  const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'rp-svg', role: 'img', 'aria-label': '每小时会话量与转人工' });
  const plotH = H - B - T, slot = (W - L) / 24, bw = Math.max(2, slot / 2 - 2);
  for (const f of [0, 0.5, 1]) {
    const y = T + plotH * (1 - f);
    s.appendChild(svg('line', { x1: L, x2: W, y1: y, y2: y, class: 'rp-grid' }));
    s.appendChild(svg('text', { x: L - 4, y: y + 4, class: 'rp-axis', 'text-anchor': 'end' }, Math.round(max * f)));
  }
  hours.forEach((x, i) => {
    const x0 = L + i * slot + 1;
    for (const [k, dx] of [['conversations', 0], ['handoffs', bw + 1]]) {
      const v = x[k], bh = plotH * v / max;
      const r = svg('rect', { x: x0 + dx, y: T + plotH - bh, width: bw, height: bh, fill: RP_COLORS[k] });
      r.setAttribute('data-hour', x.hour);
      r.setAttribute('data-kind', k);
      r.setAttribute('data-value', v);
      r.appendChild(svg('title', {}, pad2(x.hour) + ':00 ' + (k === 'conversations' ? '会话 ' : '转人工 ') + v));
      s.appendChild(r);
    }
    if (i % 3 === 0) s.appendChild(svg('text', { x: x0 + bw, y: H - 6, class: 'rp-axis', 'text-anchor': 'middle' }, pad2(x.hour)));
  });
  const wrap = h('div', 'rp-chart');
  const legend = h('div', 'rp-legend');
  for (const [k, label] of [['conversations', '会话'], ['handoffs', '转人工']]) {
    const sw = h('span', 'rp-swatch');
    sw.style.background = RP_COLORS[k];
    legend.append(sw, h('span', '', label));
  }
  wrap.append(s, legend);
  return wrap;
}

// barList draws rows [label, count] as horizontal bars.
function barList(rows, color, empty) {
  if (!rows.length) return h('p', 'empty small', empty);
  const W = 340, row = 24, LW = 110;
  const max = Math.max(1, ...rows.map((r) => r[1]));
  const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + rows.length * row, class: 'rp-svg', role: 'img' });
  rows.forEach(([label, n], i) => {
    const y = i * row;
    s.appendChild(svg('text', { x: LW - 6, y: y + 16, class: 'rp-label', 'text-anchor': 'end' }, label));
    const bw = (W - LW - 40) * n / max;
    const r = svg('rect', { x: LW, y: y + 4, width: Math.max(bw, 1), height: row - 8, fill: color, rx: 2 });
    r.setAttribute('data-value', n);
    s.appendChild(r);
    s.appendChild(svg('text', { x: LW + bw + 4, y: y + 16, class: 'rp-label' }, n));
  });
  return s;
}

// csatChart draws the count of each score, 1 to 5 stars.
function csatChart(c) {
  if (!c || !c.count) return h('p', 'empty small', '暂无评价');
  const W = 340, H = 150, B = 22, T = 14;
  const dist = c.dist || {};
  const max = Math.max(1, ...[1, 2, 3, 4, 5].map((k) => dist[k] || 0));
  const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'rp-svg', role: 'img', 'aria-label': '满意度分布' });
  const slot = W / 5, plotH = H - B - T;
  for (let k = 1; k <= 5; k++) {
    const n = dist[k] || 0, bh = plotH * n / max, x = (k - 1) * slot + slot * 0.2;
    const r = svg('rect', { x: x, y: T + plotH - bh, width: slot * 0.6, height: bh, fill: RP_COLORS.csat, rx: 2 });
    r.setAttribute('data-score', k);
    r.setAttribute('data-value', n);
    s.appendChild(r);
    s.appendChild(svg('text', { x: x + slot * 0.3, y: T + plotH - bh - 3, class: 'rp-label', 'text-anchor': 'middle' }, n));
    s.appendChild(svg('text', { x: x + slot * 0.3, y: H - 6, class: 'rp-axis', 'text-anchor': 'middle' }, k + '★'));
  }
  return s;
}

function renderAgents(agents) {
  const body = $('rp-agents-body');
  body.replaceChildren();
  for (const a of agents) {
    const tr = h('tr');
    tr.setAttribute('data-testid', 'rp-agent-row');
    tr.setAttribute('data-agent', a.name);
    const cells = [a.name, a.chats, a.resolved, rpPair(a.first_response_s), rpPair(a.handling_s), a.csat.count,
      a.csat.avg === null ? '—' : a.csat.avg.toFixed(2)];
    cells.forEach((v, i) => tr.appendChild(h('td', i > 0 ? 'num' : '', v)));
    body.appendChild(tr);
  }
  if (!agents.length) {
    const tr = h('tr');
    const td = h('td', 'muted', '该范围内没有客服数据');
    td.colSpan = 7;
    tr.appendChild(td);
    body.appendChild(tr);
  }
}

// fillAgentOptions adds agents to the agent filter, keeping the choice.
function fillAgentOptions(names) {
  const sel = $('rp-agent');
  const have = new Set([...sel.options].map((o) => o.value));
  for (const n of names.slice().sort()) {
    if (!n || have.has(n)) continue;
    const o = h('option', '', n);
    o.value = n;
    sel.appendChild(o);
    have.add(n);
  }
}

function fillGroupOptions(groups) {
  const sel = $('rp-group');
  const have = new Set([...sel.options].map((o) => o.value));
  for (const g of groups) {
    if (have.has(g)) continue;
    const o = h('option', '', groupLabel(g));
    o.value = g;
    sel.appendChild(o);
  }
}

// ---------------------------------------------------------------------------
// Live panel

async function loadLive() {
  const sess = S.session;
  try {
    const [p, q] = await Promise.all([api('GET', '/api/presence'), api('GET', '/api/queue')]);
    if (sess !== S.session || $('reports-panel').hidden) return;
    const agents = Array.isArray(p.agents) ? p.agents : [];
    fillGroupOptions(Array.isArray(p.groups) ? p.groups : []);
    fillAgentOptions(agents.map((a) => a.agent));
    const waiting = Array.isArray(q.waiting) ? q.waiting : [];
    const online = agents.filter((a) => a.status === 'online');
    const longest = waiting.reduce((m, w) => Math.max(m, w.waiting_s || 0), 0);
    $('rp-live-online').textContent = String(online.length);
    $('rp-live-waiting').textContent = String(waiting.length);
    $('rp-live-longest').textContent = waiting.length ? fmtDuration(longest) : '—';
    const list = $('rp-live-agents');
    list.replaceChildren();
    for (const a of agents.filter((x) => x.status !== 'offline')) {
      const li = h('li', 'rp-load');
      li.setAttribute('data-testid', 'rp-live-agent');
      li.setAttribute('data-agent', a.agent);
      const cap = a.max_chats || 1;
      const bar = h('span', 'rp-load-bar');
      const fill = h('span', 'rp-load-fill');
      fill.style.width = Math.min(100, Math.round(100 * a.load / cap)) + '%';
      bar.appendChild(fill);
      const name = h('span', 'rp-load-name', a.agent + (a.status === 'away' ? '（离开）' : ''));
      name.title = a.shown_name ? '顾客看到：' + a.shown_name : '';
      li.append(name, bar,
        h('span', 'rp-load-num', a.load + '/' + a.max_chats));
      list.appendChild(li);
    }
    if (!list.children.length) list.appendChild(h('li', 'empty small', '暂无在线客服'));
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    $('rp-live-online').textContent = '—';
  }
}

function wireReports() {
  $('reports-btn').addEventListener('click', openReports);
  wireModal('reports', closeReports);
  $('rp-form').addEventListener('submit', loadReport);
  for (const b of document.querySelectorAll('[data-rp-days]')) {
    b.addEventListener('click', () => {
      rpRange(Number(b.getAttribute('data-rp-days')));
      loadReport();
    });
  }
  $('rp-group').addEventListener('change', () => loadReport());
  $('rp-agent').addEventListener('change', () => loadReport());
}
