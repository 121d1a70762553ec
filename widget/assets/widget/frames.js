  // ---------------------------------------------------------------- frames

  function onWelcome(f) {
    if (!f.conversation || !f.token) return;
    if ((shownConv && shownConv !== f.conversation) || f.reset) {
      clearList();
      lastSeq = 0;
      // History was rebuilt: resend acknowledged-but-unseen messages too. The server
      // dedups by id, so one it still has is only acknowledged again.
      pending.forEach(function (item) {
        if (item.state === 'sent') setItemState(item, 'pending');
      });
    }
    var isNew = !session || session.conversation !== f.conversation;
    if (isNew) {
      readSeq = 0;
      agentName = '';
    }
    shownConv = f.conversation;
    session = {
      conversation: String(f.conversation),
      token: String(f.token),
      seq: lastSeq,
      epoch: f.epoch == null ? '' : String(f.epoch),
      shopper: connShopper
    };
    saveState();
    ready = true;
    connLost = false;
    attempt = 0;
    liveFrom = typeof f.seq === 'number' ? f.seq : 0;
    queueInfo = null;
    if (f.hours) openingHours = String(f.hours);
    setStatus(f.status || 'bot', f.agent);
    if (isNew && f.greeting) {
      var g = msgShell('bot');
      g.setAttribute('data-greeting', '1');
      g.appendChild(mdBubble(f.greeting));
      insertRendered(g);
    }
    if (panelOpen) markRead();
    flushPending();
    if (handoffWanted) {
      handoffWanted = false;
      transmit({ type: 'handoff', id: newId() });
    }
    updateStatus();
  }

  function onAck(f) {
    if (settleRated(String(f.id), true)) return;
    if (fbSent[String(f.id)]) {
      delete fbSent[String(f.id)];
      return;
    }
    if (settleTicketAnswer(String(f.id), true)) return;
    if (settleLeave(String(f.id), true)) return;
    var item = pending.get(f.id);
    if (!item) return;
    item.seq = typeof f.seq === 'number' ? f.seq : null;
    if (item.seq != null) item.el.setAttribute('data-seq', String(item.seq));
    setItemState(item, 'sent');
    if (item.seq != null && item.seq <= lastSeq) {
      // The echo has already gone by (without a matching id): do not show it twice.
      var shown = list.querySelector('.msg:not(.tail)[data-seq="' + item.seq + '"]');
      if (shown) {
        pending.delete(item.id);
        item.el.parentNode.removeChild(item.el);
      } else {
        confirmItem(item, item.seq);
      }
    }
  }

  function onLogFrame(f) {
    var hasSeq = typeof f.seq === 'number';
    if (hasSeq && f.seq <= lastSeq) return; // already shown
    var history = hasSeq && f.seq <= liveFrom;

    if (f.type === 'message') {
      var item = f.from === 'shopper' && f.id ? pending.get(String(f.id)) : null;
      if (item) {
        confirmItem(item, f.seq);
      } else {
        if (f.from === 'agent' && f.agent && (!agentName || !history)) agentName = String(f.agent);
        insertRendered(buildMessage(f));
        if (f.from !== 'shopper' && hasSeq && f.seq > readSeq && !panelOpen) {
          unread++;
          updateBadge();
        }
      }
    } else if (f.type === 'handoff') {
      var group = f.group === 'aftersale' ? tr('g_aftersale') : f.group === 'presale' ? tr('g_presale') : '';
      var note = systemNote(tr('handed_off') + group, false, f.seq, f.ts);
      note.setAttribute('data-kind', 'handoff');
      insertRendered(note);
      clearHandoffTimer();
    } else if (f.type === 'ticket') {
      if (f.ticket && typeof f.ticket === 'object') {
        insertRendered(buildTicket(f));
        if (hasSeq && f.seq > readSeq && !panelOpen) {
          unread++;
          updateBadge();
        }
      }
    } else if (f.type === 'status') {
      if (history) {
        // welcome.status is the current status; history only tells who the agent is.
        if (f.status === 'active' && f.agent) agentName = String(f.agent);
      } else {
        setStatus(f.status, f.agent);
      }
      // An agent's resolve (its record names them) is rated; a left message is not.
      if (f.status === 'resolved' && f.agent) showRatingCard(f);
      else dropRatingCard();
    } else if (f.type === 'rating') {
      onRatingRecord(f);
    } else if (f.type === 'feedback') {
      onFeedbackRecord(f);
    }

    if (hasSeq) {
      lastSeq = f.seq;
      saveState();
      if (panelOpen) markRead();
    }
    updateStatus();
  }

  function onQueue(f) {
    if (status === 'active') return; // stale
    queueInfo = { position: Number(f.position) || 0, eta_s: typeof f.eta_s === 'number' ? f.eta_s : null };
    status = 'queued';
    updateStatus();
  }

  // errorText is the text of an error code the server sent without a message.
  function errorText(code) {
    return STRINGS.zh['e_' + code] ? tr('e_' + code) : tr('e_other');
  }

  function onError(f) {
    if (f.code === 'bad_token') {
      // The stored conversation is unknown or expired: forget it and start afresh.
      forgetConversation(tr('reset'));
      return; // the server closes the socket; onclose reconnects if wanted
    }
    if (f.code === 'bad_identity') connShopper = ''; // the server goes on anonymous
    if (f.id != null && settleLeave(String(f.id), false, String(f.code || ''), f.message ? String(f.message) : '')) return;
    if (f.id != null && (settleRated(String(f.id), false) || settleFeedback(String(f.id)))) {
      addNote(f.message ? String(f.message) : errorText(f.code), true);
      return;
    }
    if (f.id != null && settleTicketAnswer(String(f.id), false, String(f.code || ''))) {
      addNote(f.message ? String(f.message) : errorText(f.code), true);
      return;
    }
    addNote(f.message ? String(f.message) : errorText(f.code), true);
    var item = f.id != null ? pending.get(String(f.id)) : null;
    if (item) setItemState(item, 'failed');
    if (!item && handoffTimer) {
      clearHandoffTimer();
      updateStatus();
    }
  }

  // forgetConversation drops the stored conversation and what is shown of it, so the
  // next connection starts a new one; unsent messages are kept for it.
  function forgetConversation(note) {
    clearState();
    session = null;
    shownConv = null;
    lastSeq = 0;
    liveFrom = 0;
    readSeq = 0;
    unread = 0;
    agentName = '';
    queueInfo = null;
    endLeaveOffer();
    status = 'bot';
    ready = false;
    clearList();
    // Messages the old conversation had stored go with it; unsent ones are kept and
    // sent to the new conversation.
    pending.forEach(function (item) {
      if (item.state === 'sent') {
        pending.delete(item.id);
        if (item.el.parentNode) item.el.parentNode.removeChild(item.el);
      }
    });
    if (note) addNote(note, false);
    wanted = panelOpen || pending.size > 0 || handoffWanted;
    updateBadge();
    updateStatus();
  }

  function dispatch(f) {
    switch (f.type) {
      case 'welcome': onWelcome(f); break;
      case 'ack': onAck(f); break;
      case 'message':
      case 'handoff':
      case 'status':
      case 'rating':
      case 'feedback':
      case 'ticket': onLogFrame(f); break;
      case 'queue': onQueue(f); break;
      case 'leave_message': onLeaveOffer(f); break;
      case 'error': onError(f); break;
      default:
        // Unknown frame types are not shown; a log record among them still counts as
        // seen, so that a resume does not ask for it again.
        if (typeof f.seq === 'number' && f.seq > lastSeq) {
          lastSeq = f.seq;
          saveState();
        }
    }
  }
