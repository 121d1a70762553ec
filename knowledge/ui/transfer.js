/* Kefu 知识库 — importing and exporting articles. */
'use strict';

// ---------------------------------------------------------------------------
// Import and export

function updateExportLinks() {
  const st = $('export-status').value;
  const extra = st ? '&status=' + enc(st) : '';
  $('export-zip').href = '/api/articles/export?format=zip' + extra;
  $('export-jsonl').href = '/api/articles/export?format=jsonl' + extra;
}

function onImportFile() {
  const f = $('import-file').files && $('import-file').files[0];
  S.importFile = f || null;
  show($('import-result'), false);
  if (f) runImport(true);
  else {
    show($('import-plan'), false);
    show($('import-confirm'), false);
  }
}

async function runImport(dry) {
  const f = S.importFile;
  const err = $('import-error');
  show(err, false);
  if (!f) return;
  if (f.size > MAX_IMPORT) {
    showText(err, '文件超过 20 MB');
    return;
  }
  const name = f.name || 'import.jsonl';
  const isZip = /\.zip$/i.test(name);
  const status = $('import-status').value;
  const path = '/api/articles/import?name=' + enc(name) + (dry ? '&dry_run=1' : '') + (status ? '&status=' + enc(status) : '');
  const btn = $('import-confirm');
  btn.disabled = true;
  try {
    const d = await api('POST', path, undefined, { raw: f, contentType: isZip ? 'application/zip' : 'application/x-ndjson' });
    if (S.importFile !== f) return;
    renderPlan(d, dry);
    if (!dry) {
      showText($('import-result'), '已导入 ' + (Number(d.applied) || 0) + ' 篇文章');
      show(btn, false);
      S.importFile = null;
      $('import-file').value = '';
      loadList();
      loadStatus();
    }
  } catch (e) {
    if (e.status === 401) return;
    showText(err, (dry ? '无法读取文件：' : '导入失败：') + e.message + (e.data && e.data.applied ? '（已导入 ' + e.data.applied + ' 篇）' : ''));
  } finally {
    btn.disabled = false;
  }
}

function renderPlan(d, dry) {
  const plan = d.plan || {};
  const create = Array.isArray(plan.create) ? plan.create : [];
  const update = Array.isArray(plan.update) ? plan.update.filter(Boolean) : [];
  const unchanged = Array.isArray(plan.unchanged) ? plan.unchanged : [];
  const problems = Array.isArray(d.problems) ? d.problems.filter(Boolean) : [];
  const box = $('import-plan');
  box.replaceChildren();
  const sum = h('div', 'plan-sum');
  sum.appendChild(h('span', 'pill s-published', (dry ? '将新建 ' : '新建 ') + create.length));
  sum.appendChild(h('span', 'pill s-new', (dry ? '将更新 ' : '更新 ') + update.length));
  sum.appendChild(h('span', 'pill', '未改变 ' + unchanged.length));
  if (problems.length) sum.appendChild(h('span', 'pill s-draft', '问题 ' + problems.length));
  box.appendChild(sum);
  const section = (cls, title, testid, rows) => {
    const s = h('div', 'plan-box ' + cls);
    s.setAttribute('data-testid', testid);
    s.appendChild(h('h4', '', title));
    const ul = h('ul');
    for (const r of rows) ul.appendChild(r);
    s.appendChild(ul);
    box.appendChild(s);
  };
  if (create.length) section('p-create', '新建 Create', 'plan-create', create.map((id) => h('li', 'mono', id)));
  if (update.length) {
    section('p-update', '更新 Update', 'plan-update', update.map((u) => {
      const li = h('li');
      li.appendChild(h('span', 'mono', u.id));
      const fields = Array.isArray(u.fields) ? u.fields : [];
      if (fields.length) li.appendChild(h('span', 'fields', ' — 改动：' + fields.join('、')));
      return li;
    }));
  }
  if (problems.length) {
    section('p-problems', '问题 Problems（这些条目不会导入）', 'plan-problems', problems.map((p) =>
      h('li', '', (p.file || '') + (p.line ? ':' + p.line : '') + ' — ' + (p.message || ''))));
  }
  if (unchanged.length) {
    const det = h('details', 'plan-box p-unchanged');
    det.appendChild(h('summary', '', '未改变 Unchanged：' + unchanged.length + ' 篇'));
    det.appendChild(h('p', 'mono', unchanged.join(', ')));
    box.appendChild(det);
  }
  show(box, true);
  const btn = $('import-confirm');
  const n = create.length + update.length;
  btn.textContent = '确认导入（' + n + ' 篇）';
  show(btn, dry && n > 0);
}
