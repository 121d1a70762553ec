  // ---------------------------------------------------------------- leave a message

  // While queued, the server may offer to leave a message instead of waiting (after the
  // queue timeout, or when nobody is online); the message becomes a ticket and the chat
  // leaves the queue. 继续排队 keeps the shopper waiting; 我要留言 brings the form back.
  var leaveOffer = '';     // the reason of the offer, while queued
  var leavePending = null; // {id, text} sent and not yet answered
  var LEAVE_TITLES = {
    offline: '当前暂无客服在线。您可以留言，客服上线后会尽快联系您；也可以继续排队等待。',
    timeout: '当前排队人数较多。您可以留言，客服会尽快联系您；也可以继续排队等待。'
  };

  function showLeave() {
    leaveTitle.textContent = LEAVE_TITLES[leaveOffer] || LEAVE_TITLES.timeout;
    leaveForm.hidden = false;
    leaveOpenBtn.hidden = true;
    leaveErr.hidden = true;
    try { leaveText.focus(); } catch (e) { /* ignore */ }
  }

  function hideLeave() {
    leaveForm.hidden = true;
    leaveOpenBtn.hidden = !(leaveOffer && status === 'queued');
  }

  function onLeaveOffer(f) {
    if (status !== 'queued' || !f.reason) return;
    var first = !leaveOffer;
    var changed = leaveOffer !== String(f.reason);
    leaveOffer = String(f.reason);
    // Shown once per offer: after 继续排队 the same offer (resent on every reconnect)
    // only shows the 我要留言 button.
    if (first || changed) showLeave(); else hideLeave();
  }

  // endLeaveOffer: the chat is no longer waiting. Text typed in the form is kept in the
  // composer, so that nothing the shopper wrote is lost.
  function endLeaveOffer() {
    leaveOffer = '';
    if (!leaveForm.hidden && leaveText.value.trim() && !input.value.trim() && !leavePending) {
      input.value = leaveText.value;
      autosize();
      updateComposer();
    }
    leaveForm.hidden = true;
    leaveOpenBtn.hidden = true;
  }

  function submitLeave() {
    var text = leaveText.value.trim();
    if (!text) {
      leaveErr.textContent = '请填写留言内容';
      leaveErr.hidden = false;
      return;
    }
    if (charCount(text) > 500) {
      leaveErr.textContent = '留言最多 500 个字';
      leaveErr.hidden = false;
      return;
    }
    var id = newId();
    leaveErr.hidden = true;
    if (!transmit({ type: 'leave_message', id: id, text: text, contact: leaveContact.value.trim(), order: leaveOrder.value.trim() })) {
      leaveErr.textContent = '网络未连接，请稍后再提交';
      leaveErr.hidden = false;
      connect();
      return;
    }
    leavePending = { id: id, text: text };
    leaveSend.disabled = true;
    leaveSend.textContent = '提交中…';
  }

  // settleLeave ends the wait for the form's answer: ok, refused (code, message) or lost.
  function settleLeave(id, ok, code, message) {
    if (!leavePending || leavePending.id !== id) return false;
    var sent = leavePending;
    leavePending = null;
    leaveSend.disabled = false;
    leaveSend.textContent = '提交留言';
    if (ok) {
      leaveText.value = leaveContact.value = leaveOrder.value = '';
      leaveOffer = '';
      hideLeave();
      return true;
    }
    if (code === 'not_queued') {
      // Not waiting any more: the text goes back to the composer to be sent as a message.
      if (!input.value.trim()) {
        input.value = sent.text;
        autosize();
        updateComposer();
      }
      leaveText.value = '';
      endLeaveOffer();
      addNote(message || '会话已不在排队中，留言未提交，请直接发送消息', true);
      return true;
    }
    leaveErr.textContent = message || (code ? '提交失败，请稍后重试' : '连接中断，请重新提交');
    leaveErr.hidden = false;
    return true;
  }
