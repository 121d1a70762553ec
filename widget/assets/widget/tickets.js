  // ---------------------------------------------------------------- ticket cards

  // An agent's proposed remedy for an after-sales ticket comes as a ticket record; the
  // shopper accepts or declines it (docs/protocol.md). Later records of the same
  // ticket say what became of it: the earlier cards lose their buttons.
  // Ticket types and the events that end a proposal have their strings under tk_<name>.
  var TICKET_TYPES = ['return', 'exchange', 'refund', 'repair', 'resend', 'compensation', 'invoice', 'message'];
  var TICKET_AFTER = ['proposed', 'confirmed', 'declined', 'withdrawn', 'cancelled'];
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
    setTicketState(card, tr('tk_sending'));
    if (!transmit({ type: confirm ? 'ticket_confirm' : 'ticket_decline', id: id,
      ticket: card.getAttribute('data-ticket'), rev: Number(card.getAttribute('data-rev')) })) {
      setTicketButtons(card, true);
      setTicketState(card, tr('tk_offline'));
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
      setTicketState(card, tr('tk_changed'));
      return true;
    }
    setTicketButtons(card, true);
    setTicketState(card, code ? tr('tk_failed') : tr('tk_broken'));
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
    var typ = TICKET_TYPES.indexOf(t.type) >= 0 ? tr('tk_' + t.type) : '';
    card.appendChild(el('div', 'thead', tr(t.type === 'message' ? 'tk_message' : 'tk_ticket') + ' ' + (t.id || '') + (typ && t.type !== 'message' ? ' · ' + typ : '')));
    var st = el('div', 'tstate');
    st.setAttribute('data-testid', 'kefu-ticket-state');
    if (t.event === 'proposed') {
      var r = t.remedy || {};
      card.appendChild(el('div', 'tbody', tr('tk_remedy', { text: r.text || '' })));
      if (r.amount_fen > 0) card.appendChild(el('div', 'tamount', fmtFen(r.amount_fen)));
      st.textContent = tr('tk_ask');
      card.appendChild(st);
      var acts = el('div', 'tacts');
      var yes = el('button', 'tyes', tr('tk_yes'));
      yes.type = 'button';
      yes.setAttribute('data-testid', 'kefu-ticket-confirm');
      var no = el('button', 'tno', tr('tk_no'));
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
      setTicketState(prev.el, TICKET_AFTER.indexOf(t.event) >= 0 ? tr('tk_' + t.event) : tr('tk_done'));
    }
    if (t.id) ticketCards[t.id] = { rev: Number(t.rev) || 0, el: card };
    m.appendChild(card);
    return m;
  }
