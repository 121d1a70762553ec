/* Kefu 客服台 — after-sales tickets (售后工单): the ticket dialog of a chat, and the
 * ticket lists of the left column. */
'use strict';

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
    // The listing leaves the photos of the conversation (the evidence) out too.
    const full = await Promise.all(list.map((t) => api('GET', '/api/tickets/' + enc(t.id)).then(
      (r) => (r && r.ticket ? Object.assign({}, r.ticket, { photos: Array.isArray(r.photos) ? r.photos : [] }) : t), () => t)));
    if (!S.cur || S.cur.id !== id) return;
    renderTickets(full);
  } catch (e) {
    if (!S.cur || S.cur.id !== id) return;
    showText(err, e.message);
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
  if (Array.isArray(t.photos) && t.photos.length) {
    const ph = h('div', 'ticket-photos');
    ph.setAttribute('data-testid', 'ticket-photos');
    ph.appendChild(h('div', 'meta', '会话中的照片（' + t.photos.length + ' 张）'));
    ph.appendChild(photoStrip(t.photos));
    li.appendChild(ph);
  }
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
            showText(err, '金额须为最多两位小数的元数，例如 12.50');
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
      res = await withOverride((extra) => api('POST', '/api/tickets/' + enc(t.id) + '/transition', Object.assign({}, body, extra)));
    }
    toast('工单 ' + t.id + ' 已更新为「' + (TICKET_STATUSES[res.ticket.status] || res.ticket.status) + '」', 'ok');
    loadTickets();
    refreshTicketLists();
  } catch (e) {
    showText(err, e.message);
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
  later('ticketDebounce', 300, () => refreshTicketLists());
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
      const b = h('button', 'list-item qitem');
      b.type = 'button';
      b.setAttribute('data-testid', testid);
      b.setAttribute('data-ticket', String(t.id || ''));
      b.setAttribute('data-conversation', String(t.conversation || ''));
      const top = h('span', 'qitem-top');
      if (t.group) top.appendChild(groupBadge(t.group));
      top.appendChild(h('span', 'qitem-reason', (TICKET_TYPES[t.type] || t.type || '') + ' · ' + (TICKET_STATUSES[t.status] || t.status || '')));
      const w = h('span', 'tag qitem-wait', fmtTime(t.created_at));
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
    showText(err, msg);
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
    const res = await withOverride((extra) => api('POST', '/api/tickets', Object.assign({}, body, extra)));
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

// withOverride calls send({}), and, when the contact guard blocks the remedy
// (blocked_contact), asks the agent for a reason to let it through and calls
// send({override, override_reason}) once more; the override is kept in the audit log.
async function withOverride(send) {
  try {
    return await send({});
  } catch (e) {
    if (e.code !== 'blocked_contact') throw e;
    const reason = (window.prompt(e.message + '\n\n放行原因：') || '').trim();
    if (!reason) throw e;
    return send({ override: true, override_reason: reason });
  }
}
