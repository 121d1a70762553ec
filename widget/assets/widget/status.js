  // ---------------------------------------------------------------- status line, badge

  function statusLine() {
    if (unavailable) return ['offline', '在线客服暂不可用'];
    if (wanted && !ready) {
      return connLost ? ['offline', '连接中断，正在重连…'] : ['connecting', '正在连接…'];
    }
    switch (status) {
      case 'queued':
        if (queueInfo && queueInfo.position > 0) {
          var s = '排队中：第 ' + queueInfo.position + ' 位';
          var eta = queueInfo.eta_s;
          if (typeof eta === 'number' && eta >= 0) {
            s += '，预计等待' + (eta < 60 ? '不到 1 分钟' : ' ' + Math.ceil(eta / 60) + ' 分钟');
          }
          return ['queued', s];
        }
        return ['queued', '排队中，请稍候…'];
      case 'active':
        return ['active', agentName ? '客服 ' + agentName + ' 为您服务' : '人工客服为您服务'];
      case 'resolved':
        return ['resolved', '会话已结束'];
      default:
        return ['bot', '机器人客服'];
    }
  }

  function updateStatus() {
    var s = statusLine();
    statusEl.setAttribute('data-state', s[0]);
    if (statusEl.textContent !== s[1]) statusEl.textContent = s[1];
    var busy = status === 'queued' || status === 'active' || handoffTimer !== 0 || unavailable;
    handoffBtn.disabled = busy;
    handoffBtn.title = status === 'queued' ? '正在为您排队' : status === 'active' ? '人工客服正在为您服务' : '';
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
      launcher.setAttribute('aria-label', '在线客服（' + unread + ' 条未读）');
    } else {
      badge.hidden = true;
      launcher.setAttribute('aria-label', '在线客服');
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
