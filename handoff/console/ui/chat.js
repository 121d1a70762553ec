/* Kefu 客服台 — the open conversation: its transcript, header and the context sidebar
 * (the hand-off packet). */
'use strict';

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
    noteRating(cur, m);
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
      text = recordText(m) || m.text || '';
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

  const photos = Array.isArray(m.attachments) ? m.attachments : [];
  if (photos.length) row.appendChild(photoStrip(photos));
  if (m.text || !photos.length) row.appendChild(h('div', 'bubble', m.text || ''));

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
  renderRating();

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
    const w = h('span', 'tag qitem-wait');
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

  fillList('ctx-hits', ctx.hits, 'tr', 'context-hit', (tr, hit) => {
    const t = h('td', 'hit-title', hit.title || hit.id || '—');
    t.title = hit.id ? '文章编号：' + hit.id : '';
    tr.appendChild(t);
    tr.appendChild(h('td', 'hit-cat', CATEGORIES[hit.category] || hit.category || '—'));
    const sc = Number(hit.score);
    tr.appendChild(h('td', 'num', Number.isFinite(sc) ? sc.toFixed(2) : '—'));
  });
  renderPacket(cur.packet || {}, c);
}

// fillList fills the list (or table body) #id with a row of tag for each of items that
// is not empty, each marked data-testid=testid and filled by fill(row, item), and shows
// #id-empty when there is none. items that is not an array counts as none.
function fillList(id, items, tag, testid, fill) {
  const xs = Array.isArray(items) ? items.filter(Boolean) : [];
  $(id).replaceChildren(...xs.map((x) => {
    const row = h(tag);
    row.setAttribute('data-testid', testid);
    fill(row, x);
    return row;
  }));
  show($(id + '-empty'), xs.length === 0);
}

// The context packet (GET /api/conversations/{id} "packet"): the customer, their
// orders, numbers found in their messages, every bot decision and earlier chats.
// Orders are shown only for a shop-verified shopper.
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

  fillList('ctx-orders', verified ? sh.orders : null, 'li', 'context-order', (li, o) => {
    li.appendChild(h('span', 'mono', o.id || '—'));
    if (o.status) li.appendChild(h('span', 'meta', ' · ' + o.status));
    const items = Array.isArray(o.items) ? o.items.join('、') : '';
    if (items) li.appendChild(h('div', 'meta', items));
  });
  $('ctx-orders-empty').textContent = verified ? '无最近订单' : '访客身份未验证，不显示订单';

  fillList('ctx-detected', p.detected, 'li', 'context-detected-item', (li, d) => {
    li.setAttribute('data-kind', d.kind || '');
    li.appendChild(h('span', 'meta', (d.kind === 'phone' ? '手机号 ' : '订单号 ')));
    li.appendChild(h('span', 'mono', d.value || ''));
    if (d.kind === 'order' && !d.verified) {
      li.appendChild(h('span', 'warn', '未验证 — 请顾客在自己的账号中确认订单'));
    }
  });

  fillList('ctx-decisions', p.decisions, 'li', 'context-decision', (li, d) => {
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
  });

  fillList('ctx-previous', p.previous, 'li', 'context-previous-item', (li, pc) => {
    const b = h('button', 'link');
    b.type = 'button';
    b.title = '打开会话 ' + pc.id;
    b.appendChild(h('div', 'meta', fmtTime(pc.created_at) + ' · ' + statusLabel(pc.status) + (pc.agent ? ' · ' + pc.agent : '')));
    b.appendChild(h('div', 'first', pc.first || '（无顾客消息）'));
    b.addEventListener('click', () => openConversation(pc.id));
    li.appendChild(b);
  });
  $('ctx-previous-empty').textContent = verified ? '无历史会话' : '访客身份未验证，无法关联历史会话';
}
