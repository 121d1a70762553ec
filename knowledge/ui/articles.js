/* Kefu 知识库 — the article list, the editor form and its live preview. */
'use strict';

// ---------------------------------------------------------------------------
// Article list

function fillCategorySelects() {
  const f = $('filter-category');
  const keep = f.value;
  f.replaceChildren(new Option('全部分类', ''));
  const ed = $('art-category');
  const keepEd = ed.value;
  ed.replaceChildren();
  for (const c of S.categories) {
    f.appendChild(new Option(categoryLabel(c) + '（' + c + '）', c));
    ed.appendChild(new Option(categoryLabel(c) + '（' + c + '）', c));
  }
  f.value = keep;
  if (keepEd) ed.value = keepEd;
}

async function loadList() {
  const seq = ++S.listSeq;
  const sess = S.session;
  const q = new URLSearchParams();
  const text = $('article-search').value.trim();
  if (text) q.set('q', text);
  if ($('filter-category').value) q.set('category', $('filter-category').value);
  if ($('filter-status').value) q.set('status', $('filter-status').value);
  if ($('filter-tag').value.trim()) q.set('tag', $('filter-tag').value.trim());
  if ($('filter-review').checked) q.set('review', '1');
  const err = $('list-error');
  try {
    const d = await api('GET', '/api/articles' + (q.toString() ? '?' + q : ''));
    if (seq !== S.listSeq || sess !== S.session) return;
    show(err, false);
    if (Array.isArray(d.categories) && d.categories.length && d.categories.join() !== S.categories.join()) {
      S.categories = d.categories.slice();
      fillCategorySelects();
    }
    renderList(Array.isArray(d.articles) ? d.articles.filter(Boolean) : [], !!text);
  } catch (e) {
    if (seq !== S.listSeq || sess !== S.session || e.status === 401) return;
    showText(err, '无法加载文章列表：' + e.message);
  }
}

const loadListSoon = debounce(loadList, SEARCH_MS);

function renderList(arts, searched) {
  const ul = $('article-list');
  ul.replaceChildren();
  const openId = S.cur && S.cur.art ? S.cur.art.id : '';
  for (const a of arts) {
    for (const t of a.tags || []) S.tags.add(t);
    const li = h('li');
    const b = h('button', 'list-item aitem' + (a.id === openId ? ' is-open' : ''));
    b.type = 'button';
    b.setAttribute('data-testid', 'article-item');
    b.setAttribute('data-id', a.id);
    b.setAttribute('data-status', a.status || '');
    const top = h('div', 'aitem-top');
    top.appendChild(h('span', 'aitem-title', a.title || a.id));
    top.appendChild(statusPill(a.status));
    if (a.review) top.appendChild(h('span', 'pill s-review', '待审核'));
    b.appendChild(top);
    const meta = h('div', 'aitem-meta');
    meta.appendChild(categoryBadge(a.category));
    meta.appendChild(h('span', 'aitem-id', a.id));
    meta.appendChild(h('span', '', (Number(a.questions) || 0) + ' 个问法'));
    if (a.after_sales) meta.appendChild(h('span', '', '售后'));
    meta.appendChild(h('span', '', (a.updated_by || '—') + ' · ' + fmtTime(a.updated_at)));
    if (searched && a.score) meta.appendChild(h('span', 'aitem-score', '匹配 ' + Number(a.score).toFixed(2)));
    b.appendChild(meta);
    b.title = a.title + '\n' + a.id + ' · 第 ' + a.version + ' 版';
    b.addEventListener('click', () => openArticle(a.id));
    li.appendChild(b);
    ul.appendChild(li);
  }
  $('list-count').textContent = String(arts.length);
  show($('list-empty'), arts.length === 0);
  const dl = $('tag-options');
  dl.replaceChildren();
  for (const t of Array.from(S.tags).sort()) dl.appendChild(new Option(t, t));
}

function markOpenInList() {
  const openId = S.cur && S.cur.art ? S.cur.art.id : '';
  for (const b of $('article-list').querySelectorAll('.aitem')) {
    b.classList.toggle('is-open', b.getAttribute('data-id') === openId);
  }
}

// ---------------------------------------------------------------------------
// The editor form

function questionRow(value) {
  const li = h('li', 'qrow');
  const inner = h('div', 'qrow-inner');
  const input = h('input');
  input.type = 'text';
  input.maxLength = 200;
  input.value = value || '';
  input.placeholder = '顾客会怎么问？如：旧手机能抵钱吗';
  input.setAttribute('data-testid', 'question-input');
  input.setAttribute('aria-label', '问法');
  input.autocomplete = 'off';
  const rm = h('button', 'icon-btn', '×');
  rm.type = 'button';
  rm.title = '删除这个问法';
  rm.setAttribute('aria-label', '删除这个问法');
  rm.setAttribute('data-testid', 'remove-question');
  rm.addEventListener('click', () => removeQuestionRow(li));
  input.addEventListener('keydown', (ev) => {
    if (ev.isComposing || ev.keyCode === 229) return; // IME candidate selection
    if (ev.key === 'Enter') {
      ev.preventDefault();
      addQuestionRow('', li).focus();
    } else if (ev.key === 'Backspace' && !input.value && $('question-list').children.length > 1) {
      ev.preventDefault();
      const prev = li.previousElementSibling || li.nextElementSibling;
      removeQuestionRow(li);
      if (prev) prev.querySelector('input').focus();
    }
  });
  input.addEventListener('input', onFormInput);
  inner.appendChild(input);
  inner.appendChild(rm);
  li.appendChild(inner);
  return li;
}

// addQuestionRow adds a row after the row `after` (at the end without one) and
// returns its input.
function addQuestionRow(value, after) {
  const list = $('question-list');
  const li = questionRow(value);
  if (after && after.nextSibling) list.insertBefore(li, after.nextSibling);
  else list.appendChild(li);
  onFormInput();
  return li.querySelector('input');
}

function removeQuestionRow(li) {
  li.remove();
  if (!$('question-list').children.length) addQuestionRow('');
  onFormInput();
}

// formBody is the form as an article body for POST, PUT and the tester.
function formBody() {
  const questions = [];
  for (const i of $('question-list').querySelectorAll('input')) {
    const v = i.value.trim();
    if (v && !questions.includes(v)) questions.push(v);
  }
  const body = {
    title: $('art-title').value.trim(),
    category: $('art-category').value,
    questions: questions,
    answer: $('art-answer').value,
    tags: splitTags($('art-tags').value),
    after_sales: $('art-after-sales').checked,
    lang: $('art-lang').value,
  };
  if (S.cur && S.cur.isNew) {
    const id = $('art-id').value.trim();
    if (id) body.id = id;
  }
  return body;
}

function isDirty() {
  return !!S.cur && !S.cur.deleted && JSON.stringify(formBody()) !== S.snapshot;
}

function updateDirty() {
  show($('ed-dirty'), isDirty());
}

function onFormInput() {
  updateDirty();
  show($('editor-ok'), false);
}

function clearFormMessages() {
  show($('editor-error'), false);
  $('editor-error').removeAttribute('data-code');
  show($('editor-ok'), false);
  show($('conflict-box'), false);
}

// fillForm puts an article (or a new one's defaults) in the form.
function fillForm(a) {
  a = a || {};
  $('art-title').value = a.title || '';
  $('art-id').value = a.id && S.cur && S.cur.isNew ? a.id : '';
  $('art-id-show').textContent = a.id || '';
  const cat = $('art-category');
  cat.value = a.category && S.categories.includes(a.category) ? a.category : S.categories[0] || 'presale';
  const list = $('question-list');
  list.replaceChildren();
  const qs = Array.isArray(a.questions) ? a.questions : [];
  for (const q of qs) list.appendChild(questionRow(q));
  if (!qs.length) list.appendChild(questionRow(''));
  $('art-answer').value = a.answer || '';
  $('art-tags').value = (a.tags || []).join(', ');
  $('art-after-sales').checked = !!a.after_sales;
  // Keep a language the select does not list, so that a save does not change it.
  const lang = $('art-lang');
  const l = a.lang || '';
  if (l && !Array.from(lang.options).some((o) => o.value === l)) lang.appendChild(new Option(l, l));
  lang.value = l;
  if (typeof a.html === 'string') {
    S.previewSeq++;
    $('answer-preview').innerHTML = a.html; // sanitised by the server
    show($('preview-problem'), false);
  } else {
    refreshPreview();
  }
  S.snapshot = JSON.stringify(formBody());
  clearFormMessages();
  renderEditor();
}

// renderEditor shows the editor's chrome for S.cur: heading, status, version, buttons.
function renderEditor() {
  const cur = S.cur;
  show($('editor-empty'), !cur);
  show($('editor-pane'), !!cur);
  markOpenInList();
  if (!cur) return;
  const a = cur.art;
  const status = cur.isNew ? 'new' : a.status;
  $('ed-heading').textContent = cur.isNew ? '新建文章' : a.title || a.id;
  const st = $('ed-status');
  st.textContent = cur.deleted ? '已删除' : STATUSES[status] || status;
  st.className = 'pill s-' + (cur.deleted ? 'draft' : status);
  st.setAttribute('data-status', cur.deleted ? 'deleted' : status);
  show($('ed-review'), !!(a && a.review));
  // A proposal names the chat it came from: the console opens it at #c=ID.
  const conv = a && a.conversation ? String(a.conversation) : '';
  show($('ed-source'), !!conv);
  $('ed-source-link').textContent = conv;
  $('ed-source-link').href = conv ? '/console#c=' + enc(conv) : '/console';
  const v = $('ed-version');
  v.textContent = a ? '第 ' + a.version + ' 版 · ' + (a.updated_by || '—') + ' · ' + fmtTime(a.updated_at) : '';
  v.setAttribute('data-version', a ? String(a.version) : '0');
  show($('art-id-field'), cur.isNew);
  show($('art-id-show-field'), !cur.isNew);
  show($('delete-btn'), !cur.isNew && !cur.deleted);
  const published = a && a.status === 'published';
  $('save-draft-btn').textContent = published ? '撤回为草稿' : '保存草稿';
  $('publish-btn').textContent = published ? '保存并发布' : '发布';
  for (const id of ['save-draft-btn', 'publish-btn', 'delete-btn']) $(id).disabled = S.saving;
  $('tab-edit').disabled = !!cur.deleted;
  $('tab-history').disabled = cur.isNew;
  updateDirty();
  document.title = (cur.isNew ? '新建文章' : a.title || a.id) + ' · ' + BASE_TITLE;
}

async function leaveCurrent() {
  if (!isDirty()) return true;
  return confirmDialog('当前文章有未保存的修改，确定放弃这些修改吗？', '放弃修改', true);
}

async function openArticle(id, opts) {
  opts = opts || {};
  if (!opts.force && !(await leaveCurrent())) return;
  const sess = S.session;
  try {
    const a = await api('GET', '/api/articles/' + enc(id));
    if (sess !== S.session) return;
    S.cur = { isNew: false, art: a, unanswered: [] };
    fillForm(a);
    setView('articles');
    showTab(opts.tab || 'edit');
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    toast('无法打开文章「' + id + '」：' + e.message);
  }
}

// newArticle opens an empty form; prefill may give questions and the ids of the
// unanswered questions the article answers.
async function newArticle(prefill) {
  if (!(await leaveCurrent())) return;
  prefill = prefill || {};
  S.cur = { isNew: true, art: null, unanswered: prefill.unanswered || [] };
  fillForm({ questions: prefill.questions || [], category: prefill.category || '' });
  if (prefill.questions && prefill.questions.length) {
    // Prefilled rows are content the editor has not saved yet.
    S.snapshot = JSON.stringify(Object.assign(formBody(), { questions: [] }));
    updateDirty();
  }
  setView('articles');
  showTab('edit');
  $('art-title').focus();
}

// save saves the form with the given status: POST for a new article, PUT with the
// version the editor loaded for an existing one.
async function save(status) {
  const cur = S.cur;
  if (!cur || cur.deleted || S.saving) return;
  clearFormMessages();
  const body = formBody();
  body.status = status;
  let problem = '';
  if (!body.title) problem = '请填写标题';
  else if (!body.answer.trim()) problem = '请填写答案';
  if (problem) {
    showEditorError(problem, 'invalid');
    return;
  }
  const sess = S.session;
  S.saving = true;
  renderEditor();
  try {
    let a;
    if (cur.isNew) {
      if (cur.unanswered && cur.unanswered.length) body.unanswered = cur.unanswered;
      a = await api('POST', '/api/articles', body);
    } else {
      body.version = cur.art.version;
      body.review = !!cur.art.review && status === 'draft';
      a = await api('PUT', '/api/articles/' + enc(cur.art.id), body);
    }
    if (sess !== S.session) return;
    const answered = cur.isNew && cur.unanswered && cur.unanswered.length;
    S.cur = { isNew: false, art: a, unanswered: [] };
    S.saving = false;
    fillForm(a);
    setHash();
    const ok = $('editor-ok');
    ok.textContent = (status === 'published' ? '已发布' : '已保存为草稿') + '（第 ' + a.version + ' 版）' +
      (status === 'published' ? '，机器人一秒内即可用它回答' : '，发布前顾客看不到');
    show(ok, true);
    loadList();
    loadStatus();
    if (answered) loadUnanswered(true);
    if (S.tab === 'history') loadHistory();
  } catch (e) {
    if (sess !== S.session) return;
    S.saving = false;
    renderEditor();
    if (e.status === 401) return;
    if (e.status === 409 && e.code === 'conflict' && e.data && e.data.latest) {
      showConflict(e.message, e.data.latest);
    } else {
      showEditorError(e.message, e.code);
    }
  }
}

function showEditorError(message, code) {
  const err = $('editor-error');
  err.textContent = message;
  err.setAttribute('data-code', code || '');
  show(err, true);
  err.scrollIntoView({ block: 'nearest' });
}

// showConflict tells that someone saved the article since it was loaded; the form
// keeps the editor's text until they choose to load the latest version.
function showConflict(message, latest) {
  S.conflictLatest = latest;
  $('conflict-message').textContent = message;
  $('conflict-version').textContent = String(latest.version);
  $('conflict-author').textContent = latest.updated_by || '—';
  $('conflict-at').textContent = fmtTime(latest.updated_at);
  show($('conflict-box'), true);
  $('conflict-box').scrollIntoView({ block: 'nearest' });
}

function reloadLatest() {
  const latest = S.conflictLatest;
  if (!latest) return;
  S.conflictLatest = null;
  S.cur = { isNew: false, art: latest, unanswered: [] };
  fillForm(latest);
  toast('已加载第 ' + latest.version + ' 版', 'info');
  loadList();
}

async function doDelete() {
  const cur = S.cur;
  if (!cur || cur.isNew || cur.deleted) return;
  const a = cur.art;
  const yes = await confirmDialog('删除文章「' + (a.title || a.id) + '」？\n机器人将不再使用它回答；历史版本会保留，可以从「历史版本」中恢复。', '删除', true);
  if (!yes || S.cur !== cur) return;
  const sess = S.session;
  clearFormMessages();
  try {
    await api('DELETE', '/api/articles/' + enc(a.id) + '?version=' + enc(a.version));
    if (sess !== S.session) return;
    toast('已删除「' + (a.title || a.id) + '」，可在历史版本中恢复', 'ok');
    S.cur = { isNew: false, art: a, deleted: true, unanswered: [] };
    renderEditor();
    showTab('history');
    loadList();
    loadStatus();
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    if (e.status === 409 && e.code === 'conflict' && e.data && e.data.latest) showConflict(e.message, e.data.latest);
    else showEditorError(e.message, e.code);
  }
}

// ---------------------------------------------------------------------------
// Live preview: the server renders and sanitises the Markdown as shoppers see it.

async function refreshPreview() {
  const seq = ++S.previewSeq;
  const answer = $('art-answer').value;
  const box = $('answer-preview');
  const prob = $('preview-problem');
  if (!answer.trim()) {
    box.replaceChildren();
    show(prob, false);
    return;
  }
  try {
    const d = await api('POST', '/api/editor/preview', { answer: answer });
    if (seq !== S.previewSeq) return;
    box.innerHTML = typeof d.html === 'string' ? d.html : ''; // sanitised by the server
    prob.textContent = d.problem ? '保存时会被拒绝：' + d.problem : '';
    show(prob, !!d.problem);
  } catch (e) {
    if (seq !== S.previewSeq || e.status === 401) return;
    showText(prob, '无法预览：' + e.message);
  }
}

const previewSoon = debounce(refreshPreview, PREVIEW_MS);
