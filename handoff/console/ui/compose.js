/* Kefu 客服台 — what the agent does in a chat: claim, reply, resolve, propose an article,
 * internal notes, canned replies and the reply guard. */
'use strict';

// ---------------------------------------------------------------------------
// Actions: claim, reply, resolve

function doClaim() {
  return chatAction('claiming', 'claim', (cur) => S.claimedByMe.add(cur.id), (cur) => {
    toast('已接入会话', 'ok');
    if (S.cur === cur) setTimeout(() => $('reply-input').focus(), 0);
  });
}

function doResolve() {
  return chatAction('resolving', 'resolve', null, (cur) => {
    S.drafts.delete(cur.id);
    toast('会话已结束', 'ok');
  });
}

// chatAction posts action (claim, resolve) for the open chat, unless S[busy] says one
// is under way: S[busy] is set while it runs, before(cur) runs first, and done(cur)
// once the answer's record is taken. The queue and the open chat are read again after.
async function chatAction(busy, action, before, done) {
  const cur = S.cur;
  if (!cur || S[busy]) return;
  const sess = S.session;
  S[busy] = true;
  if (before) before(cur);
  renderChatChrome();
  try {
    const d = await api('POST', '/api/conversations/' + enc(cur.id) + '/' + action);
    if (sess !== S.session) return;
    if (S.cur === cur && d.conversation) cur.conv = d.conversation;
    done(cur);
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    toast(e.message);
  } finally {
    if (sess === S.session) {
      S[busy] = false;
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
    showText(err, '请填写问题和回答');
    return;
  }
  $('propose-submit').disabled = true;
  try {
    // The chat goes with the proposal, so that the editor can read where it came from.
    await api('POST', '/api/proposals', { title: q, questions: [q], answer: answer, category: $('propose-category').value, conversation: cur ? cur.id : undefined });
    closePropose();
    toast('已提交给知识库编辑审核', 'ok');
  } catch (e) {
    showText(err, e.message);
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
      showText($('reply-error'), '发送失败：' + e.message);
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
    showText($('reply-error'), '备注添加失败：' + e.message);
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

// The canned replies come in the open chat's language (the shopper's widget's), as an
// admin last edited them (话术设置); they are read again whenever the list opens.
async function loadCanned() {
  const sess = S.session;
  const byLang = {};
  for (const l of ['zh', 'en']) {
    try {
      const d = await api('GET', '/api/canned?lang=' + l);
      byLang[l] = Array.isArray(d.canned) ? d.canned.filter((c) => c && c.text) : [];
    } catch (_) {
      byLang[l] = (S.cannedByLang && S.cannedByLang[l]) || [];
    }
  }
  if (sess !== S.session) return;
  S.cannedByLang = byLang;
}

// cannedOfChat returns the canned replies in the open chat's language.
function cannedOfChat() {
  const l = S.cur && S.cur.conv && S.cur.conv.lang === 'en' ? 'en' : 'zh';
  return (S.cannedByLang && S.cannedByLang[l]) || [];
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
  if (!S.cannedOpen) loadCanned(); // fresh for the next time: an admin may have edited them
  const canned = cannedOfChat();
  S.canned = canned;
  const list = canned.filter((c) => !q || [c.key, c.title, c.text].some((v) => String(v || '').toLowerCase().includes(q)));
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
