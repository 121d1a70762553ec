/* Kefu 客服台 — wiring the page's controls, and the start. It is the console's last
 * script: everything it names is defined by then. */
'use strict';

// ---------------------------------------------------------------------------
// Boot

function wire() {
  $('login-form').addEventListener('submit', login.submit);
  $('logout-btn').addEventListener('click', doLogout);
  $('users-btn').addEventListener('click', openUsers);
  wireModal('users', closeUsers);
  wireUsersTabs();
  $('user-form').addEventListener('submit', addUser);
  wirePhrasebook();
  wireReports();
  wireWebhooks();
  $('claim-btn').addEventListener('click', doClaim);
  $('resolve-btn').addEventListener('click', doResolve);
  $('propose-btn').addEventListener('click', openPropose);
  $('ticket-btn').addEventListener('click', openTickets);
  wireModal('ticket', closeTickets);
  $('ticket-form').addEventListener('submit', submitTicket);
  $('presence-btn').addEventListener('click', togglePresence);
  wirePeople();
  wireModal('propose', closePropose);
  $('propose-form').addEventListener('submit', submitPropose);
  $('composer').addEventListener('submit', doSend);
  initPhotos();
  $('reply-input').addEventListener('keydown', onReplyKey);
  $('reply-input').addEventListener('input', onComposerInput);
  $('reply-input').addEventListener('blur', () => setTimeout(() => {
    if (document.activeElement !== $('reply-input')) closeCanned();
  }, 0));
  $('mode-reply').addEventListener('click', () => setMode('reply'));
  $('mode-note').addEventListener('click', () => setMode('note'));
  $('guard-confirm').addEventListener('click', confirmGuard);
  $('guard-cancel').addEventListener('click', cancelGuard);
  $('guard-reason').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.isComposing) {
      ev.preventDefault();
      confirmGuard();
    }
  });
  $('transfer-btn').addEventListener('click', openTransfer);
  wireModal('transfer', closeTransfer);
  $('bot-btn').addEventListener('click', askBackToBot);
  $('confirm-ok').addEventListener('click', onConfirmOk);
  $('confirm-cancel').addEventListener('click', closeConfirm);
  wireModal('confirm', closeConfirm);
  $('sound-btn').addEventListener('click', toggleSound);
  loadSound();

  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    if (!$('confirm-panel').hidden) closeConfirm();
    else if (!$('ticket-panel').hidden) closeTickets();
    else if (!$('transfer-panel').hidden) closeTransfer();
    else if (S.guard && document.activeElement !== $('reply-input')) cancelGuard();
    else if (!$('users-panel').hidden) closeUsers();
    else if (!$('reports-panel').hidden) closeReports();
    else if (!$('phrasebook-panel').hidden) closePhrasebook();
    else if (!$('webhooks-panel').hidden) closeWebhooks();
    else if (S.cur && !$('app').hidden && document.activeElement !== $('reply-input')) closeConversation();
  });

  for (const t of ['pointerdown', 'keydown', 'touchstart']) {
    window.addEventListener(t, onGesture, { capture: true, passive: true });
  }
  window.addEventListener('focus', stopFlash);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && isAgent()) {
      if (document.hasFocus()) stopFlash();
      refreshQueue();
      if (S.cur) fetchNewMessages();
    }
  });
  window.addEventListener('online', () => {
    if (!isAgent()) return;
    if (!S.es) connectEvents();
    refreshAll();
  });
}

onReady(() => {
  wire();
  login.boot();
});
