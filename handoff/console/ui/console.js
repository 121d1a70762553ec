/* Kefu 客服台 — agent console.
 * Plain JS, no framework, no build step. Server text is only ever inserted with
 * textContent / createElement, never innerHTML. */
'use strict';

(function () {
  // ---------------------------------------------------------------------------
  // Constants and labels

  const BASE_TITLE = 'Kefu 客服台';
  const POLL_MS = 15000;
  // HEARTBEAT_MS keeps the agent online: well inside the server's grace period (60 s by default).
  const HEARTBEAT_MS = 15000;
  // First-reply target (DOMAIN rule 1): a wait turns amber at two thirds of it and red
  // once it is missed. Queue entries count from when the chat started waiting; owned chats
  // without an agent reply yet (awaiting_reply) count the same way.
  const SLA_TARGET_S = 30;
  const SLA_WARN_S = 20;
  const SLA_LATE_S = SLA_TARGET_S;
  const SOUND_KEY = 'kefu.console.sound';

  const REASONS = {
    requested: '顾客要求转人工',
    after_sales: '售后问题',
    low_confidence: '机器人无把握',
    out_of_scope: '超出知识范围',
    negative_sentiment: '顾客情绪不满',
    repeated_miss: '多次未答上',
    reopened: '顾客再次来访',
    left_message: '顾客已留言',
  };
  const GROUPS = { presale: '售前', aftersale: '售后' };
  // Knowledge-article categories (the hits table); a superset of the groups.
  const CATEGORIES = { presale: '售前', insale: '售中', aftersale: '售后', policy: '政策' };
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
  function reasonLabel(r) {
    return REASONS[r] || r || '—';
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

  // ---------------------------------------------------------------------------
  // Login / session

  const login = newLogin({ title: BASE_TITLE, api: api, hide: ['boot', 'app', 'users-panel'], started: startApp });

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

  async function doLogout() {
    const btn = $('logout-btn');
    btn.disabled = true;
    try {
      await heartbeat('offline');
    } catch (_) {
      /* leave anyway */
    }
    try {
      await api('POST', '/api/logout', undefined, { noAuthRedirect: true });
    } catch (_) {
      /* leave anyway */
    }
    btn.disabled = false;
    stopApp();
    login.show('');
  }

  // isAgent: who serves chats. A lead is an agent who also approves refunds.
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

  function isAgent() {
    return !!S.me && (S.me.role === 'agent' || S.me.role === 'lead' || S.me.role === 'admin');
  }

  function startApp(me) {
    if (me && !me.name && me.user) me = me.user; // tolerate a wrapped answer
    me = me || {};
    S.session++;
    S.me = me;
    show($('boot'), false);
    show($('login-view'), false);
    show($('app'), true);

    $('me-name').textContent = me.name || '';
    $('me-avatar').textContent = (me.name || '?').slice(0, 1).toUpperCase();
    $('me-role').textContent = roleLabel(me.role);
    $('me-role').setAttribute('data-role', me.role || '');
    $('me-group').textContent = me.role === 'admin' ? (me.group ? groupLabel(me.group) + ' · 全部组可见' : '全部组') : groupLabel(me.group);
    show($('users-btn'), me.role === 'admin');
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
      const qe = $('queue-error');
      qe.textContent = '仅客服和管理员可以接待会话。';
      show(qe, true);
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

    const m = /^#c=(.+)$/.exec(location.hash || '');
    if (m) {
      let id = '';
      try {
        id = decodeURIComponent(m[1]);
      } catch (_) {
        id = '';
      }
      if (id) openConversation(id);
    }
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
    closeTransfer();
    closeConfirm();
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  }

  // ---------------------------------------------------------------------------
  // Live events

  function setConn(state, text) {
    const c = $('conn');
    c.setAttribute('data-state', state);
    $('conn-text').textContent = text;
  }

  function closeEvents() {
    clearTimeout(S.esTimer);
    S.esTimer = 0;
    if (S.es) {
      const es = S.es;
      S.es = null;
      es.close();
    }
  }

  function connectEvents() {
    closeEvents();
    if (!isAgent() || typeof EventSource === 'undefined') {
      if (typeof EventSource === 'undefined') setConn('off', '轮询模式');
      return;
    }
    const sess = S.session;
    setConn('connecting', '连接中…');
    const es = new EventSource('/api/events');
    S.es = es;
    es.addEventListener('open', () => {
      if (S.es !== es) return;
      S.esRetryMs = 0;
      setConn('ok', '实时更新');
      refreshAll(); // anything may have changed while we were disconnected
    });
    es.addEventListener('message', (ev) => {
      if (S.es !== es) return;
      handleEvent(ev.data);
    });
    es.addEventListener('error', () => {
      if (S.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. a non-200 answer). Check the session, retry with backoff.
        es.close();
        S.es = null;
        setConn('down', '已断开，重连中…');
        S.esRetryMs = Math.min(S.esRetryMs ? S.esRetryMs * 2 : 2000, 30000);
        api('GET', '/api/me').catch(() => {});
        S.esTimer = setTimeout(() => {
          if (sess === S.session) connectEvents();
        }, S.esRetryMs);
      } else {
        setConn('down', '重连中…');
      }
    });
  }

  function handleEvent(raw) {
    let ev;
    try {
      ev = JSON.parse(raw);
    } catch (_) {
      return;
    }
    if (!ev || typeof ev !== 'object') return;
    const conv = ev.conversation !== undefined && ev.conversation !== null ? String(ev.conversation) : '';
    switch (ev.type) {
      case 'queue':
        refreshQueue();
        break;
      case 'message': {
        scheduleQueueRefresh();
        scheduleTicketRefresh();
        const cur = S.cur;
        if (cur && conv === cur.id) {
          const seq = Number(ev.seq);
          if (!(Number.isFinite(seq) && seq > 0 && cur.msgs.has(seq))) fetchNewMessages();
        } else if (conv && S.mine.some((e) => String(e.conversation) === conv)) {
          S.unread.add(conv);
          renderQueues();
        }
        break;
      }
      case 'status':
        refreshQueue();
        scheduleTicketRefresh();
        if (S.cur && (!conv || conv === S.cur.id)) refreshOpen();
        break;
      case 'note':
        if (S.cur && conv === S.cur.id) loadNotes(S.cur);
        break;
      case 'resync':
        // Events may have been lost (the server's subscription reconnected): refetch.
        refreshQueue();
        if (S.cur) {
          refreshOpen();
          loadNotes(S.cur);
        }
        break;
      default:
        break;
    }
  }

  function refreshAll() {
    refreshQueue();
    refreshTicketLists();
    if (S.cur) refreshOpen();
  }

  // ---------------------------------------------------------------------------
  // Queue

  function scheduleQueueRefresh() {
    if (S.queueDebounce) return;
    S.queueDebounce = setTimeout(() => {
      S.queueDebounce = 0;
      refreshQueue();
    }, 150);
  }

  const refreshQueue = coalesce(async () => {
    if (!isAgent()) return;
    const sess = S.session;
    try {
      const d = await api('GET', '/api/queue');
      if (sess !== S.session) return;
      show($('queue-error'), false);
      applyQueue(d);
    } catch (e) {
      if (sess !== S.session || e.status === 401) return;
      const qe = $('queue-error');
      qe.textContent = '队列刷新失败：' + e.message;
      show(qe, true);
    }
  });

  function applyQueue(d) {
    const now = Date.now();
    const waiting = Array.isArray(d.waiting) ? d.waiting.filter(Boolean) : [];
    const mine = Array.isArray(d.mine) ? d.mine.filter(Boolean) : [];
    const since = new Map();
    for (const e of waiting) {
      const id = String(e.conversation);
      let t = now - (Number(e.waiting_s) || 0) * 1000;
      if (!Number(e.waiting_s) && e.enqueued_at) {
        const q = toMs(e.enqueued_at);
        if (!isNaN(q)) t = Math.min(q, now);
      }
      const prev = S.sinceById.get(id);
      if (prev !== undefined && Math.abs(prev - t) < 2500) t = prev; // avoid jitter
      since.set(id, t);
    }
    S.sinceById = since;

    const fresh = [];
    if (S.queueLoaded) {
      for (const e of waiting) {
        const id = String(e.conversation);
        if (!S.knownWaiting.has(id)) fresh.push(id);
      }
    }
    S.knownWaiting = new Set(waiting.map((e) => String(e.conversation)));
    S.queueLoaded = true;
    S.waiting = waiting;
    S.mine = mine;

    const mineIds = new Set(mine.map((e) => String(e.conversation)));
    for (const id of Array.from(S.unread)) if (!mineIds.has(id)) S.unread.delete(id);
    // Chats given to me (auto-assigned or transferred) ring like new waiting ones; the
    // ones I claimed myself do not.
    let assigned = 0;
    if (S.queueLoadedMine) {
      for (const id of mineIds) if (!S.knownMine.has(id) && !S.claimedByMe.has(id)) assigned++;
    }
    S.knownMine = mineIds;
    S.queueLoadedMine = true;
    const firstSince = new Map();
    for (const e of mine) {
      if (!e.awaiting_reply || e.status !== 'active') continue;
      const id = String(e.conversation);
      let t = e.enqueued_at ? toMs(e.enqueued_at) : NaN;
      if (isNaN(t)) t = now - (Number(e.waiting_s) || 0) * 1000;
      const prev = S.firstSince.get(id);
      if (prev !== undefined && Math.abs(prev - t) < 2500) t = prev;
      firstSince.set(id, Math.min(t, now));
    }
    S.firstSince = firstSince;

    if (fresh.length) {
      for (const id of fresh) S.freshIds.add(id);
      setTimeout(() => {
        for (const id of fresh) S.freshIds.delete(id);
        document.querySelectorAll('.qitem.is-new').forEach((b) => {
          if (!S.freshIds.has(b.getAttribute('data-conversation'))) b.classList.remove('is-new');
        });
      }, 5000);
    }
    if (fresh.length + assigned) notifyNew(fresh.length + assigned);
    renderQueues();
    if (S.cur && S.cur.loaded) renderChatChrome();
  }

  function renderQueues() {
    renderList($('waiting-list'), S.waiting, true);
    renderList($('mine-list'), S.mine, false);
    $('waiting-count').textContent = String(S.waiting.length);
    $('mine-count').textContent = S.maxChats ? S.mine.length + '/' + S.maxChats : String(S.mine.length);
    show($('waiting-empty'), S.waiting.length === 0);
    show($('mine-empty'), S.mine.length === 0);
  }

  function renderList(ul, entries, isWaiting) {
    const frag = document.createDocumentFragment();
    const openId = S.cur ? S.cur.id : '';
    for (const e of entries) {
      const id = String(e.conversation);
      const li = h('li');
      const b = h('button', 'qitem');
      b.type = 'button';
      b.setAttribute('data-testid', isWaiting ? 'queue-item' : 'mine-item');
      b.setAttribute('data-conversation', id);
      if (id === openId) {
        b.classList.add('is-open');
        b.setAttribute('aria-current', 'true');
      }
      const top = h('span', 'qitem-top');
      top.appendChild(groupBadge(e.group));
      top.appendChild(h('span', 'qitem-reason', reasonLabel(e.reason)));
      if (isWaiting) {
        if (S.freshIds.has(id)) b.classList.add('is-new');
        const w = h('span', 'qitem-wait');
        w.setAttribute('data-testid', 'queue-wait');
        w.setAttribute('data-since', String(S.sinceById.get(id) || Date.now()));
        updateWait(w);
        top.appendChild(w);
      } else {
        if (S.unread.has(id)) {
          b.classList.add('is-unread');
          const dot = h('span', 'unread-dot');
          dot.title = '有新消息';
          dot.setAttribute('aria-label', '有新消息');
          top.appendChild(dot);
        }
        top.appendChild(h('span', 'qitem-status s-' + (e.status || ''), statusLabel(e.status)));
        if (S.firstSince.has(id)) {
          const w = h('span', 'qitem-wait is-first-reply');
          w.setAttribute('data-testid', 'first-reply-wait');
          w.setAttribute('data-since', String(S.firstSince.get(id)));
          updateWait(w);
          top.appendChild(w);
        }
      }
      b.appendChild(top);
      const pv = h('span', 'qitem-preview', e.preview ? e.preview : '（暂无消息）');
      pv.setAttribute('data-testid', 'queue-preview');
      b.appendChild(pv);
      b.title = e.preview || '';
      b.addEventListener('click', () => openConversation(id));
      li.appendChild(b);
      frag.appendChild(li);
    }
    ul.replaceChildren(frag);
  }

  function updateWait(w) {
    const since = Number(w.getAttribute('data-since'));
    const s = Math.max(0, (Date.now() - since) / 1000);
    const txt = fmtDuration(s);
    if (w.textContent !== txt) w.textContent = txt;
    w.classList.toggle('sla-warn', s > SLA_WARN_S && s <= SLA_LATE_S);
    w.classList.toggle('sla-late', s > SLA_LATE_S);
    w.title = (w.classList.contains('is-first-reply') ? '尚未回复，顾客已等待 ' : '已等待 ') + txt + '（首次响应目标 ' + SLA_TARGET_S + ' 秒）';
  }

  function tick() {
    document.querySelectorAll('[data-since]').forEach(updateWait);
  }

  // ---------------------------------------------------------------------------
  // New-chat notice: title flash + beep

  let audioCtx = null;
  let gestured = false;

  function onGesture() {
    gestured = true;
    try {
      if (!audioCtx) {
        const AC = window.AudioContext || window.webkitAudioContext;
        if (AC) audioCtx = new AC();
      }
      if (audioCtx && audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
    } catch (_) {
      audioCtx = null;
    }
  }

  function beep() {
    if (S.muted || !gestured || !audioCtx) return;
    try {
      if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
      const t = audioCtx.currentTime + 0.01;
      const o = audioCtx.createOscillator();
      const g = audioCtx.createGain();
      o.type = 'sine';
      o.frequency.setValueAtTime(880, t);
      o.frequency.setValueAtTime(1320, t + 0.11);
      g.gain.setValueAtTime(0.0001, t);
      g.gain.exponentialRampToValueAtTime(0.18, t + 0.015);
      g.gain.setValueAtTime(0.18, t + 0.1);
      g.gain.exponentialRampToValueAtTime(0.0001, t + 0.26);
      o.connect(g);
      g.connect(audioCtx.destination);
      o.start(t);
      o.stop(t + 0.28);
    } catch (_) {
      /* sound is best effort */
    }
  }

  function renderSound() {
    const b = $('sound-btn');
    b.setAttribute('aria-pressed', S.muted ? 'true' : 'false');
    b.textContent = S.muted ? '🔕 静音' : '🔔 提示音';
    b.title = S.muted ? '新会话提示音已关闭，点击开启' : '新会话会响提示音，点击静音';
  }

  function toggleSound() {
    S.muted = !S.muted;
    try {
      localStorage.setItem(SOUND_KEY, S.muted ? 'off' : 'on');
    } catch (_) {
      /* private mode: the choice lasts for this page */
    }
    renderSound();
    if (!S.muted) beep();
  }

  function loadSound() {
    try {
      S.muted = localStorage.getItem(SOUND_KEY) === 'off';
    } catch (_) {
      S.muted = false;
    }
    renderSound();
  }

  function notifyNew(n) {
    beep();
    if (document.hasFocus()) return;
    S.newCount += n;
    startFlash();
  }

  function flashTitle() {
    return '(' + S.newCount + ') 新会话 - ' + BASE_TITLE;
  }

  function startFlash() {
    S.flashOn = true;
    document.title = flashTitle();
    if (S.flashTimer) return;
    S.flashTimer = setInterval(() => {
      S.flashOn = !S.flashOn;
      document.title = S.flashOn ? flashTitle() : BASE_TITLE;
    }, 1000);
  }

  function stopFlash() {
    clearInterval(S.flashTimer);
    S.flashTimer = 0;
    S.newCount = 0;
    S.flashOn = false;
    document.title = BASE_TITLE;
  }

  // ---------------------------------------------------------------------------
  // Conversation

  function openConversation(id) {
    if (!isAgent()) return;
    id = String(id);
    if (S.cur && S.cur.id === id) {
      refreshOpen();
      return;
    }
    if (S.cur) S.drafts.set(S.cur.id, $('reply-input').value);
    const cur = { id: id, conv: null, msgs: new Map(), notes: [], lastSeq: 0, loaded: false, needMore: false, error: '' };
    S.cur = cur;
    S.unread.delete(id);
    history.replaceState(null, '', '#c=' + enc(id));
    $('reply-input').value = S.drafts.get(id) || '';
    show($('reply-error'), false);
    hideGuard();
    closeCanned();
    renderQueues();
    renderChat();
    loadConversation(cur);
    loadNotes(cur);
  }

  function closeConversation() {
    S.cur = null;
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
    renderQueues();
    renderChat();
  }

  async function loadConversation(cur) {
    const sess = S.session;
    try {
      const d = await api('GET', '/api/conversations/' + enc(cur.id));
      if (sess !== S.session || S.cur !== cur) return;
      applySnapshot(cur, d.conversation || null, Array.isArray(d.messages) ? d.messages : []);
      cur.packet = d.packet && typeof d.packet === 'object' ? d.packet : null; // context sidebar
      cur.loaded = true;
      cur.error = '';
      renderTranscriptNote(); // drop the "正在加载会话…" note shown before the first load
      renderChatChrome();
      if (cur.needMore) {
        cur.needMore = false;
        fetchNewMessages();
      }
    } catch (e) {
      if (sess !== S.session || S.cur !== cur || e.status === 401) return;
      if (!cur.loaded) {
        cur.error = e.message;
        renderChat();
        if (e.status === 404 || e.status === 403) {
          if (location.hash) history.replaceState(null, '', location.pathname + location.search);
        }
      } else {
        toast('会话刷新失败：' + e.message);
      }
    }
  }

  const refreshOpen = coalesce(async () => {
    const cur = S.cur;
    if (cur) await loadConversation(cur);
  });

  const fetchNewMessages = coalesce(async () => {
    const cur = S.cur;
    if (!cur) return;
    if (!cur.loaded) {
      cur.needMore = true;
      return;
    }
    const sess = S.session;
    try {
      const d = await api('GET', '/api/conversations/' + enc(cur.id) + '/messages?after=' + enc(cur.lastSeq));
      if (sess !== S.session || S.cur !== cur) return;
      mergeMessages(cur, Array.isArray(d.messages) ? d.messages : []);
    } catch (e) {
      if (sess !== S.session || S.cur !== cur || e.status === 401) return;
      toast('消息刷新失败：' + e.message);
    }
  });

  function seqOf(m) {
    if (!m || typeof m !== 'object') return NaN;
    const n = Number(m.seq);
    return Number.isFinite(n) ? n : NaN;
  }

  // A full snapshot: merge when it agrees with what we show, rebuild if history changed.
  function applySnapshot(cur, conv, messages) {
    cur.conv = conv;
    const incoming = new Map();
    let maxSeq = 0;
    for (const m of messages) {
      const s = seqOf(m);
      if (isNaN(s)) continue;
      incoming.set(s, m);
      if (s > maxSeq) maxSeq = s;
    }
    let reset = false;
    for (const [s, old] of cur.msgs) {
      if (s > maxSeq) continue; // fetched after the snapshot was taken
      const n = incoming.get(s);
      if (!n || n.ts !== old.ts || n.kind !== old.kind || n.text !== old.text) {
        reset = true;
        break;
      }
    }
    if (reset) {
      cur.msgs = new Map();
      cur.lastSeq = 0;
      if (S.cur === cur) $('msg-box').replaceChildren();
    }
    mergeMessages(cur, messages, !cur.loaded || reset);
    if (reset && S.cur === cur) renderNotes(cur);
  }

  function mergeMessages(cur, list, forceScroll) {
    const isOpen = S.cur === cur;
    const stick = forceScroll || (isOpen && nearBottom());
    let added = 0;
    const sorted = list.filter((m) => !isNaN(seqOf(m))).sort((a, b) => seqOf(a) - seqOf(b));
    for (const m of sorted) {
      const s = seqOf(m);
      if (cur.msgs.has(s)) continue; // dedup by seq
      cur.msgs.set(s, m);
      if (s > cur.lastSeq) cur.lastSeq = s;
      if (isOpen) insertMessage(s, m);
      if (isOpen && cur.loaded && m.kind === 'ticket' && !$('ticket-panel').hidden) loadTickets();
      settlePending(cur.id, m);
      added++;
    }
    if (isOpen) {
      renderTranscriptNote();
      if (added && stick) scrollToBottom();
    }
  }

  function insertMessage(seq, m) {
    insertRow(messageEl(m), seq);
  }

  // insertRow puts a transcript row in data-seq order (a note sits after the record it
  // was written after: after_seq + 0.5).
  function insertRow(node, seq) {
    const box = $('msg-box');
    let ref = box.lastElementChild;
    while (ref && Number(ref.getAttribute('data-seq')) > seq) ref = ref.previousElementSibling;
    box.insertBefore(node, ref ? ref.nextSibling : box.firstChild);
  }

  function statusLine(m) {
    switch (m.status) {
      case 'queued':
        return '会话进入排队' + (m.group ? '（' + groupLabel(m.group) + '组）' : '');
      case 'active':
        if (m.reason === 'reopened') return '顾客再次来访，' + (m.agent ? '客服 ' + m.agent : '客服') + ' 继续接待';
        return (m.agent ? '客服 ' + m.agent : '客服') + ' 已接入会话';
      case 'resolved':
        if (m.reason === 'left_message') return '顾客已留言，会话结束（留言已转为工单）';
        return '会话已结束' + (m.agent ? '（' + m.agent + '）' : '');
      case 'bot':
        return '会话已交回机器人';
      default:
        return '状态变更：' + statusLabel(m.status);
    }
  }

  function messageEl(m) {
    const seq = seqOf(m);
    const kind = m.kind || 'message';
    const from = kind === 'message' ? m.from || 'system' : m.from || 'system';
    const time = fmtTime(m.ts);

    if (kind === 'ticket' && m.ticket && typeof m.ticket === 'object') return ticketRecordEl(m, seq, time);
    if (kind !== 'message' || from === 'system' || (from !== 'shopper' && from !== 'bot' && from !== 'agent')) {
      const row = h('div', 'msg msg-sys kind-' + kind);
      row.setAttribute('data-testid', 'chat-msg');
      row.setAttribute('data-from', from);
      row.setAttribute('data-seq', String(seq));
      row.setAttribute('data-kind', kind);
      let text;
      if (kind === 'handoff') {
        text = '转人工：' + reasonLabel(m.reason) + (m.group ? ' · ' + groupLabel(m.group) + '组' : '');
      } else if (kind === 'status') {
        text = statusLine(m);
      } else {
        text = m.text || '';
      }
      const line = h('span', 'sys-line');
      if (kind === 'message') line.appendChild(h('span', 'sys-label', '系统'));
      line.appendChild(h('span', 'sys-text', text));
      if (time) line.appendChild(h('span', 'sys-time', time));
      row.appendChild(line);
      return row;
    }

    const row = h('div', 'msg from-' + from + (from === 'shopper' ? ' side-left' : ' side-right'));
    row.setAttribute('data-testid', 'chat-msg');
    row.setAttribute('data-from', from);
    row.setAttribute('data-seq', String(seq));
    row.setAttribute('data-kind', kind);
    if (m.id) row.setAttribute('data-id', String(m.id));

    let label = '顾客';
    if (from === 'bot') label = '机器人';
    else if (from === 'agent') label = m.agent ? '客服 ' + m.agent : '客服';
    const meta = h('div', 'msg-meta');
    meta.appendChild(h('span', 'msg-who', label));
    if (time) meta.appendChild(h('span', 'msg-time', time));
    row.appendChild(meta);

    const bubble = h('div', 'bubble', m.text || '');
    row.appendChild(bubble);

    if (from === 'bot' && m.article && typeof m.article === 'object' && m.article.title) {
      const src = h('div', 'msg-extra');
      src.appendChild(h('span', 'extra-label', '来源文章'));
      src.appendChild(h('span', 'extra-text', m.article.title));
      row.appendChild(src);
    }
    if (Array.isArray(m.suggestions) && m.suggestions.length) {
      const sg = h('div', 'msg-extra');
      sg.appendChild(h('span', 'extra-label', '候选问题'));
      const list = h('span', 'extra-chips');
      for (const s of m.suggestions) {
        if (s && s.title) list.appendChild(h('span', 'chip', s.title));
      }
      sg.appendChild(list);
      row.appendChild(sg);
    }
    return row;
  }

  function nearBottom() {
    const t = $('transcript');
    return t.scrollHeight - t.scrollTop - t.clientHeight < 80;
  }

  function scrollToBottom() {
    const t = $('transcript');
    t.scrollTop = t.scrollHeight;
  }

  function renderTranscriptNote() {
    const note = $('transcript-note');
    const cur = S.cur;
    if (!cur) return;
    let text = '';
    if (cur.error) text = cur.error;
    else if (!cur.loaded) text = '正在加载会话…';
    else if (cur.msgs.size === 0 && !S.pending.some((p) => p.conv === cur.id)) text = '暂无消息';
    note.textContent = text;
    note.classList.toggle('is-error', !!cur.error);
    show(note, !!text);
  }

  // Whole chat column (on open / close).
  function renderChat() {
    const cur = S.cur;
    show($('chat-empty'), !cur);
    show($('chat-pane'), !!cur);
    $('msg-box').replaceChildren();
    if (cur) {
      const sorted = Array.from(cur.msgs.keys()).sort((a, b) => a - b);
      for (const s of sorted) $('msg-box').appendChild(messageEl(cur.msgs.get(s)));
      renderNotes(cur);
      renderPending();
      renderTranscriptNote();
      scrollToBottom();
    } else {
      $('pending-box').replaceChildren();
    }
    renderChatChrome();
  }

  function ownsOpen() {
    const cur = S.cur;
    if (!cur || !cur.conv || !S.me) return false;
    const c = cur.conv;
    if (c.status !== 'active') return false;
    if (c.agent && c.agent === S.me.name) return true;
    return S.mine.some((e) => String(e.conversation) === cur.id && e.status === 'active');
  }

  // Header, buttons, composer and context sidebar of the open conversation.
  function renderChatChrome() {
    const cur = S.cur;
    renderContext();
    if (!cur) return;
    const c = cur.conv;
    const grp = $('chat-group');
    grp.replaceChildren();
    if (c && c.group) grp.appendChild(groupBadge(c.group));
    $('chat-name').textContent = '顾客会话 #' + shortId(cur.id);
    $('chat-name').title = cur.id;
    const st = $('chat-status');
    st.textContent = c ? statusLabel(c.status) + (c.status === 'active' && c.agent ? ' · ' + c.agent : '') : '';
    st.className = 'pill s-' + (c ? c.status || '' : '');
    show(st, !!c);

    const mine = ownsOpen();
    const queued = !!c && c.status === 'queued';
    show($('claim-btn'), queued);
    $('claim-btn').disabled = S.claiming;
    $('claim-btn').textContent = S.claiming ? '接入中…' : '接入';
    show($('resolve-btn'), mine);
    show($('transfer-btn'), mine);
    show($('bot-btn'), mine);
    show($('propose-btn'), !!c && c.status !== 'bot');
    show($('ticket-btn'), !!c && isStaffRole());
    $('resolve-btn').disabled = S.resolving;
    $('resolve-btn').textContent = S.resolving ? '结束中…' : '结束会话';

    let banner = '';
    let placeholder = '输入回复…';
    if (!c) {
      placeholder = cur.error ? '无法打开该会话' : '正在加载…';
    } else if (queued) {
      banner = '该会话正在排队，点击「接入」后即可回复。';
      placeholder = '接入后可回复';
    } else if (c.status === 'resolved') {
      banner = '会话已结束。';
      placeholder = '会话已结束';
    } else if (c.status === 'bot') {
      banner = '该会话由机器人接待中。';
      placeholder = '机器人接待中';
    } else if (!mine) {
      banner = '该会话由 ' + (c.agent || '其他客服') + ' 接待，您只能查看。';
      placeholder = '仅接待客服可回复';
    }
    const b = $('chat-banner');
    b.textContent = banner;
    b.className = 'chat-banner' + (c && c.status === 'resolved' ? ' is-done' : '');
    show(b, !!banner);
    const input = $('reply-input');
    const noteMode = S.mode === 'note';
    const can = noteMode ? canNote() : mine;
    input.disabled = !can;
    if (noteMode) {
      input.placeholder = can ? '写一条内部备注（仅客服可见，不会发给顾客）…' : '只有接待客服和本组客服可以写备注';
    } else {
      input.placeholder = mine ? '输入回复…（Enter 发送，Shift+Enter 换行，/ 搜索话术）' : placeholder;
    }
    $('reply-send').disabled = !can;
    $('reply-send').textContent = noteMode ? '添加备注' : '发送';
    $('composer').classList.toggle('is-disabled', !can);
    $('composer').classList.toggle('is-note', noteMode);
    $('composer-tip').textContent = noteMode ? '内部备注：仅客服可见' : '输入 / 搜索快捷话术';
    for (const [id, m] of [['mode-reply', 'reply'], ['mode-note', 'note']]) {
      $(id).classList.toggle('is-on', S.mode === m);
      $(id).setAttribute('aria-selected', S.mode === m ? 'true' : 'false');
    }
    if (!can) closeCanned();
  }

  // canNote: the owner, an agent of the chat's group or an admin may write notes.
  function canNote() {
    const cur = S.cur;
    if (!cur || !cur.conv || !S.me) return false;
    const c = cur.conv;
    return S.me.role === 'admin' || (!!c.agent && c.agent === S.me.name) || (!!c.group && c.group === S.me.group);
  }

  function shortId(id) {
    return id.length > 8 ? id.slice(-8) : id;
  }

  function setText(id, text) {
    $(id).textContent = text;
  }

  function renderContext() {
    const cur = S.cur;
    const c = cur && cur.conv;
    show($('ctx-empty'), !c);
    show($('ctx-body'), !!c);
    $('ctx-empty').textContent = cur ? (cur.error ? '无法加载会话信息' : '正在加载…') : '未选择会话';
    if (!c) return;
    const ctx = c.context && typeof c.context === 'object' ? c.context : {};

    setText('ctx-status', statusLabel(c.status) + (c.agent ? ' · ' + c.agent : ''));
    setText('ctx-group', groupLabel(c.group));

    const reason = ctx.reason || c.reason || '';
    const r = $('ctx-reason');
    r.textContent = reason ? reasonLabel(reason) : '—';
    r.title = reason;
    r.setAttribute('data-reason', reason);

    const intent = ctx.intent || c.intent || '';
    const it = $('ctx-intent');
    it.replaceChildren();
    it.setAttribute('data-intent', intent);
    if (!intent) {
      it.textContent = '—';
    } else if (INTENTS[intent]) {
      it.appendChild(h('span', '', INTENTS[intent]));
      it.appendChild(h('span', 'code', intent));
    } else {
      it.appendChild(h('span', 'code plain', intent));
    }

    const cf = $('ctx-confidence');
    cf.replaceChildren();
    const conf = Number(ctx.confidence);
    if (ctx.confidence === undefined || ctx.confidence === null || !Number.isFinite(conf)) {
      cf.textContent = '—';
    } else {
      const pct = Math.max(0, Math.min(100, Math.round(conf <= 1 ? conf * 100 : conf)));
      const meter = h('span', 'meter' + (pct < 40 ? ' low' : pct < 70 ? ' mid' : ' high'));
      const fill = h('span', 'meter-fill');
      fill.style.width = pct + '%';
      meter.appendChild(fill);
      cf.appendChild(h('span', 'meter-num', pct + '%'));
      cf.appendChild(meter);
    }

    const entry = S.waiting.find((e) => String(e.conversation) === cur.id);
    const wl = $('ctx-wait-label');
    const wd = $('ctx-wait');
    const waitingNow = c.status === 'queued' && entry;
    show(wl, !!waitingNow);
    show(wd, !!waitingNow);
    if (waitingNow) {
      wd.replaceChildren();
      const w = h('span', 'qitem-wait');
      w.setAttribute('data-since', String(S.sinceById.get(cur.id) || Date.now()));
      updateWait(w);
      wd.appendChild(w);
    } else {
      wd.replaceChildren();
      const ws = cur.packet ? Number(cur.packet.waiting_s) : 0;
      if (ws > 0) {
        wl.textContent = '等待了';
        wd.textContent = fmtDuration(ws);
        show(wl, true);
        show(wd, true);
      }
    }
    if (waitingNow) wl.textContent = '已等待';
    setText('ctx-id', c.id || cur.id);

    const q = $('ctx-question');
    q.textContent = ctx.question || '—';
    q.classList.toggle('is-empty', !ctx.question);

    const body = $('ctx-hits');
    body.replaceChildren();
    const hits = Array.isArray(ctx.hits) ? ctx.hits.filter(Boolean) : [];
    for (const hit of hits) {
      const tr = h('tr');
      tr.setAttribute('data-testid', 'context-hit');
      const t = h('td', 'hit-title', hit.title || hit.id || '—');
      t.title = hit.id ? '文章编号：' + hit.id : '';
      tr.appendChild(t);
      tr.appendChild(h('td', 'hit-cat', CATEGORIES[hit.category] || hit.category || '—'));
      const sc = Number(hit.score);
      tr.appendChild(h('td', 'num', Number.isFinite(sc) ? sc.toFixed(2) : '—'));
      body.appendChild(tr);
    }
    show($('ctx-hits-empty'), hits.length === 0);
    renderPacket(cur.packet || {}, c);
  }

  // The context packet (GET /api/conversations/{id} "packet"): the customer, their
  // orders, numbers found in their messages, every bot decision and earlier chats.
  // Orders are shown only for a shop-verified shopper (DOMAIN rule 5).
  function renderPacket(p, c) {
    const sh = p.shopper && typeof p.shopper === 'object' ? p.shopper : (c.shopper || null);
    const verified = !!(sh && sh.verified);
    setText('ctx-cust-name', verified ? (sh.name || sh.id) : '访客');
    const vip = $('ctx-cust-vip');
    const level = verified ? Number(sh.vip) || 0 : 0;
    vip.textContent = 'VIP' + level;
    show(vip, level > 0);
    const vm = $('ctx-cust-verified');
    vm.textContent = verified ? '✓ 已验证' : '未验证';
    vm.title = verified ? '身份由店铺签名验证' : '匿名访客，身份未经店铺验证';
    vm.className = 'verify-mark' + (verified ? ' is-verified' : '');
    vm.setAttribute('data-verified', verified ? 'true' : 'false');
    setText('ctx-cust-id', sh && sh.id ? (verified ? '买家ID：' : '访客ID：') + sh.id : '');

    const cat = p.category || '';
    setText('ctx-category', cat ? (CATEGORIES[cat] || cat) : '—');

    const orders = $('ctx-orders');
    orders.replaceChildren();
    const os = verified && Array.isArray(sh.orders) ? sh.orders.filter(Boolean) : [];
    for (const o of os) {
      const li = h('li');
      li.setAttribute('data-testid', 'context-order');
      li.appendChild(h('span', 'mono', o.id || '—'));
      if (o.status) li.appendChild(h('span', 'meta', ' · ' + o.status));
      const items = Array.isArray(o.items) ? o.items.join('、') : '';
      if (items) li.appendChild(h('div', 'meta', items));
      orders.appendChild(li);
    }
    const oe = $('ctx-orders-empty');
    oe.textContent = verified ? '无最近订单' : '访客身份未验证，不显示订单';
    show(oe, os.length === 0);

    const det = $('ctx-detected');
    det.replaceChildren();
    const ds = Array.isArray(p.detected) ? p.detected.filter(Boolean) : [];
    for (const d of ds) {
      const li = h('li');
      li.setAttribute('data-testid', 'context-detected-item');
      li.setAttribute('data-kind', d.kind || '');
      li.appendChild(h('span', 'meta', (d.kind === 'phone' ? '手机号 ' : '订单号 ')));
      li.appendChild(h('span', 'mono', d.value || ''));
      if (d.kind === 'order' && !d.verified) {
        li.appendChild(h('span', 'warn', '未验证 — 请顾客在自己的账号中确认订单'));
      }
      det.appendChild(li);
    }
    show($('ctx-detected-empty'), ds.length === 0);

    const dec = $('ctx-decisions');
    dec.replaceChildren();
    const decs = Array.isArray(p.decisions) ? p.decisions.filter(Boolean) : [];
    for (const d of decs) {
      const li = h('li');
      li.setAttribute('data-testid', 'context-decision');
      const conf = Number(d.confidence);
      let head = (d.action === 'answer' ? '回答' : d.action === 'clarify' ? '澄清' : d.action === 'handoff' ? '转人工' : d.action || '—');
      if (d.reason) head += ' · ' + reasonLabel(d.reason);
      if (d.intent) head += ' · ' + (INTENTS[d.intent] || d.intent);
      li.appendChild(h('div', '', head));
      const meta = (Number.isFinite(conf) ? '置信度 ' + Math.round(conf * 100) + '%' : '') + (d.ts ? ' · ' + fmtTime(d.ts) : '');
      li.appendChild(h('div', 'meta', meta));
      const hs = Array.isArray(d.hits) ? d.hits.filter(Boolean).slice(0, 3) : [];
      if (hs.length) {
        li.appendChild(h('div', 'dec-hits', hs.map((x) => (x.title || x.id) + ' ' + (Number(x.score) || 0).toFixed(2)).join('；')));
      }
      dec.appendChild(li);
    }
    show($('ctx-decisions-empty'), decs.length === 0);

    const prev = $('ctx-previous');
    prev.replaceChildren();
    const ps = Array.isArray(p.previous) ? p.previous.filter(Boolean) : [];
    for (const pc of ps) {
      const li = h('li');
      li.setAttribute('data-testid', 'context-previous-item');
      const b = h('button', 'link');
      b.type = 'button';
      b.title = '打开会话 ' + pc.id;
      b.appendChild(h('div', 'meta', fmtTime(pc.created_at) + ' · ' + statusLabel(pc.status) + (pc.agent ? ' · ' + pc.agent : '')));
      b.appendChild(h('div', 'first', pc.first || '（无顾客消息）'));
      b.addEventListener('click', () => openConversation(pc.id));
      li.appendChild(b);
      prev.appendChild(li);
    }
    const pe = $('ctx-previous-empty');
    pe.textContent = verified ? '无历史会话' : '访客身份未验证，无法关联历史会话';
    show(pe, ps.length === 0);
  }

  // ---------------------------------------------------------------------------
  // Actions: claim, reply, resolve

  async function doClaim() {
    const cur = S.cur;
    if (!cur || S.claiming) return;
    const sess = S.session;
    S.claiming = true;
    S.claimedByMe.add(cur.id);
    renderChatChrome();
    try {
      const d = await api('POST', '/api/conversations/' + enc(cur.id) + '/claim');
      if (sess !== S.session) return;
      if (S.cur === cur && d.conversation) cur.conv = d.conversation;
      toast('已接入会话', 'ok');
      if (S.cur === cur) setTimeout(() => $('reply-input').focus(), 0);
    } catch (e) {
      if (sess !== S.session || e.status === 401) return;
      toast(e.message);
    } finally {
      if (sess === S.session) {
        S.claiming = false;
        renderChatChrome();
        refreshQueue();
        if (S.cur === cur) refreshOpen();
      }
    }
  }

  async function doResolve() {
    const cur = S.cur;
    if (!cur || S.resolving) return;
    const sess = S.session;
    S.resolving = true;
    renderChatChrome();
    try {
      const d = await api('POST', '/api/conversations/' + enc(cur.id) + '/resolve');
      if (sess !== S.session) return;
      if (S.cur === cur && d.conversation) cur.conv = d.conversation;
      S.drafts.delete(cur.id);
      toast('会话已结束', 'ok');
    } catch (e) {
      if (sess !== S.session || e.status === 401) return;
      toast(e.message);
    } finally {
      if (sess === S.session) {
        S.resolving = false;
        renderChatChrome();
        refreshQueue();
        if (S.cur === cur) refreshOpen();
      }
    }
  }

  // Propose an article: the shopper's last question and the agent's last reply, as a
  // draft for the knowledge editors (POST /api/proposals).

  function lastText(cur, from) {
    const seqs = Array.from(cur.msgs.keys()).sort((a, b) => b - a);
    for (const s of seqs) {
      const m = cur.msgs.get(s);
      if ((m.kind || 'message') === 'message' && m.from === from && m.text) return m.text;
    }
    return '';
  }

  function openPropose() {
    const cur = S.cur;
    if (!cur) return;
    $('propose-question').value = lastText(cur, 'shopper').slice(0, 200);
    $('propose-answer').value = lastText(cur, 'agent');
    $('propose-category').value = cur.conv && cur.conv.group === 'aftersale' ? 'aftersale' : 'presale';
    show($('propose-error'), false);
    show($('propose-panel'), true);
    $('propose-question').focus();
  }

  function closePropose() {
    show($('propose-panel'), false);
  }

  async function submitPropose(ev) {
    ev.preventDefault();
    const cur = S.cur;
    const q = $('propose-question').value.trim();
    const answer = $('propose-answer').value.trim();
    const err = $('propose-error');
    if (!q || !answer) {
      err.textContent = '请填写问题和回答';
      show(err, true);
      return;
    }
    $('propose-submit').disabled = true;
    try {
      // The chat goes with the proposal, so that the editor can read where it came from.
      await api('POST', '/api/proposals', { title: q, questions: [q], answer: answer, category: $('propose-category').value, conversation: cur ? cur.id : undefined });
      closePropose();
      toast('已提交给知识库编辑审核', 'ok');
    } catch (e) {
      err.textContent = e.message;
      show(err, true);
    } finally {
      $('propose-submit').disabled = false;
    }
  }

  function pendingEl(p) {
    const row = h('div', 'msg from-agent side-right is-pending');
    row.setAttribute('data-testid', 'chat-msg-pending');
    row.setAttribute('data-id', p.id);
    const meta = h('div', 'msg-meta');
    meta.appendChild(h('span', 'msg-who', '客服 ' + (S.me ? S.me.name : '')));
    p.stateEl = h('span', 'msg-state', '发送中…');
    meta.appendChild(p.stateEl);
    row.appendChild(meta);
    row.appendChild(h('div', 'bubble', p.text));
    return row;
  }

  function renderPending() {
    const cur = S.cur;
    const box = $('pending-box');
    box.replaceChildren();
    if (!cur) return;
    for (const p of S.pending) if (p.conv === cur.id) box.appendChild(p.el);
  }

  function removePending(p) {
    const i = S.pending.indexOf(p);
    if (i >= 0) S.pending.splice(i, 1);
    p.el.remove();
  }

  function settlePending(convId, m) {
    if (m.from !== 'agent' || !S.pending.length) return;
    const s = seqOf(m);
    for (const p of S.pending.slice()) {
      if (p.conv !== convId) continue;
      if ((m.id && String(m.id) === p.id) || (p.seq !== null && p.seq === s)) removePending(p);
    }
  }

  function doSend(ev, flags) {
    if (ev && ev.preventDefault) ev.preventDefault();
    const cur = S.cur;
    const input = $('reply-input');
    if (!cur || input.disabled) return;
    const text = input.value.replace(/\s+$/, '');
    if (!text.trim()) return;
    show($('reply-error'), false);
    closeCanned();
    if (S.mode === 'note') {
      postNote(cur, text);
      return;
    }
    hideGuard();

    const lf = S.lastFailed;
    const id = lf && lf.conv === cur.id && lf.text === text ? lf.id : randomId();
    S.lastFailed = null;
    const p = { id: id, conv: cur.id, text: text, seq: null, el: null, stateEl: null, flags: flags || null };
    p.el = pendingEl(p);
    S.pending.push(p);
    $('pending-box').appendChild(p.el);
    renderTranscriptNote();
    scrollToBottom();
    input.value = '';
    S.drafts.delete(cur.id);

    // Replies go out one at a time so they keep their order.
    S.sendChain = S.sendChain.then(() => postReply(p)).catch(() => {});
  }

  async function postReply(p) {
    const sess = S.session;
    try {
      const body = { text: p.text, id: p.id };
      if (p.flags) Object.assign(body, p.flags);
      const d = await api('POST', '/api/conversations/' + enc(p.conv) + '/messages', body);
      if (sess !== S.session) return;
      const s = Number(d.seq);
      p.seq = Number.isFinite(s) ? s : null;
      const cur = S.cur;
      if (cur && cur.id === p.conv && p.seq !== null && cur.msgs.has(p.seq)) {
        removePending(p);
        renderTranscriptNote();
      } else {
        if (p.stateEl) p.stateEl.textContent = '已发送';
        p.el.classList.remove('is-pending');
        if (cur && cur.id === p.conv) fetchNewMessages();
        else removePending(p); // it will come with the conversation's history
      }
    } catch (e) {
      if (sess !== S.session) return;
      removePending(p);
      S.lastFailed = { conv: p.conv, text: p.text, id: p.id };
      if (e.status === 401) return;
      const cur = S.cur;
      if (cur && cur.id === p.conv) {
        const input = $('reply-input');
        input.value = input.value ? p.text + '\n' + input.value : p.text;
        renderTranscriptNote();
        if (e.code === 'confirm_short' || e.code === 'blocked_contact') {
          // The guard refused it: the agent confirms (or gives a reason) or edits it.
          showGuard({ conv: p.conv, text: input.value, kind: e.code === 'confirm_short' ? 'short' : 'contact', message: e.message, flags: p.flags });
          return;
        }
        const re = $('reply-error');
        re.textContent = '发送失败：' + e.message;
        show(re, true);
        if (e.code === 'not_owner' || e.code === 'conversation_resolved' || e.status === 403 || e.status === 409) {
          refreshOpen();
          refreshQueue();
        }
      } else {
        const prev = S.drafts.get(p.conv) || '';
        S.drafts.set(p.conv, prev ? p.text + '\n' + prev : p.text);
        toast('回复发送失败（已保留在该会话的输入框中）：' + e.message);
      }
    }
  }

  function onReplyKey(ev) {
    if (ev.isComposing || ev.keyCode === 229) return; // IME candidate selection
    if (S.cannedOpen && cannedKey(ev)) return;
    if (ev.key !== 'Enter' || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    doSend();
  }

  // ---------------------------------------------------------------------------
  // Internal notes: agents only, stored apart from the transcript the shopper reads.

  const loadNotes = (function () {
    const running = new Map();
    return function (cur) {
      if (!cur || running.get(cur)) return;
      const sess = S.session;
      running.set(cur, true);
      api('GET', '/api/conversations/' + enc(cur.id) + '/notes')
        .then((d) => {
          if (sess !== S.session) return;
          cur.notes = Array.isArray(d.notes) ? d.notes.filter(Boolean) : [];
          if (S.cur === cur) {
            const stick = nearBottom();
            renderNotes(cur);
            if (stick) scrollToBottom();
          }
        })
        .catch(() => {
          /* 403 for a chat of another group: no notes to show */
        })
        .finally(() => running.delete(cur));
    };
  })();

  function noteEl(n) {
    const row = h('div', 'msg msg-note kind-' + (n.kind === 'override' ? 'override' : 'note'));
    row.setAttribute('data-testid', 'chat-note');
    row.setAttribute('data-note', String(n.id || ''));
    row.setAttribute('data-seq', String((Number(n.after_seq) || 0) + 0.5));
    const card = h('div', 'note-card');
    const meta = h('div', 'note-meta');
    meta.appendChild(h('span', 'note-label', n.kind === 'override' ? '内部备注 · 放行记录' : '内部备注'));
    meta.appendChild(h('span', 'note-author', n.author || ''));
    const t = fmtTime(n.ts);
    if (t) meta.appendChild(h('span', 'note-time', t));
    meta.appendChild(h('span', 'note-private', '仅客服可见'));
    card.appendChild(meta);
    card.appendChild(h('div', 'note-text', n.text || ''));
    row.appendChild(card);
    return row;
  }

  function renderNotes(cur) {
    if (S.cur !== cur) return;
    $('msg-box').querySelectorAll('.msg-note').forEach((e) => e.remove());
    for (const n of cur.notes || []) insertRow(noteEl(n), (Number(n.after_seq) || 0) + 0.5);
    renderTranscriptNote();
  }

  async function postNote(cur, text) {
    const sess = S.session;
    const input = $('reply-input');
    const btn = $('reply-send');
    btn.disabled = true;
    try {
      const d = await api('POST', '/api/conversations/' + enc(cur.id) + '/notes', { text: text, id: randomId() });
      if (sess !== S.session) return;
      if (d.note && !cur.notes.some((n) => n.id === d.note.id)) cur.notes.push(d.note);
      if (S.cur === cur) {
        if (input.value.replace(/\s+$/, '') === text) input.value = '';
        renderNotes(cur);
        scrollToBottom();
      }
      toast('已添加内部备注（顾客看不到）', 'ok');
    } catch (e) {
      if (sess !== S.session || e.status === 401) return;
      const re = $('reply-error');
      re.textContent = '备注添加失败：' + e.message;
      show(re, true);
    } finally {
      if (sess === S.session) renderChatChrome();
    }
  }

  function setMode(m) {
    if (S.mode === m) return;
    S.mode = m;
    hideGuard();
    closeCanned();
    show($('reply-error'), false);
    renderChatChrome();
    const input = $('reply-input');
    if (!input.disabled) input.focus();
  }

  // ---------------------------------------------------------------------------
  // Canned replies (话术): "/" or "/关键词" at the start of the composer.

  async function loadCanned() {
    const sess = S.session;
    try {
      const d = await api('GET', '/api/canned');
      if (sess !== S.session) return;
      S.canned = Array.isArray(d.canned) ? d.canned.filter((c) => c && c.text) : [];
    } catch (_) {
      S.canned = [];
    }
  }

  function cannedQuery() {
    if (S.mode !== 'reply') return null;
    const m = /^[/／](\S*)$/.exec($('reply-input').value);
    return m ? m[1].toLowerCase() : null;
  }

  function onComposerInput() {
    show($('reply-error'), false);
    if (S.guard && $('reply-input').value !== S.guard.text) hideGuard();
    const q = cannedQuery();
    if (q === null) {
      closeCanned();
      return;
    }
    const list = S.canned.filter((c) => !q || [c.key, c.title, c.text].some((v) => String(v || '').toLowerCase().includes(q)));
    S.cannedShown = list;
    S.cannedIdx = 0;
    S.cannedOpen = true;
    renderCanned();
  }

  function renderCanned() {
    const ul = $('canned-list');
    ul.replaceChildren();
    if (!S.cannedShown.length) {
      ul.appendChild(h('li', 'canned-empty', S.canned.length ? '没有匹配的话术' : '暂无快捷话术'));
    }
    S.cannedShown.forEach((c, i) => {
      const li = h('li', 'canned-item' + (i === S.cannedIdx ? ' is-active' : ''));
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', i === S.cannedIdx ? 'true' : 'false');
      li.setAttribute('data-testid', 'canned-item');
      li.setAttribute('data-key', c.key || '');
      const head = h('div', 'canned-head');
      head.appendChild(h('span', 'canned-title', c.title || c.key));
      head.appendChild(h('span', 'canned-key', '/' + (c.key || '')));
      li.appendChild(head);
      li.appendChild(h('div', 'canned-text', c.text));
      li.addEventListener('mousedown', (ev) => {
        ev.preventDefault(); // keep the focus in the composer
        pickCanned(i);
      });
      ul.appendChild(li);
    });
    show(ul, true);
    const act = ul.querySelector('.is-active');
    if (act && act.scrollIntoView) act.scrollIntoView({ block: 'nearest' });
  }

  function closeCanned() {
    S.cannedOpen = false;
    S.cannedShown = [];
    const ul = $('canned-list');
    if (ul) {
      show(ul, false);
      ul.replaceChildren();
    }
  }

  function pickCanned(i) {
    const c = S.cannedShown[i];
    if (!c) return;
    const input = $('reply-input');
    input.value = c.text;
    closeCanned();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  // cannedKey handles the list's keys; it reports whether it used the key.
  function cannedKey(ev) {
    const n = S.cannedShown.length;
    switch (ev.key) {
      case 'ArrowDown':
        if (n) S.cannedIdx = (S.cannedIdx + 1) % n;
        break;
      case 'ArrowUp':
        if (n) S.cannedIdx = (S.cannedIdx - 1 + n) % n;
        break;
      case 'Enter':
      case 'Tab':
        if (!n) {
          if (ev.key === 'Tab') return false;
          closeCanned();
          break;
        }
        ev.preventDefault();
        pickCanned(S.cannedIdx);
        return true;
      case 'Escape':
        ev.stopPropagation();
        closeCanned();
        break;
      default:
        return false;
    }
    ev.preventDefault();
    if (S.cannedOpen) renderCanned();
    return true;
  }

  // ---------------------------------------------------------------------------
  // The reply guard: the server refused a one-word reply (confirm_short) or one with
  // outside contact details (blocked_contact); the agent confirms, gives a reason, or edits.

  function showGuard(g) {
    S.guard = g;
    const box = $('guard-box');
    box.classList.toggle('is-block', g.kind === 'contact');
    $('guard-text').textContent = g.kind === 'short' ? '这条回复过短，确认发送？（请尽量避免「嗯」「好」「哦」这类一字回复）' : g.message;
    show($('guard-reason-row'), g.kind === 'contact');
    $('guard-reason').value = '';
    $('guard-confirm').textContent = g.kind === 'short' ? '确认发送' : '填写原因并放行';
    show(box, true);
    (g.kind === 'contact' ? $('guard-reason') : $('guard-confirm')).focus();
  }

  function hideGuard() {
    S.guard = null;
    const box = $('guard-box');
    if (box) show(box, false);
  }

  function confirmGuard() {
    const g = S.guard;
    const cur = S.cur;
    if (!g || !cur || cur.id !== g.conv) return hideGuard();
    const flags = Object.assign({}, g.flags || {});
    if (g.kind === 'short') flags.confirm = true;
    else {
      const reason = $('guard-reason').value.trim();
      if (!reason) {
        $('guard-reason').focus();
        $('guard-text').textContent = g.message + '（请先填写放行原因）';
        return;
      }
      flags.override = true;
      flags.reason = reason;
    }
    hideGuard();
    doSend(null, flags);
  }

  function cancelGuard() {
    hideGuard();
    $('reply-input').focus();
  }

  // ---------------------------------------------------------------------------
  // Transfer and back to the bot.

  async function openTransfer() {
    const cur = S.cur;
    if (!cur || !ownsOpen()) return;
    const sess = S.session;
    show($('transfer-error'), false);
    $('transfer-agents').replaceChildren(h('li', 'muted', '正在加载在线客服…'));
    $('transfer-groups').replaceChildren();
    show($('transfer-agents-empty'), false);
    show($('transfer-panel'), true);
    try {
      const d = await api('GET', '/api/presence');
      if (sess !== S.session || S.cur !== cur) return;
      renderTransfer(cur, d);
    } catch (e) {
      if (sess !== S.session || e.status === 401) return;
      $('transfer-agents').replaceChildren();
      const te = $('transfer-error');
      te.textContent = '无法加载客服列表：' + e.message;
      show(te, true);
      renderTransfer(cur, { agents: [], groups: Object.keys(GROUPS) });
    }
  }

  function renderTransfer(cur, d) {
    const group = cur.conv ? cur.conv.group : '';
    const me = S.me ? S.me.name : '';
    const agents = (Array.isArray(d.agents) ? d.agents.filter(Boolean) : []).filter((a) => a.agent !== me && (!group || a.group === group));
    const order = { online: 0, away: 1, offline: 2 };
    agents.sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3) || (a.load || 0) - (b.load || 0) || String(a.agent).localeCompare(String(b.agent)));
    const ul = $('transfer-agents');
    ul.replaceChildren();
    for (const a of agents) {
      const max = Number(a.max_chats) || 0;
      const load = Number(a.load) || 0;
      const full = max > 0 && load >= max;
      const b = h('button', 'pick-item');
      b.type = 'button';
      b.setAttribute('data-testid', 'transfer-agent');
      b.setAttribute('data-agent', a.agent);
      b.appendChild(h('span', 'pick-name', a.agent));
      b.appendChild(h('span', 'pick-status st-' + (a.status || 'offline'), a.status === 'online' ? '在线' : a.status === 'away' ? '离开' : '离线'));
      b.appendChild(h('span', 'pick-sub', '接待 ' + load + '/' + (max || '—') + (full ? ' · 已满' : '')));
      b.disabled = a.status !== 'online' || full;
      b.title = b.disabled ? (full ? '对方接待数已满' : '对方不在线') : '转给 ' + a.agent;
      b.addEventListener('click', () => doTransfer(cur, { agent: a.agent }, '已转接给 ' + a.agent));
      const li = h('li');
      li.appendChild(b);
      ul.appendChild(li);
    }
    show($('transfer-agents-empty'), agents.length === 0);
    const groups = Array.isArray(d.groups) && d.groups.length ? d.groups : Object.keys(GROUPS);
    const gl = $('transfer-groups');
    gl.replaceChildren();
    for (const g of groups) {
      const b = h('button', 'pick-item');
      b.type = 'button';
      b.setAttribute('data-testid', 'transfer-group');
      b.setAttribute('data-group', g);
      b.appendChild(groupBadge(g));
      b.appendChild(h('span', 'pick-name', groupLabel(g) + '组排队'));
      if (g === group) b.appendChild(h('span', 'pick-sub', '当前组 · 放回队列'));
      b.addEventListener('click', () => doTransfer(cur, { group: g }, '已转到' + groupLabel(g) + '组排队'));
      const li = h('li');
      li.appendChild(b);
      gl.appendChild(li);
    }
  }

  async function doTransfer(cur, body, okText) {
    if (S.transferring) return;
    const sess = S.session;
    S.transferring = true;
    $('transfer-panel').querySelectorAll('.pick-item').forEach((b) => b.setAttribute('aria-busy', 'true'));
    try {
      const d = await api('POST', '/api/conversations/' + enc(cur.id) + '/transfer', body);
      if (sess !== S.session) return;
      if (S.cur === cur && d.conversation) cur.conv = d.conversation;
      closeTransfer();
      toast(okText, 'ok');
    } catch (e) {
      if (sess !== S.session || e.status === 401) return;
      const te = $('transfer-error');
      te.textContent = '转接失败：' + e.message;
      show(te, true);
    } finally {
      S.transferring = false;
      $('transfer-panel').querySelectorAll('.pick-item').forEach((b) => b.removeAttribute('aria-busy'));
      if (sess === S.session) {
        refreshQueue();
        if (S.cur === cur) refreshOpen();
      }
    }
  }

  function closeTransfer() {
    show($('transfer-panel'), false);
  }

  // openConfirm shows a confirmation; run does the work and may throw: its message is
  // shown in the dialog, which stays open.
  let confirmRun = null;
  function openConfirm(text, okText, run) {
    confirmRun = run;
    $('confirm-text').textContent = text;
    $('confirm-ok').textContent = okText;
    $('confirm-ok').disabled = false;
    show($('confirm-error'), false);
    show($('confirm-panel'), true);
    $('confirm-ok').focus();
  }

  function closeConfirm() {
    confirmRun = null;
    show($('confirm-panel'), false);
  }

  async function onConfirmOk() {
    if (!confirmRun) return;
    const run = confirmRun;
    $('confirm-ok').disabled = true;
    try {
      await run();
      closeConfirm();
    } catch (e) {
      if (e.status === 401) return closeConfirm();
      const ce = $('confirm-error');
      ce.textContent = e.message;
      show(ce, true);
    } finally {
      $('confirm-ok').disabled = false;
    }
  }

  function askBackToBot() {
    const cur = S.cur;
    if (!cur || !ownsOpen()) return;
    openConfirm('确认将此会话交回智能助手？顾客会收到提示，之后由机器人继续接待；如需人工可再次转人工。', '转回机器人', async () => {
      const sess = S.session;
      try {
        const d = await api('POST', '/api/conversations/' + enc(cur.id) + '/bot');
        if (sess !== S.session) return;
        if (S.cur === cur && d.conversation) cur.conv = d.conversation;
        toast('会话已交回机器人', 'ok');
      } finally {
        if (sess === S.session) {
          refreshQueue();
          if (S.cur === cur) refreshOpen();
        }
      }
    });
  }

  // ---------------------------------------------------------------------------
  // Users (admin)

  let usersReturnFocus = null;

  function openUsers() {
    if (!S.me || S.me.role !== 'admin') return;
    usersReturnFocus = document.activeElement;
    show($('users-panel'), true);
    show($('user-form-error'), false);
    show($('user-form-ok'), false);
    loadUsers();
    setTimeout(() => $('user-username').focus(), 0);
  }

  function closeUsers() {
    if ($('users-panel').hidden) return;
    show($('users-panel'), false);
    if (usersReturnFocus && usersReturnFocus.focus) usersReturnFocus.focus();
    usersReturnFocus = null;
  }

  async function loadUsers() {
    const sess = S.session;
    const body = $('users-body');
    const err = $('users-load-error');
    show(err, false);
    if (!body.children.length) {
      const tr = h('tr');
      const td = h('td', 'muted', '正在加载…');
      td.colSpan = 3;
      tr.appendChild(td);
      body.replaceChildren(tr);
    }
    try {
      const d = await api('GET', '/api/users');
      if (sess !== S.session) return;
      const users = Array.isArray(d.users) ? d.users.filter(Boolean) : [];
      users.sort((a, b) => String(a.name).localeCompare(String(b.name)));
      body.replaceChildren();
      for (const u of users) {
        const tr = h('tr');
        tr.setAttribute('data-testid', 'user-row');
        tr.setAttribute('data-user', u.name || '');
        tr.appendChild(h('td', '', u.name || ''));
        tr.appendChild(h('td', '', roleLabel(u.role)));
        tr.appendChild(h('td', '', u.role === 'admin' && !u.group ? '全部' : groupLabel(u.group)));
        body.appendChild(tr);
      }
      if (!users.length) {
        const tr = h('tr');
        const td = h('td', 'muted', '暂无用户');
        td.colSpan = 3;
        tr.appendChild(td);
        body.appendChild(tr);
      }
    } catch (e) {
      if (sess !== S.session || e.status === 401) return;
      body.replaceChildren();
      err.textContent = '无法加载用户列表：' + e.message;
      show(err, true);
    }
  }

  async function addUser(ev) {
    ev.preventDefault();
    const err = $('user-form-error');
    const ok = $('user-form-ok');
    show(err, false);
    show(ok, false);
    const username = $('user-username').value.trim();
    const password = $('user-password').value;
    const role = $('user-role').value;
    const group = $('user-group').value;
    let problem = '';
    if (!username) problem = '请输入用户名';
    else if (password.length < 8) problem = '密码至少 8 位';
    if (problem) {
      err.textContent = problem;
      show(err, true);
      (username ? $('user-password') : $('user-username')).focus();
      return;
    }
    const btn = $('user-submit');
    btn.disabled = true;
    btn.textContent = '添加中…';
    const sess = S.session;
    try {
      const d = await api('POST', '/api/users', { username: username, password: password, role: role, group: group });
      if (sess !== S.session) return;
      ok.textContent = '已添加用户 ' + (d.name || username) + '（' + roleLabel(d.role || role) + ' · ' + groupLabel(d.group || group) + '）';
      show(ok, true);
      $('user-username').value = '';
      $('user-password').value = '';
      $('user-username').focus();
      loadUsers();
    } catch (e) {
      if (sess !== S.session || e.status === 401) return;
      err.textContent = e.message;
      show(err, true);
    } finally {
      btn.disabled = false;
      btn.textContent = '添加用户';
    }
  }

  // ---------------------------------------------------------------------------
  // After-sales tickets (售后工单): create one for the open conversation, list its
  // tickets with their history, and make the moves the user's role may make.

  const TICKET_TYPES = { return: '退货', exchange: '换货', refund: '退款', repair: '维修', resend: '补发', compensation: '补偿', invoice: '发票', message: '留言' };
  const TICKET_STATUSES = {
    open: '待处理',
    awaiting_confirmation: '待顾客确认',
    awaiting_approval: '待组长审批',
    approved: '已审批',
    in_progress: '处理中',
    resolved: '已完成',
    rejected: '已驳回',
    cancelled: '已取消',
  };
  const EVIDENCE = { waybill: '运单', product_photo: '商品照片', defect_photo: '瑕疵照片' };

  function isStaffRole() {
    return !!S.me && ['agent', 'lead', 'admin'].includes(S.me.role);
  }
  function isLeadRole() {
    return !!S.me && (S.me.role === 'lead' || S.me.role === 'admin');
  }

  function fmtFen(fen) {
    const n = Number(fen) || 0;
    return '¥' + (n / 100).toFixed(2);
  }

  // parseYuan turns "12.5" into 1250 fen; NaN for anything that is not an amount.
  function parseYuan(s) {
    s = String(s || '').trim();
    if (!s) return 0;
    if (!/^\d{1,9}(\.\d{1,2})?$/.test(s)) return NaN;
    const [y, f] = s.split('.');
    return Number(y) * 100 + Number(((f || '') + '00').slice(0, 2));
  }

  function detectedOrder(cur) {
    const p = cur && cur.packet;
    const ds = p && Array.isArray(p.detected) ? p.detected.filter(Boolean) : [];
    const d = ds.find((x) => x.kind === 'order' && x.value);
    return d ? String(d.value) : '';
  }

  function openTickets() {
    const cur = S.cur;
    if (!cur) return;
    $('ticket-form').reset();
    $('ticket-order').value = detectedOrder(cur);
    show($('ticket-error'), false);
    show($('ticket-panel'), true);
    $('ticket-type').focus();
    loadTickets();
  }

  function closeTickets() {
    show($('ticket-panel'), false);
  }

  async function loadTickets() {
    const cur = S.cur;
    if (!cur) return;
    const id = cur.id;
    const err = $('ticket-list-error');
    show(err, false);
    try {
      const res = await api('GET', '/api/tickets?conversation=' + enc(id));
      const list = Array.isArray(res && res.tickets) ? res.tickets.filter(Boolean) : [];
      // The listing leaves the history out; each ticket is read for it.
      const full = await Promise.all(list.map((t) => api('GET', '/api/tickets/' + enc(t.id)).then((r) => (r && r.ticket) || t, () => t)));
      if (!S.cur || S.cur.id !== id) return;
      renderTickets(full);
    } catch (e) {
      if (!S.cur || S.cur.id !== id) return;
      err.textContent = e.message;
      show(err, true);
    }
  }

  // ticketMoves lists the moves the user may make on t: [label, kind, to].
  function ticketMoves(t) {
    const lead = isLeadRole();
    const m = [];
    if (t.type === 'message') {
      // A message the shopper left: take it up, answer it, or void it.
      if (t.status === 'open') m.push(['开始处理', '', 'in_progress']);
      if (t.status === 'open' || t.status === 'in_progress') m.push(['已处理', 'primary', 'resolved'], ['作废', 'danger-outline', 'cancelled']);
      return m;
    }
    switch (t.status) {
      case 'open':
        m.push(['提交顾客确认', 'primary', 'awaiting_confirmation'], ['取消工单', 'danger-outline', 'cancelled']);
        break;
      case 'awaiting_confirmation':
        m.push(['撤回方案', '', 'open'], ['取消工单', 'danger-outline', 'cancelled']);
        break;
      case 'awaiting_approval':
        if (lead) m.push(['批准', 'primary', 'approve'], ['驳回', 'danger-outline', 'reject']);
        m.push(['取消工单', 'danger-outline', 'cancelled']);
        break;
      case 'approved':
        m.push(['开始处理', '', 'in_progress'], ['已解决', 'primary', 'resolved'], ['取消工单', 'danger-outline', 'cancelled']);
        break;
      case 'in_progress':
        m.push(['已解决', 'primary', 'resolved']);
        if (lead) m.push(['驳回', 'danger-outline', 'reject']);
        m.push(['取消工单', 'danger-outline', 'cancelled']);
        break;
    }
    return m;
  }

  function renderTickets(list) {
    const ul = $('ticket-list');
    ul.replaceChildren();
    for (const t of list) ul.appendChild(ticketEl(t));
    show($('ticket-list-empty'), list.length === 0);
  }

  // lastDecline returns the shopper's latest decline of t, if that is its last move.
  function lastDecline(t) {
    const hist = Array.isArray(t.history) ? t.history : [];
    const e = hist[hist.length - 1];
    return e && e.role === 'shopper' && e.to === 'open' ? e : null;
  }

  function ticketEl(t) {
    const li = h('li', 'ticket-item');
    li.setAttribute('data-testid', 'ticket-item');
    li.setAttribute('data-ticket', t.id || '');
    li.setAttribute('data-status', t.status || '');
    const head = h('div', 'ticket-head');
    head.appendChild(h('span', 'mono', t.id || ''));
    head.appendChild(h('span', '', TICKET_TYPES[t.type] || t.type || ''));
    const badge = h('span', 'ticket-badge t-' + (t.status || ''), TICKET_STATUSES[t.status] || t.status || '');
    badge.setAttribute('data-testid', 'ticket-status');
    head.appendChild(badge);
    if (t.order || t.type !== 'message') head.appendChild(h('span', 'meta', '订单 ' + (t.order || '—')));
    if (t.group) head.appendChild(groupBadge(t.group));
    li.appendChild(head);
    li.appendChild(h('div', '', (t.type === 'message' ? '留言：' : '原因：') + (t.reason || '')));
    if (t.contact) li.appendChild(h('div', 'meta', '联系方式：' + t.contact));
    const ev = Array.isArray(t.evidence) ? t.evidence.map((e) => EVIDENCE[e] || e).join('、') : '';
    if (ev) li.appendChild(h('div', 'meta', '凭证：' + ev));
    const r = t.remedy || {};
    if (r.text || r.amount_fen) {
      li.appendChild(h('div', '', '方案：' + (r.text || '') + (r.amount_fen ? '（' + fmtFen(r.amount_fen) + '）' : '')));
    }
    const declined = lastDecline(t);
    if (declined) {
      const d = h('div', 'form-error', '顾客未接受上次的方案（' + fmtTime(declined.at) + '），请修改后重新提交');
      d.setAttribute('data-testid', 'ticket-declined');
      li.appendChild(d);
    }
    if (t.confirmation) li.appendChild(h('div', 'meta', '顾客已确认 · ' + fmtTime(t.confirmation.at)));
    const hist = Array.isArray(t.history) ? t.history.filter(Boolean) : [];
    if (hist.length) {
      const ol = h('ol', 'ticket-history');
      ol.setAttribute('data-testid', 'ticket-history');
      for (const e of hist) {
        const who = e.role === 'shopper' ? '顾客' : (e.by || '') + (e.role ? '（' + roleLabel(e.role) + '）' : '');
        const line = fmtTime(e.at) + ' ' + who + '：' + (e.from ? (TICKET_STATUSES[e.from] || e.from) + ' → ' : '创建 ') + (TICKET_STATUSES[e.to] || e.to) + (e.note ? ' · ' + e.note : '');
        ol.appendChild(h('li', '', line));
      }
      li.appendChild(ol);
    }
    // Before it goes to the shopper (again, after a decline) the remedy can be edited.
    let remedyText = null;
    let remedyAmount = null;
    if (t.status === 'open' && t.type !== 'message') {
      const row = h('div', 'ticket-remedy');
      remedyText = h('input');
      remedyText.type = 'text';
      remedyText.maxLength = 500;
      remedyText.placeholder = '处理方案（发给顾客确认）';
      remedyText.value = r.text || '';
      remedyText.setAttribute('data-testid', 'ticket-edit-remedy');
      row.appendChild(remedyText);
      if (t.type === 'refund' || t.type === 'compensation') {
        remedyAmount = h('input');
        remedyAmount.type = 'text';
        remedyAmount.inputMode = 'decimal';
        remedyAmount.placeholder = '金额（元）';
        remedyAmount.value = r.amount_fen ? (Number(r.amount_fen) / 100).toFixed(2) : '';
        remedyAmount.setAttribute('data-testid', 'ticket-edit-amount');
        row.appendChild(remedyAmount);
      }
      li.appendChild(row);
    }
    const moves = ticketMoves(t);
    if (moves.length) {
      const bar = h('div', 'ticket-actions');
      const note = h('input');
      note.type = 'text';
      note.maxLength = 500;
      note.placeholder = '备注（可选）';
      note.setAttribute('data-testid', 'ticket-note');
      bar.appendChild(note);
      for (const [label, kind, to] of moves) {
        const b = h('button', 'btn' + (kind ? ' ' + kind : ''), label);
        b.type = 'button';
        b.setAttribute('data-testid', 'ticket-move');
        b.setAttribute('data-to', to);
        b.addEventListener('click', () => {
          let remedy = null;
          if (to === 'awaiting_confirmation' && remedyText) {
            const fen = remedyAmount ? parseYuan(remedyAmount.value) : 0;
            if (isNaN(fen)) {
              const err = li.querySelector('[data-testid="ticket-move-error"]');
              err.textContent = '金额须为最多两位小数的元数，例如 12.50';
              show(err, true);
              return;
            }
            remedy = { text: remedyText.value.trim(), amount_fen: fen };
          }
          moveTicket(t, to, note.value.trim(), bar, li, remedy);
        });
        bar.appendChild(b);
      }
      li.appendChild(bar);
    }
    const err = h('p', 'form-error');
    err.setAttribute('role', 'alert');
    err.setAttribute('data-testid', 'ticket-move-error');
    err.hidden = true;
    li.appendChild(err);
    return li;
  }

  async function moveTicket(t, to, note, bar, li, remedy) {
    const err = li.querySelector('[data-testid="ticket-move-error"]');
    show(err, false);
    for (const b of bar.querySelectorAll('button')) b.disabled = true;
    try {
      let res;
      if (to === 'approve' || to === 'reject') {
        res = await api('POST', '/api/tickets/' + enc(t.id) + '/' + to, { note: note });
      } else {
        const body = { to: to, note: note };
        if (remedy) body.remedy = remedy;
        res = await api('POST', '/api/tickets/' + enc(t.id) + '/transition', body);
      }
      toast('工单 ' + t.id + ' 已更新为「' + (TICKET_STATUSES[res.ticket.status] || res.ticket.status) + '」', 'ok');
      loadTickets();
      refreshTicketLists();
    } catch (e) {
      err.textContent = e.message;
      show(err, true);
      for (const b of bar.querySelectorAll('button')) b.disabled = false;
    }
  }

  // A ticket record of the transcript: what the shopper was shown or answered.
  const TICKET_EVENTS = {
    proposed: '方案已发给顾客确认',
    confirmed: '顾客已确认方案',
    declined: '顾客未接受方案',
    withdrawn: '已撤回方案',
    cancelled: '工单已取消',
    approved: '组长已批准',
    rejected: '组长已驳回',
    in_progress: '处理中',
    resolved: '已完成',
  };

  function ticketRecordEl(m, seq, time) {
    const t = m.ticket;
    const row = h('div', 'msg msg-sys kind-ticket');
    row.setAttribute('data-testid', 'chat-msg');
    row.setAttribute('data-from', 'system');
    row.setAttribute('data-seq', String(seq));
    row.setAttribute('data-kind', 'ticket');
    const card = h('div', 'ticket-card ev-' + (t.event || ''));
    card.setAttribute('data-testid', 'chat-ticket');
    card.setAttribute('data-ticket', String(t.id || ''));
    card.setAttribute('data-event', String(t.event || ''));
    const head = h('div', 'ticket-card-head');
    head.appendChild(h('span', 'mono', String(t.id || '')));
    head.appendChild(h('span', '', TICKET_TYPES[t.type] || t.type || ''));
    const ev = h('span', 'ticket-badge t-' + (t.status || ''), TICKET_EVENTS[t.event] || t.event || '');
    ev.setAttribute('data-testid', 'chat-ticket-event');
    head.appendChild(ev);
    if (time) head.appendChild(h('span', 'sys-time', time));
    card.appendChild(head);
    const r = t.remedy || {};
    if (r.text || r.amount_fen) {
      card.appendChild(h('div', 'ticket-card-body', '方案：' + (r.text || '') + (r.amount_fen ? '（' + fmtFen(r.amount_fen) + '）' : '')));
    }
    const open = h('button', 'btn small', '查看工单');
    open.type = 'button';
    open.addEventListener('click', openTickets);
    card.appendChild(open);
    row.appendChild(card);
    return row;
  }

  // ---------------------------------------------------------------------------
  // Ticket lists in the left column: messages shoppers left for my group, and for a
  // lead the refunds and compensations waiting for approval.

  function scheduleTicketRefresh() {
    if (S.ticketDebounce) return;
    S.ticketDebounce = setTimeout(() => {
      S.ticketDebounce = 0;
      refreshTicketLists();
    }, 300);
  }

  const refreshTicketLists = coalesce(async () => {
    if (!isAgent() || !isStaffRole()) return;
    const sess = S.session;
    const me = S.me;
    const group = me.role === 'admin' ? '' : me.group || '';
    const q = (status, extra) => '/api/tickets?status=' + status + (extra || '');
    const msg = '&type=message' + (group ? '&group=' + enc(group) : '');
    try {
      const reqs = [api('GET', q('open', msg)), api('GET', q('in_progress', msg))];
      if (isLeadRole()) reqs.push(api('GET', q('awaiting_approval')));
      const res = await Promise.all(reqs);
      if (sess !== S.session) return;
      const list = (r) => (Array.isArray(r && r.tickets) ? r.tickets.filter(Boolean) : []);
      S.msgTickets = list(res[0]).concat(list(res[1]));
      S.approvals = res[2] ? list(res[2]) : [];
      renderTicketLists();
    } catch (e) {
      /* the next refresh tries again; the queue shows connection trouble */
    }
  });

  function renderTicketLists() {
    const fill = (ul, items, testid) => {
      const frag = document.createDocumentFragment();
      for (const t of items) {
        const li = h('li');
        const b = h('button', 'qitem');
        b.type = 'button';
        b.setAttribute('data-testid', testid);
        b.setAttribute('data-ticket', String(t.id || ''));
        b.setAttribute('data-conversation', String(t.conversation || ''));
        const top = h('span', 'qitem-top');
        if (t.group) top.appendChild(groupBadge(t.group));
        top.appendChild(h('span', 'qitem-reason', (TICKET_TYPES[t.type] || t.type || '') + ' · ' + (TICKET_STATUSES[t.status] || t.status || '')));
        const w = h('span', 'qitem-wait', fmtTime(t.created_at));
        top.appendChild(w);
        b.appendChild(top);
        const text = t.type === 'message' ? t.reason || '' : (t.remedy && t.remedy.text) || t.reason || '';
        const fen = t.remedy && t.remedy.amount_fen;
        b.appendChild(h('span', 'qitem-preview', (fen ? fmtFen(fen) + ' ' : '') + text));
        b.title = t.id || '';
        b.addEventListener('click', () => openTicketOf(t));
        li.appendChild(b);
        frag.appendChild(li);
      }
      ul.replaceChildren(frag);
    };
    const msgs = S.msgTickets || [];
    const appr = S.approvals || [];
    fill($('msg-ticket-list'), msgs, 'msg-ticket-item');
    $('msg-ticket-count').textContent = String(msgs.length);
    show($('msg-ticket-empty'), msgs.length === 0);
    show($('approval-section'), isLeadRole());
    fill($('approval-list'), appr, 'approval-item');
    $('approval-count').textContent = String(appr.length);
    show($('approval-empty'), appr.length === 0);
  }

  // openTicketOf opens the ticket's conversation with its ticket panel.
  function openTicketOf(t) {
    if (!t.conversation) return;
    openConversation(String(t.conversation));
    openTickets();
  }

  async function submitTicket(ev) {
    ev.preventDefault();
    const cur = S.cur;
    if (!cur) return;
    const err = $('ticket-error');
    show(err, false);
    const amount = parseYuan($('ticket-amount').value);
    const fail = (msg) => {
      err.textContent = msg;
      show(err, true);
    };
    const order = $('ticket-order').value.trim();
    const reason = $('ticket-reason').value.trim();
    if (!order) return fail('请填写订单号');
    if (!reason) return fail('请填写原因');
    if (isNaN(amount)) return fail('金额须为最多两位小数的元数，例如 12.50');
    const evidence = Array.from(document.querySelectorAll('input[name="ticket-evidence"]:checked')).map((x) => x.value);
    const body = {
      conversation: cur.id,
      order: order,
      type: $('ticket-type').value,
      reason: reason,
      evidence: evidence,
      remedy: { text: $('ticket-remedy').value.trim(), amount_fen: amount },
    };
    $('ticket-submit').disabled = true;
    try {
      const res = await api('POST', '/api/tickets', body);
      toast('已创建工单 ' + res.ticket.id, 'ok');
      $('ticket-form').reset();
      $('ticket-order').value = detectedOrder(cur);
      loadTickets();
    } catch (e) {
      fail(e.message);
    } finally {
      $('ticket-submit').disabled = false;
    }
  }

  // ---------------------------------------------------------------------------
  // Boot

  function wire() {
    $('login-form').addEventListener('submit', login.submit);
    $('logout-btn').addEventListener('click', doLogout);
    $('users-btn').addEventListener('click', openUsers);
    $('users-close').addEventListener('click', closeUsers);
    $('users-panel').addEventListener('mousedown', (ev) => {
      if (ev.target === $('users-panel')) closeUsers();
    });
    $('user-form').addEventListener('submit', addUser);
    $('claim-btn').addEventListener('click', doClaim);
    $('resolve-btn').addEventListener('click', doResolve);
    $('propose-btn').addEventListener('click', openPropose);
    $('ticket-btn').addEventListener('click', openTickets);
    $('ticket-close').addEventListener('click', closeTickets);
    $('ticket-form').addEventListener('submit', submitTicket);
    $('ticket-panel').addEventListener('mousedown', (ev) => {
      if (ev.target === $('ticket-panel')) closeTickets();
    });
    $('presence-btn').addEventListener('click', togglePresence);
    $('propose-close').addEventListener('click', closePropose);
    $('propose-form').addEventListener('submit', submitPropose);
    $('propose-panel').addEventListener('mousedown', (ev) => {
      if (ev.target === $('propose-panel')) closePropose();
    });
    $('composer').addEventListener('submit', doSend);
    $('reply-input').addEventListener('keydown', onReplyKey);
    $('reply-input').addEventListener('input', onComposerInput);
    $('reply-input').addEventListener('blur', () => setTimeout(() => {
      if (document.activeElement !== $('reply-input')) closeCanned();
    }, 0));
    $('mode-reply').addEventListener('click', () => setMode('reply'));
    $('mode-note').addEventListener('click', () => setMode('note'));
    $('guard-confirm').addEventListener('click', confirmGuard);
    $('guard-cancel').addEventListener('click', cancelGuard);
    $('guard-reason').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.isComposing) {
        ev.preventDefault();
        confirmGuard();
      }
    });
    $('transfer-btn').addEventListener('click', openTransfer);
    $('transfer-close').addEventListener('click', closeTransfer);
    $('transfer-panel').addEventListener('mousedown', (ev) => {
      if (ev.target === $('transfer-panel')) closeTransfer();
    });
    $('bot-btn').addEventListener('click', askBackToBot);
    $('confirm-ok').addEventListener('click', onConfirmOk);
    $('confirm-cancel').addEventListener('click', closeConfirm);
    $('confirm-close').addEventListener('click', closeConfirm);
    $('confirm-panel').addEventListener('mousedown', (ev) => {
      if (ev.target === $('confirm-panel')) closeConfirm();
    });
    $('sound-btn').addEventListener('click', toggleSound);
    loadSound();

    document.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape') return;
      if (!$('confirm-panel').hidden) closeConfirm();
      else if (!$('ticket-panel').hidden) closeTickets();
      else if (!$('transfer-panel').hidden) closeTransfer();
      else if (S.guard && document.activeElement !== $('reply-input')) cancelGuard();
      else if (!$('users-panel').hidden) closeUsers();
      else if (S.cur && !$('app').hidden && document.activeElement !== $('reply-input')) closeConversation();
    });

    for (const t of ['pointerdown', 'keydown', 'touchstart']) {
      window.addEventListener(t, onGesture, { capture: true, passive: true });
    }
    window.addEventListener('focus', stopFlash);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && isAgent()) {
        if (document.hasFocus()) stopFlash();
        refreshQueue();
        if (S.cur) fetchNewMessages();
      }
    });
    window.addEventListener('online', () => {
      if (!isAgent()) return;
      if (!S.es) connectEvents();
      refreshAll();
    });
  }

  onReady(() => {
    wire();
    login.boot();
  });
})();
