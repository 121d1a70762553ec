  // ---------------------------------------------------------------- connection

  function buildUrl() {
    // hello=1: the first frame is a hello carrying the signed identity and the
    // conversation's token, never the URL, which servers and proxies log.
    // lang: the language the server writes its system messages in.
    var q = (identity || session ? 'hello=1&' : '') + 'lang=' + LANG;
    if (!session) return WS_URL + '?' + q;
    q += '&after=' + lastSeq;
    if (session.epoch) q += '&epoch=' + encodeURIComponent(session.epoch);
    return WS_URL + '?' + q;
  }

  // helloFrame is the first frame of a connection opened with hello=1: the identity,
  // and the conversation to resume with its token.
  function helloFrame(id, resume) {
    var f = { type: 'hello' };
    if (id) f.identity = id;
    if (resume) {
      f.conversation = resume.conversation;
      f.token = resume.token;
    }
    return f;
  }

  function connect() {
    if (unavailable) return;
    wanted = true;
    if (ws) return;
    if (reconnectTimer) {
      clearTimeout(reconnectTimer);
      reconnectTimer = 0;
    }
    if (typeof WebSocket !== 'function') return;
    var sock;
    try {
      sock = new WebSocket(buildUrl());
    } catch (e) {
      connLost = true;
      scheduleReconnect();
      updateStatus();
      return;
    }
    ws = sock;
    ready = false;
    var hello = identity;
    var resume = session;
    var opened = false;
    connShopper = hello ? hello.id : '';
    sock.onopen = function () {
      opened = true;
      if (ws !== sock || !hello && !resume) return;
      sock.send(JSON.stringify(helloFrame(hello, resume)));
    };
    sock.onmessage = function (ev) {
      if (ws !== sock) return;
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f && typeof f === 'object' && !Array.isArray(f)) dispatch(f);
    };
    sock.onclose = function () {
      if (ws !== sock) return;
      ws = null;
      ready = false;
      // An answer without its ack may or may not be stored: the shopper answers again,
      // and the server acknowledges an answer it has already.
      Array.from(ticketAnswers.keys()).forEach(function (id) { settleTicketAnswer(id, false, null); });
      if (leavePending) settleLeave(leavePending.id, false, null);
      if (wanted) {
        if (session) connLost = true; // after bad_token we just start a new conversation
        scheduleReconnect();
      }
      if (!opened) checkOrigin();
      updateStatus();
    };
    sock.onerror = function () { /* onclose follows */ };
    updateStatus();
  }

  // A browser hides why a websocket was refused. After the first connection that never
  // opened, the widget asks once whether this page may use it at all; a page the
  // server does not allow (KEFU_ALLOWED_ORIGINS) shows that the chat is unavailable and
  // stops trying, instead of connecting forever.
  var originChecked = false;
  var unavailable = false;

  function checkOrigin() {
    if (originChecked || typeof fetch !== 'function') return;
    originChecked = true;
    fetch(ORIGIN + '/api/widget/origin', { mode: 'cors', credentials: 'omit', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j || j.allowed !== false) return;
        unavailable = true;
        wanted = false;
        if (reconnectTimer) {
          clearTimeout(reconnectTimer);
          reconnectTimer = 0;
        }
        input.disabled = true;
        sendBtn.disabled = true;
        handoffBtn.disabled = true;
        addNote(tr('not_enabled'), true);
        updateStatus();
      })
      .catch(function () { /* unreachable server: keep reconnecting */ });
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    var delay = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempt));
    delay = Math.min(BACKOFF_MAX, delay * (0.75 + Math.random() * 0.5)); // jitter
    attempt++;
    reconnectTimer = setTimeout(function () {
      reconnectTimer = 0;
      if (wanted) connect();
    }, delay);
  }

  function reconnectNow() {
    if (!wanted || ws || unavailable) return;
    attempt = 0;
    connect();
  }

  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') reconnectNow();
  });
