/* Kefu 知识库 — the tester: what the bot would do, with the published articles and with
 * the draft in the editor. */
'use strict';

// ---------------------------------------------------------------------------
// The tester: what the bot would do, published vs. with this draft

function resetTester() {
  for (const id of ['tester-published', 'tester-draft']) {
    const col = $(id);
    col.removeAttribute('data-action');
    col.removeAttribute('data-article');
    col.querySelector('.tbody').replaceChildren(h('p', 'empty small', '尚未测试'));
  }
  show($('tester-error'), false);
}

async function ask(ev) {
  if (ev) ev.preventDefault();
  const text = $('tester-input').value.trim();
  const err = $('tester-error');
  if (!text) {
    showText(err, '请输入一个顾客的问题');
    $('tester-input').focus();
    return;
  }
  show(err, false);
  const body = { text: text };
  const cur = S.cur;
  let draftId = '';
  let why = '打开或新建一篇文章后可对比';
  if (cur && !cur.deleted) {
    const f = formBody();
    if (f.title && f.answer.trim()) {
      f.id = cur.isNew ? f.id || '' : cur.art.id;
      f.status = 'published';
      body.draft = f;
      draftId = f.id || 'draft';
    } else {
      why = '填写标题和答案后可对比';
    }
  }
  const seq = ++S.askSeq;
  const btn = $('tester-ask');
  btn.disabled = true;
  for (const id of ['tester-published', 'tester-draft']) $(id).setAttribute('aria-busy', 'true');
  try {
    const d = await api('POST', '/api/editor/ask', body);
    if (seq !== S.askSeq) return;
    renderDecision($('tester-published'), d.published, '');
    if (d.draft) renderDecision($('tester-draft'), d.draft, draftId);
    else {
      const col = $('tester-draft');
      col.removeAttribute('data-action');
      col.removeAttribute('data-article');
      col.querySelector('.tbody').replaceChildren(h('p', 'empty small', why));
    }
  } catch (e) {
    if (seq !== S.askSeq || e.status === 401) return;
    err.textContent = (body.draft ? '草稿无法测试：' : '') + e.message;
    err.setAttribute('data-code', e.code || '');
    show(err, true);
  } finally {
    if (seq === S.askSeq) {
      btn.disabled = false;
      for (const id of ['tester-published', 'tester-draft']) $(id).removeAttribute('aria-busy');
    }
  }
}

function renderDecision(col, d, draftId) {
  d = d || {};
  const art = d.article && d.article.id ? d.article : null;
  col.setAttribute('data-action', d.action || '');
  col.setAttribute('data-article', art ? art.id : '');
  const body = col.querySelector('.tbody');
  body.replaceChildren();
  const dl = h('dl', 'tfacts');
  const add = (label, node) => {
    dl.appendChild(h('dt', '', label));
    const dd = h('dd');
    dd.appendChild(node);
    dl.appendChild(dd);
    return dd;
  };
  const act = h('span', 'tact a-' + (d.action || ''), ACTIONS[d.action] || d.action || '—');
  act.setAttribute('data-testid', 'tester-action');
  add('动作', act);
  const p = pct(d.confidence);
  const conf = h('span');
  if (p === null) conf.textContent = '—';
  else {
    conf.appendChild(h('span', '', p + '%'));
    const meter = h('span', 'meter' + (p < 40 ? ' low' : p < 70 ? ' mid' : ''));
    const fill = h('span', 'meter-fill');
    fill.style.width = p + '%';
    meter.appendChild(fill);
    conf.appendChild(meter);
  }
  add('置信度', conf);
  if (d.reason) add('原因', h('span', '', REASONS[d.reason] || d.reason)).title = d.reason;
  if (d.action === 'smalltalk') add('寒暄', h('span', '', SMALLTALK[d.intent] || d.intent || '—'));
  const artEl = h('span', 'tart' + (art && draftId && art.id === draftId ? ' is-draft' : ''));
  artEl.setAttribute('data-testid', 'tester-article');
  if (art) {
    artEl.textContent = (art.title || art.id) + (draftId && art.id === draftId ? '（草稿）' : '');
    artEl.title = art.id;
  } else artEl.textContent = '—';
  add('文章', artEl);
  body.appendChild(dl);
  if (d.text) {
    const t = h('p', 'ttext', d.text);
    t.setAttribute('data-testid', 'tester-text');
    body.appendChild(t);
  }
  const hits = Array.isArray(d.hits) ? d.hits.filter(Boolean).slice(0, 5) : [];
  if (hits.length) {
    const table = h('table', 'table thits');
    const thead = h('thead');
    const hr = h('tr');
    hr.appendChild(h('th', '', '候选文章'));
    hr.appendChild(h('th', 'num', '得分'));
    thead.appendChild(hr);
    table.appendChild(thead);
    const tb = h('tbody');
    for (const hit of hits) {
      const tr = h('tr', draftId && hit.id === draftId ? 'is-draft' : '');
      tr.setAttribute('data-testid', 'tester-hit');
      tr.setAttribute('data-id', hit.id || '');
      const td = h('td', '', hit.title || hit.id);
      td.title = hit.id || '';
      tr.appendChild(td);
      const sc = Number(hit.score);
      tr.appendChild(h('td', 'num', Number.isFinite(sc) ? sc.toFixed(2) : '—'));
      tb.appendChild(tr);
    }
    table.appendChild(tb);
    body.appendChild(table);
  }
}
