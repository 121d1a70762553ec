  // ---------------------------------------------------------------- status line, badge

  function statusLine() {
    if (unavailable) return ['offline', tr('st_unavailable')];
    if (wanted && !ready) {
      return connLost ? ['offline', tr('st_lost')] : ['connecting', tr('st_connecting')];
    }
    switch (status) {
      case 'queued':
        if (queueInfo && queueInfo.position > 0) {
          var s = tr('st_position', { n: queueInfo.position });
          var eta = queueInfo.eta_s;
          if (typeof eta === 'number' && eta >= 0) {
            s += eta < 60 ? tr('st_eta_soon') : tr('st_eta', { n: Math.ceil(eta / 60) });
          }
          return ['queued', s];
        }
        return ['queued', tr('st_queued')];
      case 'active':
        return ['active', agentName ? tr('st_agent', { name: agentName }) : tr('st_active')];
      case 'resolved':
        return ['resolved', tr('st_resolved')];
      default:
        return ['bot', tr('st_bot')];
    }
  }

  function updateStatus() {
    var s = statusLine();
    statusEl.setAttribute('data-state', s[0]);
    if (statusEl.textContent !== s[1]) statusEl.textContent = s[1];
    var busy = status === 'queued' || status === 'active' || handoffTimer !== 0 || unavailable;
    handoffBtn.disabled = busy;
    handoffBtn.title = status === 'queued' ? tr('ho_queued') : status === 'active' ? tr('ho_active') : '';
  }

  function setStatus(s, agent) {
    if (s !== 'bot' && s !== 'queued' && s !== 'active' && s !== 'resolved') return;
    if (s !== 'queued' && status === 'queued') endLeaveOffer();
    status = s;
    if (agent) agentName = String(agent);
    if (s !== 'queued') queueInfo = null;
    if (s !== 'bot' && s !== 'resolved') clearHandoffTimer();
    updateStatus();
  }

  function updateBadge() {
    if (unread > 0 && !panelOpen) {
      badge.textContent = unread > 99 ? '99+' : String(unread);
      badge.hidden = false;
      launcher.setAttribute('aria-label', tr('unread', { n: unread }));
    } else {
      badge.hidden = true;
      launcher.setAttribute('aria-label', tr('title'));
    }
  }

  function markRead() {
    unread = 0;
    readSeq = Math.max(readSeq, lastSeq);
    if (session) {
      try {
        window.sessionStorage.setItem(READ_KEY, JSON.stringify({ conversation: session.conversation, seq: readSeq }));
      } catch (e) { /* ignore */ }
    }
    updateBadge();
  }

  function saveState() {
    if (!session) return;
    session.seq = lastSeq;
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify({
        conversation: session.conversation,
        token: session.token,
        seq: session.seq,
        epoch: session.epoch,
        shopper: session.shopper || ''
      }));
    } catch (e) { /* storage blocked: keep going in memory */ }
  }
