  // ---------------------------------------------------------------- ticket cards

  // An agent's proposed remedy for an after-sales ticket comes as a ticket record; the
  // shopper answers it with 确认 or 不接受 (docs/protocol.md). Later records of the same
  // ticket say what became of it: the earlier cards lose their buttons.
  var TICKET_TYPES = { return: '退货', exchange: '换货', refund: '退款', repair: '维修', resend: '补发', compensation: '补偿', invoice: '发票', message: '留言' };
  var TICKET_AFTER = {
    proposed: '方案已更新，请查看最新方案',
    confirmed: '您已确认该方案',
    declined: '您未接受该方案',
    withdrawn: '客服已撤回该方案',
    cancelled: '工单已取消'
  };
  var ticketCards = {};          // ticket id -> {rev, el}: its latest card
  var ticketAnswers = new Map(); // frame id -> card element awaiting the server's answer

  function fmtFen(fen) {
    var n = Number(fen) || 0;
    return '¥' + Math.floor(n / 100) + '.' + ('0' + (n % 100)).slice(-2);
  }

  function setTicketButtons(card, enabled) {
    var bs = card.querySelectorAll('.tacts button');
    for (var i = 0; i < bs.length; i++) bs[i].disabled = !enabled;
  }

  function setTicketState(card, text) {
    card.querySelector('.tstate').textContent = text;
  }

  function answerTicket(card, confirm) {
    var id = newId();
    setTicketButtons(card, false);
    setTicketState(card, '提交中…');
    if (!transmit({ type: confirm ? 'ticket_confirm' : 'ticket_decline', id: id,
      ticket: card.getAttribute('data-ticket'), rev: Number(card.getAttribute('data-rev')) })) {
      setTicketButtons(card, true);
      setTicketState(card, '网络未连接，请稍后再试');
      connect();
      return;
    }
    ticketAnswers.set(id, card);
  }

  // settleTicketAnswer ends the wait for answer id: ok, refused (code) or lost (null).
  function settleTicketAnswer(id, ok, code) {
    var card = ticketAnswers.get(id);
    if (!card) return false;
    ticketAnswers.delete(id);
    if (ok || card.getAttribute('data-done')) return true;
    if (code === 'ticket_changed') {
      setTicketState(card, '方案已更新或已答复，请查看最新的消息');
      return true;
    }
    setTicketButtons(card, true);
    setTicketState(card, code ? '提交失败，请重试' : '连接中断，请重新选择');
    return true;
  }

  function buildTicket(f) {
    var t = f.ticket;
    var m = msgShell('ticket', f.seq, f.ts);
    var card = el('div', 'tcard');
    card.setAttribute('data-testid', 'kefu-ticket');
    card.setAttribute('data-ticket', String(t.id || ''));
    card.setAttribute('data-rev', String(Number(t.rev) || 0));
    card.setAttribute('data-event', String(t.event || ''));
    var typ = TICKET_TYPES[t.type] || '';
    card.appendChild(el('div', 'thead', (t.type === 'message' ? '留言' : '售后工单') + ' ' + (t.id || '') + (typ && t.type !== 'message' ? ' · ' + typ : '')));
    var st = el('div', 'tstate');
    st.setAttribute('data-testid', 'kefu-ticket-state');
    if (t.event === 'proposed') {
      var r = t.remedy || {};
      card.appendChild(el('div', 'tbody', '处理方案：' + (r.text || '')));
      if (r.amount_fen > 0) card.appendChild(el('div', 'tamount', fmtFen(r.amount_fen)));
      st.textContent = '请确认是否接受这个方案';
      card.appendChild(st);
      var acts = el('div', 'tacts');
      var yes = el('button', 'tyes', '确认');
      yes.type = 'button';
      yes.setAttribute('data-testid', 'kefu-ticket-confirm');
      var no = el('button', 'tno', '不接受');
      no.type = 'button';
      no.setAttribute('data-testid', 'kefu-ticket-decline');
      yes.addEventListener('click', function () { answerTicket(card, true); });
      no.addEventListener('click', function () { answerTicket(card, false); });
      acts.appendChild(yes);
      acts.appendChild(no);
      card.appendChild(acts);
    } else {
      card.appendChild(el('div', 'tbody', f.text || ''));
    }
    var prev = t.id ? ticketCards[t.id] : null;
    if (prev && prev.el.getAttribute('data-event') === 'proposed' && !prev.el.getAttribute('data-done')) {
      prev.el.setAttribute('data-done', '1');
      setTicketButtons(prev.el, false);
      setTicketState(prev.el, TICKET_AFTER[t.event] || '该方案已处理');
    }
    if (t.id) ticketCards[t.id] = { rev: Number(t.rev) || 0, el: card };
    m.appendChild(card);
    return m;
  }
