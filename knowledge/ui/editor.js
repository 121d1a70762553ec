/* Kefu 知识库 — the knowledge editor.
 * Plain JS, no framework, no build step; the same look and sign-in as the agent console.
 * Server text goes in with textContent; the only innerHTML is the Markdown the server
 * rendered and sanitised (the preview and a version's answer). */
'use strict';

(function () {
  // ---------------------------------------------------------------------------
  // Labels

  const BASE_TITLE = 'Kefu 知识库';
  const PREVIEW_MS = 250;
  const SEARCH_MS = 250;
  const MAX_IMPORT = 20 << 20;
  const STATUS_MS = 5000; // how often the index state and the proposals count are polled

  const CATEGORIES = { presale: '售前', insale: '售中', aftersale: '售后', policy: '政策' };
  const STATUSES = { draft: '草稿', published: '已发布', new: '未保存' };
  const ACTIONS = { answer: '直接回答', clarify: '追问（给出选项）', handoff: '转人工' };
  const REASONS = {
    requested: '顾客要求转人工',
    after_sales: '售后问题',
    low_confidence: '机器人无把握',
    out_of_scope: '超出知识范围',
    negative_sentiment: '顾客情绪不满',
    repeated_miss: '多次未答上',
  };
  const FIELDS = {
    title: '标题',
    category: '分类',
    questions: '问法',
    answer: '答案',
    tags: '标签',
    after_sales: '售后',
    lang: '语言',
    status: '状态',
  };
  const HISTORY_ACTIONS = { create: '创建', update: '修改', restore: '恢复', delete: '删除', import: '导入' };
  // ERRORS word the failures whose answer has no message, where the kit's words do not fit.
  const ERRORS = { 404: '文章或版本不存在', 409: '文章已被他人修改，请刷新后重试', 413: '内容过大' };

  // ---------------------------------------------------------------------------
  // Small helpers (and those of the UI kit, kit.js)

  function fmtTime(v) {
    const ms = typeof v === 'number' ? v : Date.parse(String(v || ''));
    if (!ms || isNaN(ms) || ms < 0) return '';
    const d = new Date(ms);
    const now = new Date();
    const hm = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
    if (d.toDateString() === now.toDateString()) return '今天 ' + hm;
    const y = d.getFullYear() === now.getFullYear() ? '' : d.getFullYear() + '年';
    return y + (d.getMonth() + 1) + '月' + d.getDate() + '日 ' + hm;
  }

  function pct(x) {
    const n = Number(x);
    if (!Number.isFinite(n)) return null;
    return Math.max(0, Math.min(100, Math.round(n <= 1 ? n * 100 : n)));
  }

  function debounce(fn, ms) {
    let t = 0;
    const d = function () {
      clearTimeout(t);
      t = setTimeout(fn, ms);
    };
    d.cancel = () => clearTimeout(t);
    return d;
  }

  function categoryLabel(c) {
    return CATEGORIES[c] || c || '—';
  }

  function categoryBadge(c) {
    const b = h('span', 'badge c-' + (CATEGORIES[c] ? c : 'other'), categoryLabel(c));
    b.setAttribute('data-category', c || '');
    return b;
  }

  function statusPill(status) {
    const p = h('span', 'pill s-' + (status || 'draft'), STATUSES[status] || status || '—');
    p.setAttribute('data-testid', 'status-badge');
    p.setAttribute('data-status', status || '');
    return p;
  }

  function splitTags(s) {
    const out = [];
    for (const t of String(s || '').split(/[,，、;；]/)) {
      const v = t.trim();
      if (v && !out.includes(v)) out.push(v);
    }
    return out;
  }

  // ---------------------------------------------------------------------------
  // State

  const S = {
    me: null,
    session: 0, // bumped on login/logout; stale async results are dropped
    view: 'articles',
    categories: ['presale', 'insale', 'aftersale', 'policy'],
    tags: new Set(),
    listSeq: 0,
    // The article in the editor: {isNew, art (the saved entry, null when new),
    // unanswered (ids a create answers), deleted (its latest version is a deletion)}.
    cur: null,
    snapshot: '', // the form as last loaded or saved, to tell unsaved changes
    saving: false,
    previewSeq: 0,
    tab: 'edit',
    historyOpen: 0, // the version whose diff is shown
    historyFor: '', // the article of historyOpen
    conflictLatest: null, // the latest version a conflict answered with
    askSeq: 0,
    statusTimer: 0,
    attach: null, // {group, picked}
    importFile: null,
    confirmDone: null,
  };

  // ---------------------------------------------------------------------------
  // HTTP

  const api = newApi(ERRORS, () => onUnauthorized());

  // ---------------------------------------------------------------------------
  // The confirmation dialog

  // confirmDialog asks in the page (no native dialog) and resolves to true or false.
  function confirmDialog(text, okLabel, danger) {
    if (S.confirmDone) S.confirmDone(false);
    $('confirm-text').textContent = text;
    const ok = $('confirm-ok');
    ok.textContent = okLabel || '确定';
    ok.className = 'btn ' + (danger ? 'danger-outline' : 'primary');
    show($('confirm-panel'), true);
    const back = document.activeElement;
    setTimeout(() => ok.focus(), 0);
    return new Promise((resolve) => {
      S.confirmDone = (v) => {
        S.confirmDone = null;
        show($('confirm-panel'), false);
        if (back && back.focus) back.focus();
        resolve(v);
      };
    });
  }

  // ---------------------------------------------------------------------------
  // Sign-in (the console's flow: POST /api/login sets the session cookie)

  const login = newLogin({ title: BASE_TITLE, api: api, hide: ['boot', 'app'], started: startApp });

  function onUnauthorized() {
    if (!S.me) return;
    stopApp();
    login.show('登录已失效，请重新登录');
  }

  async function doLogout() {
    if (isDirty() && !(await confirmDialog('当前文章有未保存的修改，退出后将丢失。确定退出吗？', '退出', true))) return;
    const btn = $('logout-btn');
    btn.disabled = true;
    try {
      await api('POST', '/api/logout', undefined, { noAuthRedirect: true });
    } catch (_) {
      /* leave anyway */
    }
    btn.disabled = false;
    stopApp();
    login.show('');
  }

  function canEdit() {
    return !!S.me && (S.me.role === 'editor' || S.me.role === 'admin');
  }

  function startApp(me) {
    if (me && !me.name && me.user) me = me.user;
    me = me || {};
    S.session++;
    S.me = me;
    show($('boot'), false);
    show($('login-view'), false);
    show($('app'), true);
    $('me-name').textContent = me.name || '';
    $('me-avatar').textContent = (me.name || '?').slice(0, 1).toUpperCase();
    $('me-role').textContent = ROLES[me.role] || me.role || '';
    $('me-role').setAttribute('data-role', me.role || '');

    const ok = canEdit();
    show($('role-denied'), !ok);
    for (const b of document.querySelectorAll('.nav')) show(b, ok);
    if (!ok) {
      $('role-denied-text').textContent = '您当前的角色是「' + (ROLES[me.role] || me.role || '未知') + '」，无权编辑知识库。编辑和管理员才能编辑文章。';
      for (const v of ['view-articles', 'view-unanswered', 'view-transfer']) show($(v), false);
      return;
    }
    S.cur = null;
    S.snapshot = '';
    renderEditor();
    resetTester();
    loadList();
    loadUnanswered(true);
    loadStatus();
    clearInterval(S.statusTimer);
    S.statusTimer = setInterval(loadStatus, STATUS_MS);
    route();
  }

  function stopApp() {
    S.session++;
    clearInterval(S.statusTimer);
    setIndexBanner('');
    S.me = null;
    S.cur = null;
    S.snapshot = '';
    closeAttach();
    if (S.confirmDone) S.confirmDone(false);
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  }

  // ---------------------------------------------------------------------------
  // Views and the address (#a=ID, #new, #unanswered, #transfer)

  function setView(name) {
    S.view = name;
    for (const v of ['articles', 'unanswered', 'transfer']) {
      show($('view-' + v), v === name);
      $('nav-' + v).classList.toggle('is-on', v === name);
    }
    if (name === 'unanswered') loadUnanswered();
    setHash();
  }

  function setHash() {
    let hash = '';
    if (S.view !== 'articles') hash = '#' + S.view;
    else if (S.cur && S.cur.art) hash = '#a=' + enc(S.cur.art.id);
    else if (S.cur && S.cur.isNew) hash = '#new';
    if (hash !== location.hash) history.replaceState(null, '', location.pathname + location.search + hash);
  }

  function route() {
    const hash = location.hash || '';
    const m = /^#a=(.+)$/.exec(hash);
    if (m) {
      let id = '';
      try {
        id = decodeURIComponent(m[1]);
      } catch (_) {
        id = '';
      }
      setView('articles');
      if (id) openArticle(id);
    } else if (hash === '#new') {
      setView('articles');
      newArticle();
    } else if (hash === '#unanswered' || hash === '#transfer') {
      setView(hash.slice(1));
    } else {
      setView('articles');
    }
  }

  // ---------------------------------------------------------------------------
  // The node's state: a banner while the bot may answer from a stale index, and the
  // number of proposals waiting for review.

  async function loadStatus() {
    const sess = S.session;
    try {
      const d = await api('GET', '/api/editor/status');
      if (sess !== S.session) return;
      setIndexBanner(d.stale || d.ready === false ? 'stale' : '');
      const n = Number(d.proposals) || 0;
      const c = $('proposals-count');
      c.textContent = String(n);
      show(c, n > 0);
    } catch (e) {
      if (sess !== S.session || e.status === 401) return;
      setIndexBanner('unavailable');
    }
  }

  function setIndexBanner(state) {
    const b = $('index-banner');
    b.setAttribute('data-state', state);
    if (state === 'stale') {
      b.textContent = '⚠ 本节点的搜索索引暂时跟不上文章库：机器人可能仍在用旧的文章回答，刚保存的修改可能还没生效。恢复后会自动追上。' +
        '(This node cannot follow the article store: the bot may answer from an out-of-date index.)';
    } else if (state === 'unavailable') {
      b.textContent = '⚠ 暂时连不上服务器或文章库：保存可能失败，机器人可能仍在用旧的文章回答。恢复后此提示会自动消失。' +
        '(The server or the article store is unreachable.)';
    } else {
      b.textContent = '';
    }
    show(b, !!state);
  }

  // showProposals lists the proposals waiting for review.
  function showProposals() {
    $('filter-review').checked = true;
    $('filter-status').value = '';
    loadList();
  }

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
      err.textContent = '无法加载文章列表：' + e.message;
      show(err, true);
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
      const b = h('button', 'aitem' + (a.id === openId ? ' is-open' : ''));
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
      prob.textContent = '无法预览：' + e.message;
      show(prob, true);
    }
  }

  const previewSoon = debounce(refreshPreview, PREVIEW_MS);

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
      err.textContent = '无法加载历史版本：' + e.message;
      show(err, true);
    }
  }

  function renderHistory(vs) {
    const ul = $('history-list');
    ul.replaceChildren();
    for (const v of vs) {
      const li = h('li');
      const b = h('button', 'hitem');
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
      err.textContent = '无法加载第 ' + n + ' 版：' + e.message;
      show(err, true);
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
      err.textContent = e.message;
      show(err, true);
      if (e.status === 409 && e.code === 'conflict' && e.data && e.data.latest) showConflict(e.message, e.data.latest);
    }
  }

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
      err.textContent = '请输入一个顾客的问题';
      show(err, true);
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
      err.textContent = '无法加载：' + e.message;
      show(err, true);
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
        const b = h('button', 'aitem' + (st.picked && st.picked.id === a.id ? ' is-open' : ''));
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
      $('attach-error').textContent = e.message;
      show($('attach-error'), true);
    }
  }

  const attachSearchSoon = debounce(attachSearch, SEARCH_MS);

  async function attachConfirm() {
    const st = S.attach;
    if (!st || !st.picked) return;
    const question = $('attach-question').value.trim();
    const err = $('attach-error');
    if (!question) {
      err.textContent = '请填写要添加的问法';
      show(err, true);
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
      err.textContent = e.message;
      show(err, true);
      if (e.status === 409) attachSearch(); // the article changed: pick up its new version
    }
  }

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
      err.textContent = '文件超过 20 MB';
      show(err, true);
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
        const res = $('import-result');
        res.textContent = '已导入 ' + (Number(d.applied) || 0) + ' 篇文章';
        show(res, true);
        show(btn, false);
        S.importFile = null;
        $('import-file').value = '';
        loadList();
        loadStatus();
      }
    } catch (e) {
      if (e.status === 401) return;
      err.textContent = (dry ? '无法读取文件：' : '导入失败：') + e.message + (e.data && e.data.applied ? '（已导入 ' + e.data.applied + ' 篇）' : '');
      show(err, true);
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

  // ---------------------------------------------------------------------------
  // Wiring

  function wire() {
    $('login-form').addEventListener('submit', login.submit);
    $('logout-btn').addEventListener('click', doLogout);
    for (const v of ['articles', 'unanswered', 'transfer']) {
      $('nav-' + v).addEventListener('click', () => setView(v));
    }
    $('proposals-count').addEventListener('click', showProposals);

    $('article-search').addEventListener('input', loadListSoon);
    $('filter-tag').addEventListener('input', loadListSoon);
    for (const id of ['filter-category', 'filter-status', 'filter-review']) $(id).addEventListener('change', loadList);
    $('new-article-btn').addEventListener('click', () => newArticle());
    $('empty-new-btn').addEventListener('click', () => newArticle());

    $('editor-form').addEventListener('submit', (ev) => ev.preventDefault());
    $('editor-form').addEventListener('input', onFormInput);
    $('editor-form').addEventListener('change', onFormInput);
    $('art-answer').addEventListener('input', previewSoon);
    $('add-question-btn').addEventListener('click', () => {
      const rows = $('question-list').children;
      addQuestionRow('', rows[rows.length - 1]).focus();
    });
    $('save-draft-btn').addEventListener('click', () => save('draft'));
    $('publish-btn').addEventListener('click', () => save('published'));
    $('delete-btn').addEventListener('click', doDelete);
    $('reload-latest-btn').addEventListener('click', reloadLatest);
    $('conflict-close').addEventListener('click', () => show($('conflict-box'), false));
    $('tab-edit').addEventListener('click', () => showTab('edit'));
    $('tab-history').addEventListener('click', () => showTab('history'));

    $('tester-form').addEventListener('submit', ask);

    $('unanswered-refresh').addEventListener('click', () => loadUnanswered());
    $('attach-close').addEventListener('click', closeAttach);
    $('attach-panel').addEventListener('mousedown', (ev) => {
      if (ev.target === $('attach-panel')) closeAttach();
    });
    $('attach-search').addEventListener('input', attachSearchSoon);
    $('attach-confirm').addEventListener('click', attachConfirm);

    $('export-status').addEventListener('change', updateExportLinks);
    $('import-file').addEventListener('change', onImportFile);
    $('import-status').addEventListener('change', () => {
      if (S.importFile) runImport(true);
    });
    $('import-confirm').addEventListener('click', () => runImport(false));

    $('confirm-ok').addEventListener('click', () => S.confirmDone && S.confirmDone(true));
    $('confirm-cancel').addEventListener('click', () => S.confirmDone && S.confirmDone(false));
    $('confirm-panel').addEventListener('mousedown', (ev) => {
      if (ev.target === $('confirm-panel') && S.confirmDone) S.confirmDone(false);
    });

    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        if (S.confirmDone) S.confirmDone(false);
        else if (!$('attach-panel').hidden) closeAttach();
        return;
      }
      if ((ev.ctrlKey || ev.metaKey) && (ev.key === 's' || ev.key === 'S')) {
        if (!S.cur || S.cur.deleted || $('app').hidden) return;
        ev.preventDefault();
        save(S.cur.art && S.cur.art.status === 'published' ? 'published' : 'draft');
      }
    });
    window.addEventListener('beforeunload', (ev) => {
      if (!isDirty()) return;
      ev.preventDefault();
      ev.returnValue = '';
    });
  }

  onReady(() => {
    wire();
    fillCategorySelects();
    login.boot();
  });
})();
