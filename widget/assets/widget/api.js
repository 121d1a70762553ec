  // ---------------------------------------------------------------- public API

  window.Kefu = {
    __kefu: true,
    open: open,
    close: close,
    send: function (text) { return send(text); },
    // identify sets the signed shopper identity ({id, attrs, ts, sig}, or null to go
    // back to an anonymous visitor). Another shopper than the conversation's starts a
    // new conversation.
    identify: function (v) {
      var next = normIdentity(v);
      var changed = (next ? next.id : '') !== shopperKey();
      identity = next;
      if (!changed) return;
      if (session) forgetConversation('');
      if (ws) {
        var old = ws;
        ws = null;
        ready = false;
        try { old.close(); } catch (e) { /* ignore */ }
        if (wanted) connect();
      }
    },
    state: function () {
      var p = [];
      pending.forEach(function (item) { p.push({ id: item.id, text: item.text, state: item.state }); });
      return {
        server: ORIGIN,
        lang: LANG,
        open: panelOpen,
        connected: ready,
        unavailable: unavailable,
        status: status,
        agent: agentName || null,
        queue: queueInfo ? { position: queueInfo.position, eta_s: queueInfo.eta_s } : null,
        conversation: session ? session.conversation : null,
        epoch: session ? session.epoch : null,
        seq: lastSeq,
        unread: unread,
        leave: { offer: leaveOffer || null, open: !leaveForm.hidden },
        pending: p
      };
    }
  };

  // ---------------------------------------------------------------- start

  function start() {
    mount();
    updateStatus();
    updateBadge();
    // A stored conversation connects at once so agent replies arrive while the panel is
    // closed; otherwise we wait until the shopper opens the panel or sends something.
    if (session) connect();
  }

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
