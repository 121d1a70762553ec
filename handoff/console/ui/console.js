/* Kefu 客服台 — the agent console: labels, helpers, state, the HTTP client, signing in
 * and out, presence, and starting and stopping the app. Plain JS, no framework, no build
 * step: the page loads the UI kit (kit.js), then this file and the console's others in
 * order (console.html), all sharing the page's scope; main.js, last, wires the page and
 * starts. Server text is only ever inserted with textContent / createElement, never
 * innerHTML. */
'use strict';

// ---------------------------------------------------------------------------
// Constants and labels

const BASE_TITLE = 'Kefu 客服台';
const POLL_MS = 15000;
// HEARTBEAT_MS keeps the agent online: well inside the server's grace period (60 s by default).
const HEARTBEAT_MS = 15000;
// First-reply target: a wait turns amber at two thirds of it and red
// once it is missed. Queue entries count from when the chat started waiting; owned chats
// without an agent reply yet (awaiting_reply) count the same way.
const SLA_TARGET_S = 30;
const SLA_WARN_S = 20;
const SLA_LATE_S = SLA_TARGET_S;
const SOUND_KEY = 'kefu.console.sound';

const GROUPS = { presale: '售前', aftersale: '售后' };
const STATUSES = { bot: '机器人接待', queued: '排队中', active: '服务中', resolved: '已结束' };
const INTENTS = {
  presale: '售前咨询',
  insale: '售中咨询',
  aftersale: '售后服务',
  after_sales: '售后服务',
  requested: '要求转人工',
  human: '要求转人工',
  greeting: '问候',
  smalltalk: '闲聊',
  chitchat: '闲聊',
  complaint: '投诉',
  unknown: '未识别',
  none: '未识别',
  other: '其他',
};
// ERRORS word the failures whose answer has no message, where the kit's words do not fit.
const ERRORS = { 404: '会话不存在', 409: '操作冲突，请刷新后重试' };

// ---------------------------------------------------------------------------
// Small helpers (and those of the UI kit, kit.js)

function randomId() {
  const a = new Uint8Array(12);
  if (window.crypto && window.crypto.getRandomValues) {
    window.crypto.getRandomValues(a);
  } else {
    for (let i = 0; i < a.length; i++) a[i] = Math.floor(Math.random() * 256);
  }
  let s = 'a_';
  for (const b of a) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

function groupLabel(g) {
  return GROUPS[g] || g || '—';
}
function statusLabel(s) {
  return STATUSES[s] || s || '—';
}

function groupBadge(g) {
  const b = h('span', 'badge g-' + (g === 'aftersale' ? 'aftersale' : g === 'presale' ? 'presale' : 'other'), groupLabel(g));
  b.setAttribute('data-group', g || '');
  return b;
}

// Accepts ms or s since the epoch (number or numeric string) or an ISO string.
function toMs(v) {
  if (v === null || v === undefined || v === '') return NaN;
  if (typeof v === 'number') return v < 1e12 ? v * 1000 : v;
  if (/^\d+(\.\d+)?$/.test(String(v))) return toMs(Number(v));
  const t = Date.parse(String(v));
  return isNaN(t) ? NaN : t;
}

function fmtTime(v) {
  const ms = toMs(v);
  if (isNaN(ms)) return '';
  const d = new Date(ms);
  const now = new Date();
  const hm = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
  if (d.toDateString() === now.toDateString()) return hm;
  return (d.getMonth() + 1) + '月' + d.getDate() + '日 ' + hm;
}

function fmtDuration(sec) {
  const s = Math.max(0, Math.floor(sec));
  if (s < 60) return s + '秒';
  const m = Math.floor(s / 60);
  if (m < 60) return m + '分' + pad2(s % 60) + '秒';
  const hr = Math.floor(m / 60);
  return hr + '小时' + pad2(m % 60) + '分';
}

// ---------------------------------------------------------------------------
// State

const S = {
  me: null,
  session: 0, // bumped on login/logout; stale async results are dropped
  waiting: [],
  mine: [],
  queueLoaded: false,
  knownWaiting: new Set(),
  sinceById: new Map(),
  freshIds: new Set(), // newly arrived waiting chats, highlighted briefly
  unread: new Set(),
  cur: null, // open conversation: {id, conv, msgs: Map(seq→msg), lastSeq, loaded, needMore, error}
  pending: [], // replies not yet in the transcript: {id, conv, text, seq, el}
  drafts: new Map(),
  lastFailed: null, // {conv, text, id}: a retry of the same text reuses the id (idempotent)
  sendChain: Promise.resolve(),
  es: null,
  esRetryMs: 0,
  esTimer: 0,
  pollTimer: 0,
  tickTimer: 0,
  queueDebounce: 0,
  newCount: 0,
  flashTimer: 0,
  flashOn: false,
  claiming: false,
  resolving: false,
  knownMine: new Set(),
  claimedByMe: new Set(), // claimed from this console: no "new chat" sound for them
  firstSince: new Map(), // owned chat → when its first-reply wait started (ms)
  muted: false,
  mode: 'reply', // composer: 'reply' to the shopper or 'note' (agents only)
  canned: [],
  cannedOpen: false,
  cannedIdx: 0,
  cannedShown: [],
  guard: null, // {conv, text, kind: 'short'|'contact', message}: a refused reply awaiting confirmation
  transferring: false,
};

// ---------------------------------------------------------------------------
// HTTP

const api = newApi(ERRORS, () => onUnauthorized());

// Runs fn at most once at a time; calls made while it runs cause one more run.
function coalesce(fn) {
  let running = null;
  let again = false;
  return function run() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await fn();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

// later runs fn in ms, unless a run is already due: S[timer] holds the timer, which
// stopping the session clears.
function later(timer, ms, fn) {
  if (S[timer]) return;
  S[timer] = setTimeout(() => {
    S[timer] = 0;
    fn();
  }, ms);
}

// ---------------------------------------------------------------------------
// Login / session

const login = newLogin({ title: BASE_TITLE, api: api, hide: ['boot', 'app', 'users-panel', 'profile-panel', 'phrasebook-panel', 'webhooks-panel'], started: startApp, stopped: stopApp });

function onUnauthorized() {
  if (!S.me) return;
  stopApp();
  login.show('登录已失效，请重新登录');
}

// Presence: a heartbeat while the console is open keeps the agent online (or away);
// when the console goes silent past the server's grace period, the agent's chats go
// back to the queue. The answer carries the agent's load and cap.

async function heartbeat(status) {
  if (!isAgent()) return;
  const sess = S.session;
  try {
    const d = await api('POST', '/api/presence', { status: status || (S.away ? 'away' : 'online') });
    if (sess !== S.session || !d) return;
    S.maxChats = d.max_chats || 0;
    renderQueues();
  } catch (_) {
    /* the next beat retries; a 401 has already signed out */
  }
}

function renderPresence() {
  const b = $('presence-btn');
  b.setAttribute('data-status', S.away ? 'away' : 'online');
  b.textContent = S.away ? '◐ 离开' : '● 在线';
}

function togglePresence() {
  S.away = !S.away;
  renderPresence();
  heartbeat();
  toast(S.away ? '已设为离开：保留现有会话，不再分配新会话' : '已上线：系统会为您分配会话', 'ok');
}

// doLogout says offline first, so that the agent's chats go back to the queue at once.
function doLogout() {
  return login.logout(() => heartbeat('offline'));
}

// renderGroupOptions lists the desk's skill groups (KEFU_GROUPS) in the new-user form;
// a group without a label of its own shows its name.
function renderGroupOptions(groups) {
  const sel = $('user-group');
  const frag = document.createDocumentFragment();
  for (const g of groups) {
    const o = h('option', '', GROUPS[g] ? GROUPS[g] + '（' + g + '）' : g);
    o.value = g;
    frag.appendChild(o);
  }
  sel.replaceChildren(frag);
}

// isAgent: who serves chats. A lead is an agent who also approves refunds.
function isAgent() {
  return !!S.me && (S.me.role === 'agent' || S.me.role === 'lead' || S.me.role === 'admin');
}

function startApp(me) {
  if (me && !me.name && me.user) me = me.user; // tolerate a wrapped answer
  me = me || {};
  S.session++;
  S.me = me;
  showApp(me);
  startServing();
  $('me-group').textContent = me.role === 'admin' ? (me.group ? groupLabel(me.group) + ' · 全部组可见' : '全部组') : groupLabel(me.group);
  show($('reports-btn'), me.role === 'lead' || me.role === 'admin');
  show($('users-btn'), me.role === 'admin');
  show($('phrasebook-btn'), me.role === 'admin');
  show($('webhooks-btn'), me.role === 'admin');
  renderGroupOptions(Array.isArray(me.groups) && me.groups.length ? me.groups.map(String) : Object.keys(GROUPS));

  S.waiting = [];
  S.mine = [];
  S.queueLoaded = false;
  S.knownWaiting = new Set();
  S.sinceById = new Map();
  S.freshIds = new Set();
  S.unread = new Set();
  S.cur = null;
  S.pending = [];
  S.drafts = new Map();
  S.lastFailed = null;
  S.knownMine = new Set();
  S.queueLoadedMine = false;
  S.claimedByMe = new Set();
  S.firstSince = new Map();
  S.mode = 'reply';
  S.msgTickets = [];
  S.approvals = [];
  renderTicketLists();
  S.canned = [];
  S.guard = null;
  closeCanned();
  hideGuard();
  renderQueues();
  renderChat();

  if (!isAgent()) {
    setConn('off', '未连接');
    $('chat-empty-text').textContent = '当前账号（' + roleLabel(me.role) + '）没有客服台权限。';
    showText($('queue-error'), '仅客服和管理员可以接待会话。');
    return;
  }
  $('chat-empty-text').textContent = '从左侧选择一个会话';
  show($('queue-error'), false);

  refreshQueue();
  loadCanned();
  connectEvents();
  S.away = false;
  show($('presence-btn'), true);
  renderPresence();
  heartbeat();
  S.beatTimer = setInterval(heartbeat, HEARTBEAT_MS);
  S.pollTimer = setInterval(() => {
    refreshQueue();
    refreshTicketLists();
  }, POLL_MS);
  refreshTicketLists();
  S.tickTimer = setInterval(tick, 1000);

  const id = hashParam('#c=');
  if (id) openConversation(id);
}

function stopApp() {
  S.session++;
  S.me = null;
  clearInterval(S.beatTimer);
  show($('presence-btn'), false);
  closeEvents();
  clearInterval(S.pollTimer);
  clearInterval(S.tickTimer);
  clearTimeout(S.queueDebounce);
  clearTimeout(S.ticketDebounce);
  S.pollTimer = S.tickTimer = S.queueDebounce = S.ticketDebounce = 0;
  S.cur = null;
  S.pending = [];
  stopFlash();
  closeUsers();
  closePhrasebook();
  closeTransfer();
  closeConfirm();
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
}
