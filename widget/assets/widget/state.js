  // ---------------------------------------------------------------- shopper identity

  // A shop-signed identity (docs/protocol.md, "Shopper identity"): from the script tag's
  // data-shopper-id, data-shopper-attrs, data-shopper-ts and data-signature, or from
  // Kefu.identify({id, attrs, ts, sig}). attrs is the JSON text exactly as signed.
  function normIdentity(v) {
    if (!v || typeof v !== 'object' || !v.id || !v.sig) return null;
    var attrs = v.attrs == null ? '' : (typeof v.attrs === 'string' ? v.attrs : JSON.stringify(v.attrs));
    return { id: String(v.id), attrs: attrs, ts: Number(v.ts) || 0, sig: String(v.sig) };
  }

  var identity = scriptEl ? normIdentity({
    id: scriptEl.getAttribute('data-shopper-id'),
    attrs: scriptEl.getAttribute('data-shopper-attrs'),
    ts: scriptEl.getAttribute('data-shopper-ts'),
    sig: scriptEl.getAttribute('data-signature')
  }) : null;

  function shopperKey() { return identity ? identity.id : ''; }

  // ---------------------------------------------------------------- storage

  function loadState() {
    try {
      var raw = window.localStorage.getItem(STORE_KEY);
      if (!raw) return null;
      var v = JSON.parse(raw);
      if (v && typeof v.conversation === 'string' && v.conversation &&
          typeof v.token === 'string' && v.token) {
        return {
          conversation: v.conversation,
          token: v.token,
          seq: typeof v.seq === 'number' ? v.seq : 0,
          epoch: v.epoch == null ? '' : String(v.epoch),
          shopper: typeof v.shopper === 'string' ? v.shopper : ''
        };
      }
    } catch (e) { /* storage blocked or corrupt */ }
    return null;
  }

  function clearState() {
    try { window.localStorage.removeItem(STORE_KEY); } catch (e) { /* ignore */ }
    try { window.sessionStorage.removeItem(READ_KEY); } catch (e) { /* ignore */ }
  }

  function loadReadSeq(conv, fallback) {
    try {
      var v = JSON.parse(window.sessionStorage.getItem(READ_KEY) || 'null');
      if (v && v.conversation === conv && typeof v.seq === 'number') return v.seq;
    } catch (e) { /* ignore */ }
    return fallback;
  }

  // ---------------------------------------------------------------- state

  var session = loadState();  // {conversation, token, seq, epoch, shopper} or null
  if (session && session.shopper !== shopperKey()) {
    // Another shopper (or none) is signed in now: their conversation is not this one's.
    clearState();
    session = null;
  }
  var connShopper = ''; // the shopper id the open socket identified as
  var shownConv = null;       // conversation whose frames the list shows
  var lastSeq = 0;            // last seq shown in this page
  var liveFrom = 0;           // welcome.seq: frames at or below it are history
  var readSeq = session ? loadReadSeq(session.conversation, session.seq) : 0;
  var unread = 0;

  var ws = null;
  var ready = false;          // welcome received on the current socket
  var wanted = false;         // we want to be connected
  var connLost = false;       // a connection attempt failed or dropped
  var attempt = 0;
  var reconnectTimer = 0;
  var handoffWanted = false;
  var handoffTimer = 0;

  var status = 'bot';         // bot | queued | active | resolved
  var agentName = '';
  var queueInfo = null;       // {position, eta_s}

  var panelOpen = false;
  var pending = new Map();    // id -> {id, text, article, state, seq, el}

  // ---------------------------------------------------------------- helpers

  function newId() {
    var bytes = new Uint8Array(12);
    var c = window.crypto || window.msCrypto;
    if (c && c.getRandomValues) {
      c.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    var s = 'm_';
    for (var j = 0; j < bytes.length; j++) s += (bytes[j] < 16 ? '0' : '') + bytes[j].toString(16);
    return s;
  }

  function charCount(s) {
    var n = 0;
    for (var ch of s) { n++; } // code points, not UTF-16 units
    return n;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function fmtTime(ts) {
    if (typeof ts !== 'number') return '';
    var d = new Date(ts);
    if (isNaN(d.getTime())) return '';
    var p = function (n) { return (n < 10 ? '0' : '') + n; };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
      p(d.getHours()) + ':' + p(d.getMinutes());
  }
