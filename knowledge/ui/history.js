/* Kefu 知识库 — the editor's tabs, and an article's versions: their diffs and restoring one. */
'use strict';

// ---------------------------------------------------------------------------
// Tabs and history

function showTab(tab) {
  const cur = S.cur;
  if (tab === 'history' && (!cur || cur.isNew)) tab = 'edit';
  if (tab === 'edit' && cur && cur.deleted) tab = 'history';
  S.tab = tab;
  $('tab-edit').classList.toggle('is-on', tab === 'edit');
  $('tab-history').classList.toggle('is-on', tab === 'history');
  $('tab-edit').setAttribute('aria-selected', String(tab === 'edit'));
  $('tab-history').setAttribute('aria-selected', String(tab === 'history'));
  show($('editor-form'), tab === 'edit');
  show($('history-pane'), tab === 'history');
  if (tab === 'history') loadHistory();
}

async function loadHistory() {
  const cur = S.cur;
  if (!cur || !cur.art) return;
  const id = cur.art.id;
  const sess = S.session;
  const err = $('history-error');
  try {
    const d = await api('GET', '/api/articles/' + enc(id) + '/versions');
    if (sess !== S.session || S.cur !== cur) return;
    show(err, false);
    const vs = Array.isArray(d.versions) ? d.versions.filter(Boolean) : [];
    renderHistory(vs);
    const want = vs.some((v) => v.version === S.historyOpen && S.historyFor === id) ? S.historyOpen : vs.length ? vs[0].version : 0;
    if (want) loadVersion(want);
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    showText(err, '无法加载历史版本：' + e.message);
  }
}

function renderHistory(vs) {
  const ul = $('history-list');
  ul.replaceChildren();
  for (const v of vs) {
    const li = h('li');
    const b = h('button', 'list-item hitem');
    b.type = 'button';
    b.setAttribute('data-testid', 'history-item');
    b.setAttribute('data-version', String(v.version));
    b.setAttribute('data-action', v.action || '');
    const top = h('div', 'hitem-top');
    top.appendChild(h('span', 'hitem-v', '第 ' + v.version + ' 版'));
    top.appendChild(h('span', 'act a-' + (v.action || ''), HISTORY_ACTIONS[v.action] || v.action || '—'));
    if (!v.deleted && v.status) top.appendChild(statusPill(v.status));
    b.appendChild(top);
    let meta = (v.by || '—') + ' · ' + fmtTime(v.at);
    if (v.restored_from) meta += ' · 恢复自第 ' + v.restored_from + ' 版';
    b.appendChild(h('div', 'hitem-meta', meta));
    const fields = Array.isArray(v.fields) ? v.fields : [];
    if (fields.length) {
      const f = h('div', 'hitem-fields', '改动：' + fields.map((x) => FIELDS[x] || x).join('、'));
      f.setAttribute('data-testid', 'history-fields');
      f.setAttribute('data-fields', fields.join(','));
      b.appendChild(f);
    }
    b.addEventListener('click', () => loadVersion(v.version));
    li.appendChild(b);
    ul.appendChild(li);
  }
  if (!vs.length) ul.appendChild(h('li', 'empty', '暂无历史版本'));
}

async function loadVersion(n) {
  const cur = S.cur;
  if (!cur || !cur.art) return;
  const id = cur.art.id;
  S.historyOpen = n;
  S.historyFor = id;
  for (const b of $('history-list').querySelectorAll('.hitem')) {
    b.classList.toggle('is-open', b.getAttribute('data-version') === String(n));
  }
  const sess = S.session;
  const err = $('history-error');
  try {
    const d = await api('GET', '/api/articles/' + enc(id) + '/versions/' + enc(n));
    if (sess !== S.session || S.cur !== cur || S.historyOpen !== n) return;
    show(err, false);
    renderVersion(n, d);
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    showText(err, '无法加载第 ' + n + ' 版：' + e.message);
  }
}

function renderVersion(n, d) {
  const v = d.version || {};
  const box = $('history-detail');
  box.replaceChildren();
  box.setAttribute('data-version', String(n));
  const head = h('div', 'hdetail-head');
  head.appendChild(h('strong', '', '第 ' + n + ' 版'));
  head.appendChild(h('span', 'act a-' + (v.action || ''), HISTORY_ACTIONS[v.action] || v.action || ''));
  head.appendChild(h('span', 'muted small', (v.updated_by || '—') + ' · ' + fmtTime(v.updated_at)));
  const spacer = h('span', 'topbar-spacer');
  head.appendChild(spacer);
  const cur = S.cur;
  const latest = cur && cur.art ? cur.art.version : 0;
  if (!v.deleted && (cur.deleted || n !== latest)) {
    const rb = h('button', 'btn primary', '恢复此版本');
    rb.type = 'button';
    rb.id = 'restore-btn';
    rb.setAttribute('data-testid', 'restore-btn');
    rb.setAttribute('data-version', String(n));
    rb.addEventListener('click', () => restoreVersion(n));
    head.appendChild(rb);
  } else if (n === latest && !cur.deleted) {
    head.appendChild(h('span', 'pill s-published', '当前版本'));
  }
  box.appendChild(head);

  const against = Number(d.against) || 0;
  box.appendChild(h('div', 'muted small', against >= 1 ? '与第 ' + against + ' 版相比的改动：' : '首个版本的全部内容：'));
  const pre = h('div', 'diff');
  pre.setAttribute('data-testid', 'history-diff');
  const lines = Array.isArray(d.diff) ? d.diff : [];
  for (const l of lines) {
    const op = l && l.op === '+' ? 'add' : l && l.op === '-' ? 'del' : 'eq';
    const row = h('span', 'diff-line op-' + op, l ? l.text : '');
    row.setAttribute('data-testid', 'diff-line');
    row.setAttribute('data-op', op);
    pre.appendChild(row);
  }
  if (!lines.length) pre.appendChild(h('span', 'diff-line op-eq', '（内容没有变化）'));
  box.appendChild(pre);

  if (typeof d.html === 'string' && d.html) {
    const det = h('details');
    det.appendChild(h('summary', 'small', '此版本的答案（顾客看到的样子）'));
    const md = h('div', 'md preview');
    md.innerHTML = d.html; // sanitised by the server
    det.appendChild(md);
    box.appendChild(det);
  }
}

async function restoreVersion(n) {
  const cur = S.cur;
  if (!cur || !cur.art) return;
  let text = '用第 ' + n + ' 版的内容生成一个新版本？当前内容会保留在历史中。';
  if (isDirty()) text += '\n表单中未保存的修改将被丢弃。';
  if (!(await confirmDialog(text, '恢复此版本')) || S.cur !== cur) return;
  const sess = S.session;
  const err = $('history-error');
  show(err, false);
  try {
    const a = await api('POST', '/api/articles/' + enc(cur.art.id) + '/restore', { version: n, base: cur.deleted ? 0 : cur.art.version });
    if (sess !== S.session) return;
    S.cur = { isNew: false, art: a, unanswered: [] };
    fillForm(a);
    S.historyOpen = a.version;
    toast('已恢复第 ' + n + ' 版的内容（新的第 ' + a.version + ' 版）', 'ok');
    showTab('history');
    loadList();
    loadStatus();
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    showText(err, e.message);
    if (e.status === 409 && e.code === 'conflict' && e.data && e.data.latest) showConflict(e.message, e.data.latest);
  }
}
