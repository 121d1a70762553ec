/* Kefu 客服台 — the live event stream, the queues in the left column, and the new-chat
 * notice (title flash and beep). */
'use strict';

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
    case 'conversation':
      // The event carries the chat's queue line and the records it gained: the lists
      // and the open chat change without reading anything again.
      applyChange(conv, ev.entry, Array.isArray(ev.messages) ? ev.messages.filter(Boolean) : []);
      scheduleTicketRefresh();
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

// applyChange takes in a changed chat: its queue line (entry) and the records it gained.
function applyChange(conv, entry, messages) {
  if (!conv) return;
  if (!entry || typeof entry !== 'object' || !S.queueLoaded) {
    scheduleQueueRefresh();
  } else {
    const same = (e) => String(e.conversation) === conv;
    const old = S.waiting.find(same) || S.mine.find(same);
    const e = Object.assign({}, entry);
    if (e.preview === undefined || e.preview === null) e.preview = old ? old.preview : '';
    const waiting = S.waiting.filter((x) => !same(x));
    const mine = S.mine.filter((x) => !same(x));
    const admin = !!S.me && S.me.role === 'admin';
    if (e.status === 'queued' && (admin || (S.me && e.group === S.me.group))) {
      waiting.push(e);
      waiting.sort((a, b) => (Number(a.order) - Number(b.order)) || (String(a.conversation) < String(b.conversation) ? -1 : 1));
    }
    if (e.status === 'active' && S.me && e.agent === S.me.name) {
      mine.push(e);
      mine.sort((a, b) => (Number(a.claimed_at) || 0) - (Number(b.claimed_at) || 0));
    }
    applyQueue({ waiting, mine });
  }
  const cur = S.cur;
  if (cur && conv === cur.id) {
    if (messages.length) {
      const first = Number(messages[0].seq);
      if (cur.loaded && Number.isFinite(first) && first <= cur.lastSeq + 1) mergeMessages(cur, messages);
      else fetchNewMessages();
    }
    if (entry && cur.conv && (entry.status !== cur.conv.status || entry.agent !== cur.conv.agent)) refreshOpen();
  } else if (messages.some((m) => m.from === 'shopper') && S.mine.some((e) => String(e.conversation) === conv)) {
    S.unread.add(conv);
    renderQueues();
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
  later('queueDebounce', 150, () => refreshQueue());
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
    showText($('queue-error'), '队列刷新失败：' + e.message);
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
    const b = h('button', 'list-item qitem');
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
    if (e.lang === 'en') {
      const lang = h('span', 'tag qitem-lang', 'EN');
      lang.title = '顾客使用英文挂件：系统消息和快捷话术为英文';
      lang.setAttribute('data-testid', 'qitem-lang');
      top.appendChild(lang);
    }
    if (isWaiting) {
      if (S.freshIds.has(id)) b.classList.add('is-new');
      const w = h('span', 'tag qitem-wait');
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
        const w = h('span', 'tag qitem-wait is-first-reply');
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
