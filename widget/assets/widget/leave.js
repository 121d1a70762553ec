  // ---------------------------------------------------------------- leave a message

  // While queued, the server may offer to leave a message instead of waiting (after the
  // queue timeout, or when nobody is online); the message becomes a ticket and the chat
  // leaves the queue. Keep waiting keeps the shopper waiting; Leave a message brings the form back.
  var leaveOffer = '';     // the reason of the offer, while queued
  var leavePending = null; // {id, text} sent and not yet answered
  var leaveOfferText = ''; // the server's text of the offer, in the widget's language
  var openingHours = '';   // welcome.hours: when agents are online

  function showLeave() {
    leaveTitle.textContent = leaveOfferText || tr(leaveOffer === 'offline' ? 'leave_offline' : 'leave_timeout');
    leaveHours.textContent = openingHours ? tr('leave_hours', { hours: openingHours }) : '';
    leaveHours.hidden = !openingHours || leaveOfferText.indexOf(openingHours) >= 0;
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
    leaveOfferText = f.text ? String(f.text) : '';
    // Shown once per offer: after Keep waiting the same offer (resent on every reconnect)
    // only shows the Leave a message button.
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
      leaveErr.textContent = tr('leave_empty');
      leaveErr.hidden = false;
      return;
    }
    if (charCount(text) > 500) {
      leaveErr.textContent = tr('leave_long');
      leaveErr.hidden = false;
      return;
    }
    var id = newId();
    leaveErr.hidden = true;
    if (!transmit({ type: 'leave_message', id: id, text: text, contact: leaveContact.value.trim(), order: leaveOrder.value.trim() })) {
      leaveErr.textContent = tr('offline_submit');
      leaveErr.hidden = false;
      connect();
      return;
    }
    leavePending = { id: id, text: text };
    leaveSend.disabled = true;
    leaveSend.textContent = tr('leave_sending');
  }

  // settleLeave ends the wait for the form's answer: ok, refused (code, message) or lost.
  function settleLeave(id, ok, code, message) {
    if (!leavePending || leavePending.id !== id) return false;
    var sent = leavePending;
    leavePending = null;
    leaveSend.disabled = false;
    leaveSend.textContent = tr('leave_send');
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
      addNote(message || tr('leave_not_queued'), true);
      return true;
    }
    leaveErr.textContent = message || (code ? tr('leave_failed') : tr('leave_broken'));
    leaveErr.hidden = false;
    return true;
  }
