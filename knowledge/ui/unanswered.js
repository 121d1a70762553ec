/* Kefu 知识库 — the questions the bot could not answer: dismissing them, or attaching them
 * to an article as questions. */
'use strict';

// ---------------------------------------------------------------------------
// Unanswered questions

async function loadUnanswered(countOnly) {
  const sess = S.session;
  const err = $('unanswered-error');
  try {
    const d = await api('GET', '/api/unanswered');
    if (sess !== S.session) return;
    const groups = Array.isArray(d.groups) ? d.groups.filter(Boolean) : [];
    const c = $('unanswered-count');
    c.textContent = String(groups.length);
    c.classList.toggle('hot', groups.length > 0);
    show(c, groups.length > 0);
    if (countOnly && S.view !== 'unanswered') return;
    show(err, false);
    renderUnanswered(groups, Number(d.total) || 0);
  } catch (e) {
    if (sess !== S.session || e.status === 401 || countOnly) return;
    showText(err, '无法加载：' + e.message);
  }
}

function renderUnanswered(groups, total) {
  $('unanswered-total').textContent = groups.length ? groups.length + ' 组，共 ' + total + ' 个问题' : '';
  const ul = $('unanswered-list');
  ul.replaceChildren();
  for (const g of groups) {
    const items = Array.isArray(g.items) ? g.items.filter(Boolean) : [];
    const ids = items.map((i) => i.id);
    const li = h('li', 'ugroup');
    li.setAttribute('data-testid', 'unanswered-group');
    li.setAttribute('data-text', g.text || '');
    const main = h('div', 'ugroup-main');
    main.appendChild(h('div', 'ugroup-text', g.text));
    const meta = h('div', 'ugroup-meta');
    meta.appendChild(h('span', '', '被问 ' + (g.count || items.length) + ' 次'));
    meta.appendChild(h('span', '', '最近 ' + fmtTime(g.latest)));
    const reasons = Array.from(new Set(items.map((i) => i.reason).filter(Boolean)));
    if (reasons.length) meta.appendChild(h('span', '', reasons.map((r) => REASONS[r] || r).join('、')));
    if (g.article) {
      const near = h('span', '', '最接近的文章：');
      const link = h('button', 'link', g.article_title || g.article);
      link.type = 'button';
      link.addEventListener('click', () => openArticle(g.article));
      near.appendChild(link);
      meta.appendChild(near);
    }
    main.appendChild(meta);
    if (items.length > 1) {
      const det = h('details', 'ugroup-more');
      det.appendChild(h('summary', '', '全部问法'));
      const list = h('ul');
      for (const it of items) {
        const p = pct(it.confidence);
        list.appendChild(h('li', '', it.text + '（' + fmtTime(it.at) + (p !== null ? ' · 置信度 ' + p + '%' : '') + '）'));
      }
      det.appendChild(list);
      main.appendChild(det);
    }
    li.appendChild(main);
    const acts = h('div', 'ugroup-actions');
    const create = h('button', 'btn primary', '创建文章');
    create.type = 'button';
    create.setAttribute('data-testid', 'ug-create');
    create.addEventListener('click', () => newArticle({ questions: [g.text], unanswered: ids }));
    const attach = h('button', 'btn', '添加到文章…');
    attach.type = 'button';
    attach.setAttribute('data-testid', 'ug-attach');
    attach.addEventListener('click', () => openAttach(g, ids));
    const dismiss = h('button', 'btn ghost', '忽略');
    dismiss.type = 'button';
    dismiss.setAttribute('data-testid', 'ug-dismiss');
    dismiss.addEventListener('click', () => dismissGroup(g, ids, li, dismiss));
    acts.appendChild(create);
    acts.appendChild(attach);
    acts.appendChild(dismiss);
    li.appendChild(acts);
    ul.appendChild(li);
  }
  show($('unanswered-empty'), groups.length === 0);
}

async function dismissGroup(g, ids, li, btn) {
  btn.disabled = true;
  try {
    await api('POST', '/api/unanswered/dismiss', { ids: ids });
    li.remove();
    toast('已忽略「' + g.text + '」', 'ok');
    loadUnanswered();
  } catch (e) {
    btn.disabled = false;
    if (e.status !== 401) toast('忽略失败：' + e.message);
  }
}

function openAttach(g, ids) {
  S.attach = { group: g, ids: ids, picked: null, seq: 0 };
  $('attach-question').value = g.text || '';
  $('attach-search').value = g.text || '';
  $('attach-results').replaceChildren();
  show($('attach-error'), false);
  $('attach-confirm').disabled = true;
  show($('attach-panel'), true);
  attachSearch();
  setTimeout(() => $('attach-search').select(), 0);
}

function closeAttach() {
  S.attach = null;
  show($('attach-panel'), false);
}

async function attachSearch() {
  const st = S.attach;
  if (!st) return;
  const seq = ++st.seq;
  const q = $('attach-search').value.trim();
  try {
    const d = await api('GET', '/api/articles' + (q ? '?q=' + enc(q) : ''));
    if (S.attach !== st || seq !== st.seq) return;
    const ul = $('attach-results');
    ul.replaceChildren();
    const arts = (Array.isArray(d.articles) ? d.articles.filter(Boolean) : []).slice(0, 30);
    for (const a of arts) {
      const li = h('li');
      const b = h('button', 'list-item aitem' + (st.picked && st.picked.id === a.id ? ' is-open' : ''));
      b.type = 'button';
      b.setAttribute('data-testid', 'attach-result');
      b.setAttribute('data-id', a.id);
      const top = h('div', 'aitem-top');
      top.appendChild(h('span', 'aitem-title', a.title || a.id));
      top.appendChild(statusPill(a.status));
      b.appendChild(top);
      const meta = h('div', 'aitem-meta');
      meta.appendChild(categoryBadge(a.category));
      meta.appendChild(h('span', 'aitem-id', a.id));
      meta.appendChild(h('span', '', (Number(a.questions) || 0) + ' 个问法'));
      if (a.score) meta.appendChild(h('span', 'aitem-score', '匹配 ' + Number(a.score).toFixed(2)));
      b.appendChild(meta);
      b.addEventListener('click', () => {
        st.picked = a;
        for (const x of ul.querySelectorAll('.aitem')) x.classList.toggle('is-open', x === b);
        $('attach-confirm').disabled = false;
      });
      li.appendChild(b);
      ul.appendChild(li);
    }
    if (!arts.length) ul.appendChild(h('li', 'empty', '没有找到文章'));
  } catch (e) {
    if (S.attach !== st || e.status === 401) return;
    showText($('attach-error'), e.message);
  }
}

const attachSearchSoon = debounce(attachSearch, SEARCH_MS);

async function attachConfirm() {
  const st = S.attach;
  if (!st || !st.picked) return;
  const question = $('attach-question').value.trim();
  const err = $('attach-error');
  if (!question) {
    showText(err, '请填写要添加的问法');
    return;
  }
  const btn = $('attach-confirm');
  btn.disabled = true;
  show(err, false);
  try {
    const a = await api('POST', '/api/unanswered/attach', { ids: st.ids, article: st.picked.id, version: st.picked.version, question: question });
    if (S.attach !== st) return;
    closeAttach();
    toast('已把「' + question + '」添加到「' + (a.title || a.id) + '」（第 ' + a.version + ' 版）', 'ok');
    loadUnanswered();
    loadList();
    if (S.cur && S.cur.art && S.cur.art.id === a.id) {
      if (isDirty()) showConflict('这篇文章刚刚新增了一个问法（第 ' + a.version + ' 版），您的修改尚未保存。', a);
      else {
        S.cur = { isNew: false, art: a, unanswered: [] };
        fillForm(a);
      }
    }
  } catch (e) {
    if (S.attach !== st || e.status === 401) return;
    btn.disabled = false;
    showText(err, e.message);
    if (e.status === 409) attachSearch(); // the article changed: pick up its new version
  }
}
