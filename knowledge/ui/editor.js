/* Kefu 知识库 — the knowledge editor: labels, helpers, state, the HTTP client, the
 * confirmation dialog, signing in and out, the views and the address, and the node's
 * state. Plain JS, no framework, no build step; the same look and sign-in as the agent
 * console. The page loads the UI kit (kit.js), then this file and the editor's others in
 * order (editor.html), all sharing the page's scope; main.js, last, wires the page and
 * starts. Server text goes in with textContent; the only innerHTML is the Markdown the
 * server rendered and sanitised (the preview and a version's answer). */
'use strict';

// ---------------------------------------------------------------------------
// Labels

const BASE_TITLE = 'Kefu 知识库';
const PREVIEW_MS = 250;
const SEARCH_MS = 250;
const MAX_IMPORT = 20 << 20;
const STATUS_MS = 5000; // how often the index state and the proposals count are polled

const STATUSES = { draft: '草稿', published: '已发布', new: '未保存' };
const ACTIONS = { answer: '直接回答', clarify: '追问（给出选项）', handoff: '转人工', smalltalk: '寒暄（回复话术设置中的寒暄话术）' };
// The small talk a smalltalk decision is (its intent).
const SMALLTALK = { greeting: '问候', thanks: '感谢', goodbye: '告别', presence: '问在不在', ack: '应答' };
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

const login = newLogin({ title: BASE_TITLE, api: api, hide: ['boot', 'app'], started: startApp, stopped: stopApp });

function onUnauthorized() {
  if (!S.me) return;
  stopApp();
  login.show('登录已失效，请重新登录');
}

async function doLogout() {
  if (isDirty() && !(await confirmDialog('当前文章有未保存的修改，退出后将丢失。确定退出吗？', '退出', true))) return;
  await login.logout();
}

function canEdit() {
  return !!S.me && (S.me.role === 'editor' || S.me.role === 'admin');
}

function startApp(me) {
  if (me && !me.name && me.user) me = me.user;
  me = me || {};
  S.session++;
  S.me = me;
  showApp(me);

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
  if (hash.startsWith('#a=')) {
    const id = hashParam('#a=');
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
