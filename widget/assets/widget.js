/*
 * Kefu shopper chat widget.
 *
 * A shop embeds it with one tag:
 *   <script src="https://kefu.example.com/widget.js" async></script>
 *
 * It finds its server from its own script URL and talks to ws(s)://<host>/ws/shopper
 * using the contract in docs/protocol.md. No cookies; the conversation state lives in
 * the shop page's localStorage under a key that includes the Kefu server origin.
 * The UI lives in a Shadow DOM so the shop's CSS cannot break it.
 *
 * Server text is only ever rendered with textContent: bot and agent Markdown is built
 * from DOM nodes (renderMarkdown), never parsed as HTML.
 */
(function () {
  'use strict';

  if (window.Kefu && window.Kefu.__kefu) return; // included twice

  var MAX_LEN = 1000;
  var BACKOFF_MIN = 500;
  var BACKOFF_MAX = 10000;

  // ---------------------------------------------------------------- server origin

  function findScript() {
    var cur = document.currentScript;
    if (cur && cur.src) return cur;
    var list = document.getElementsByTagName('script');
    for (var i = list.length - 1; i >= 0; i--) {
      var src = (list[i].src || '').split('#')[0].split('?')[0];
      if (/\/widget\.js$/.test(src)) return list[i];
    }
    return null;
  }

  var scriptEl = findScript();
  var base;
  try {
    base = new URL(scriptEl ? scriptEl.src : location.href, location.href);
  } catch (e) {
    base = new URL(location.href);
  }
  var ORIGIN = base.origin;
  var WS_URL = (base.protocol === 'https:' ? 'wss://' : 'ws://') + base.host + '/ws/shopper';
  var STORE_KEY = 'kefu:' + ORIGIN;
  var READ_KEY = 'kefu-read:' + ORIGIN; // sessionStorage: last seq the shopper has seen

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

  // ---------------------------------------------------------------- Markdown subset

  // Bot and agent text is Markdown (knowledge answers are written in it). A small subset
  // is built from DOM nodes and textContent, so server text is never parsed as HTML:
  // paragraphs, line breaks, # headings as bold lines, - and 1. lists, **bold**, *italic*,
  // `code`, \-escapes and links to http(s) URLs only. Anything else stays plain text.
  var INLINE = [
    '\\\\([!-/:-@[-`{-~])',                             // 1: escaped punctuation
    '`([^`]+)`',                                        // 2: code
    '\\[([^\\]]+)\\]\\(([^()\\s]+)\\)',                 // 3 text, 4 URL: link
    '(https?://[^\\s<>()\\[\\]{}"\'`，。！？；：、（）【】《》「」]+)', // 5: bare URL
    '\\*\\*(?=\\S)(.*?\\S)\\*\\*(?!\\*)',               // 6: strong
    '__(?=\\S)(.*?\\S)__(?!_)',                         // 7: strong
    '\\*([^\\s*](?:[^*]*[^\\s*])?)\\*',                 // 8: em
    '_([^\\s_](?:[^_]*[^\\s_])?)_'                      // 9: em
  ].join('|');
  var WORD = /[A-Za-z0-9_*]/; // * and _ between these are text: snake_case, 2*3*4

  function safeUrl(s) {
    var u;
    try { u = new URL(s); } catch (e) { return ''; } // relative URLs too
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '';
  }

  function link(href) {
    var a = el('a');
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    return a;
  }

  function inline(parent, text, inLink) {
    var re = new RegExp(INLINE, 'g'), done = 0, m;
    var put = function (s) { if (s) parent.appendChild(document.createTextNode(s)); };
    while ((m = re.exec(text))) {
      var node = null, end = re.lastIndex, url;
      var flanked = !WORD.test(text.charAt(m.index - 1)) && !WORD.test(text.charAt(end));
      if (m[1]) {
        node = document.createTextNode(m[1]);
      } else if (m[2]) {
        node = el('code', null, m[2]);
      } else if (m[3] && !inLink && (url = safeUrl(m[4]))) {
        node = link(url);
        inline(node, m[3], true);
      } else if (m[5] && !inLink) {
        var raw = m[5].replace(/[.,;:!?'"]+$/, ''); // trailing punctuation is text
        if ((url = safeUrl(raw))) {
          node = link(url);
          node.textContent = raw;
          end = m.index + raw.length;
        }
      } else if ((m[6] || m[7]) && flanked) {
        node = el('strong');
        inline(node, m[6] || m[7], inLink);
      } else if ((m[8] || m[9]) && flanked) {
        node = el('em');
        inline(node, m[8] || m[9], inLink);
      }
      if (!node) { // not markup here: read on from the next character
        re.lastIndex = m.index + 1;
        continue;
      }
      put(text.slice(done, m.index));
      parent.appendChild(node);
      done = re.lastIndex = end;
    }
    put(text.slice(done));
  }

  function renderMarkdown(box, src) {
    var block = null, lst = null, m;
    String(src).replace(/\r\n?/g, '\n').split('\n').forEach(function (line) {
      line = line.trim();
      if (!line) { // a blank line ends the paragraph or list
        block = lst = null;
      } else if ((m = /^#{1,6}\s+(.*?)(?:\s+#+)?$/.exec(line))) {
        block = lst = null;
        inline(box.appendChild(el('p')).appendChild(el('strong')), m[1]);
      } else if ((m = /^([-*+]|(\d{1,9})[.)])\s+(.*)$/.exec(line))) {
        var tag = m[2] ? 'ol' : 'ul';
        if (!lst || lst.tagName.toLowerCase() !== tag) {
          lst = box.appendChild(el(tag));
          if (m[2] && +m[2] !== 1) lst.start = +m[2];
        }
        block = lst.appendChild(el('li'));
        inline(block, m[3]);
      } else { // a new paragraph, or one more line of this paragraph or list item
        if (block) block.appendChild(el('br'));
        else block = box.appendChild(el('p'));
        inline(block, line);
      }
    });
    return box;
  }

  function mdBubble(text) {
    return renderMarkdown(el('div', 'bubble md'), text);
  }

  // ---------------------------------------------------------------- UI

  var CSS = [
    ':host{all:initial;}',
    '*,*::before,*::after{box-sizing:border-box;}',
    '[hidden]{display:none!important;}',
    '.root{--kf:#ff5a1f;--kf-dark:#e8430a;--kf-soft:#fff2ec;',
    'font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","Helvetica Neue",Arial,sans-serif;',
    'font-size:14px;line-height:1.5;color:#1f2329;-webkit-font-smoothing:antialiased;}',
    'button{font:inherit;}',

    '.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;',
    'background:var(--kf);color:#fff;cursor:pointer;display:flex;flex-direction:column;align-items:center;justify-content:center;',
    'gap:1px;font-size:12px;line-height:1;box-shadow:0 6px 20px rgba(255,90,31,.35),0 2px 6px rgba(0,0,0,.12);',
    'transition:transform .18s ease,box-shadow .18s ease,background .18s ease;-webkit-tap-highlight-color:transparent;}',
    '.launcher:hover{transform:translateY(-2px);background:var(--kf-dark);}',
    '.launcher:focus-visible{outline:3px solid rgba(255,90,31,.45);outline-offset:3px;}',
    '.launcher svg{width:24px;height:24px;display:block;}',
    '.launcher .x{display:none;}',
    '.root.open .launcher .chat,.root.open .launcher .lbl{display:none;}',
    '.root.open .launcher .x{display:block;}',
    '.badge{position:absolute;top:-3px;right:-3px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#f5222d;',
    'color:#fff;font-size:12px;font-weight:600;line-height:16px;text-align:center;border:2px solid #fff;}',

    '.panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:360px;height:520px;max-height:calc(100vh - 112px);',
    'max-width:calc(100vw - 24px);background:#fff;border-radius:14px;overflow:hidden;display:flex;flex-direction:column;',
    'box-shadow:0 16px 48px rgba(0,0,0,.18),0 2px 8px rgba(0,0,0,.08);animation:kf-in .2s ease-out;}',
    '@keyframes kf-in{from{opacity:0;transform:translateY(12px) scale(.98);}to{opacity:1;transform:none;}}',

    '.head{display:flex;align-items:center;gap:10px;padding:12px 12px 12px 16px;color:#fff;',
    'background:linear-gradient(135deg,var(--kf),#ff8a3d);flex:none;}',
    '.avatar{width:36px;height:36px;border-radius:50%;background:rgba(255,255,255,.22);display:flex;align-items:center;justify-content:center;flex:none;}',
    '.avatar svg{width:20px;height:20px;}',
    '.titles{flex:1;min-width:0;}',
    '.title{font-size:16px;font-weight:600;line-height:1.3;}',
    '.status{font-size:12px;opacity:.92;line-height:1.4;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;display:flex;align-items:center;gap:6px;}',
    '.status::before{content:"";width:7px;height:7px;border-radius:50%;background:#52c41a;flex:none;box-shadow:0 0 0 2px rgba(255,255,255,.35);}',
    '.status[data-state="queued"]::before{background:#fadb14;}',
    '.status[data-state="resolved"]::before,.status[data-state="offline"]::before,.status[data-state="connecting"]::before{background:#d9d9d9;}',
    '.close{width:32px;height:32px;border:0;border-radius:8px;background:transparent;color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;flex:none;}',
    '.close:hover{background:rgba(255,255,255,.18);}',
    '.close svg{width:18px;height:18px;}',

    '.msgs{flex:1;overflow-y:auto;overscroll-behavior:contain;padding:14px 12px;background:#f5f6f8;display:flex;flex-direction:column;gap:10px;}',
    '.msg{display:flex;flex-direction:column;align-items:flex-start;max-width:100%;animation:kf-msg .18s ease-out;}',
    '@keyframes kf-msg{from{opacity:0;transform:translateY(4px);}to{opacity:1;transform:none;}}',
    '.who{font-size:12px;color:#8a9099;margin:0 0 3px 4px;}',
    '.bubble{max-width:84%;padding:9px 12px;border-radius:4px 14px 14px 14px;background:#fff;color:#1f2329;',
    'white-space:pre-wrap;word-break:break-word;overflow-wrap:anywhere;box-shadow:0 1px 2px rgba(0,0,0,.05);}',
    '.msg.shopper{align-items:flex-end;}',
    '.msg.shopper .bubble{background:var(--kf);color:#fff;border-radius:14px 4px 14px 14px;}',
    '.msg.shopper[data-state="pending"] .bubble{background:#c5c9d0;color:#fff;}',
    '.msg.shopper[data-state="failed"] .bubble{background:#c5c9d0;color:#fff;cursor:pointer;}',
    '.meta{font-size:12px;color:#a0a6ae;margin:3px 4px 0;}',
    '.msg[data-state="failed"] .meta{color:#f5222d;cursor:pointer;}',
    '.src{font-size:12px;color:#8a9099;margin:4px 4px 0;}',
    '.sugs{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px;max-width:90%;}',
    '.sug{border:1px solid var(--kf);background:#fff;color:var(--kf);border-radius:16px;padding:5px 12px;font-size:13px;line-height:1.4;',
    'cursor:pointer;text-align:left;transition:background .15s ease;}',
    '.sug:hover:not(:disabled){background:var(--kf-soft);}',
    '.sug:disabled{border-color:#d9d9d9;color:#a0a6ae;cursor:default;}',
    '.sug.chosen{border-color:var(--kf);background:var(--kf-soft);color:var(--kf);}',
    '.md>*{margin:0;}',
    '.md>*+*{margin-top:6px;}',
    '.md ul,.md ol{padding-left:20px;}',
    '.md li+li{margin-top:2px;}',
    '.md code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;background:rgba(0,0,0,.06);border-radius:4px;padding:1px 4px;}',
    '.md a{color:var(--kf-dark);text-decoration:underline;}',
    '.msg.system{align-items:center;}',
    '.sys{font-size:12px;color:#8a9099;background:rgba(0,0,0,.04);border-radius:10px;padding:3px 10px;max-width:90%;',
    'text-align:center;white-space:pre-wrap;word-break:break-word;}',
    '.msg.system.error .sys{color:#cf1322;background:#fff1f0;}',
    '.msg.ticket{align-items:stretch;}',
    '.tcard{background:#fff;border:1px solid #ffd8c7;border-radius:12px;padding:10px 12px;box-shadow:0 1px 2px rgba(0,0,0,.05);}',
    '.tcard .thead{font-size:12px;color:#8a9099;margin-bottom:4px;}',
    '.tcard .tbody{white-space:pre-wrap;word-break:break-word;}',
    '.tcard .tamount{font-size:18px;font-weight:600;color:var(--kf-dark);margin-top:2px;}',
    '.tcard .tstate{font-size:12px;color:#8a9099;margin-top:6px;}',
    '.tcard .tacts{display:flex;gap:8px;margin-top:8px;}',
    '.tcard .tacts button{flex:1;height:32px;border-radius:8px;border:1px solid var(--kf);cursor:pointer;font-size:13px;}',
    '.tcard .tyes{background:var(--kf);color:#fff;}',
    '.tcard .tno{background:#fff;color:var(--kf);}',
    '.tcard .tacts button:disabled{opacity:.5;cursor:default;}',
    '.tcard[data-event="proposed"]{border-color:var(--kf);}',

    '.leave{flex:none;background:#fff;border-top:1px solid #eef0f3;padding:10px 12px 4px;display:flex;flex-direction:column;gap:6px;margin:0;}',
    '.leave-title{font-size:13px;color:#4e5969;}',
    '.leave textarea,.leave input{font:inherit;font-size:13px;border:1px solid #e3e5e8;border-radius:8px;padding:6px 8px;outline:none;background:#fafbfc;color:#1f2329;width:100%;}',
    '.leave textarea{resize:none;height:60px;}',
    '.leave textarea:focus,.leave input:focus{border-color:var(--kf);background:#fff;}',
    '.leave-row{display:flex;gap:6px;}',
    '.leave-err{font-size:12px;color:#f5222d;}',
    '.leave-acts{display:flex;justify-content:flex-end;gap:8px;}',
    '.leave-acts button{height:30px;border-radius:8px;padding:0 14px;font-size:13px;cursor:pointer;border:1px solid var(--kf);}',
    '.leave-send{background:var(--kf);color:#fff;}',
    '.leave-wait{background:#fff;color:var(--kf);}',
    '.leave-acts button:disabled{opacity:.5;cursor:default;}',
    '.leavebtn{border:0;background:transparent;color:var(--kf);font-size:12px;cursor:pointer;padding:3px 4px;}',
    '.bar{display:flex;align-items:center;justify-content:space-between;padding:8px 12px 0;background:#fff;flex:none;border-top:1px solid #eef0f3;}',
    '.handoff{border:1px solid #e3e5e8;background:#fff;color:#4e5969;border-radius:14px;padding:3px 12px;font-size:12px;cursor:pointer;}',
    '.handoff:hover:not(:disabled){border-color:var(--kf);color:var(--kf);}',
    '.handoff:disabled{color:#c0c4cc;cursor:default;}',
    '.count{font-size:12px;color:#a0a6ae;}',
    '.count.full{color:#f5222d;}',
    '.composer{display:flex;align-items:flex-end;gap:8px;padding:8px 12px 12px;background:#fff;flex:none;margin:0;}',
    '.input{flex:1;resize:none;border:1px solid #e3e5e8;border-radius:10px;padding:8px 10px;font:inherit;font-size:14px;line-height:1.5;',
    'color:#1f2329;background:#fafbfc;min-height:38px;max-height:120px;outline:none;transition:border-color .15s ease;}',
    '.input:focus{border-color:var(--kf);background:#fff;}',
    '.send{flex:none;height:38px;padding:0 16px;border:0;border-radius:10px;background:var(--kf);color:#fff;cursor:pointer;font-size:14px;}',
    '.send:hover{background:var(--kf-dark);}',
    '.send.empty{opacity:.55;}',

    '@media (max-width:480px){',
    '.panel{top:0;right:0;bottom:0;left:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0;}',
    '.root.open .launcher{display:none;}',
    '.input{font-size:16px;}', // no zoom-on-focus on iOS
    '}',
    '@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important;}}'
  ].join('\n');

  var ICON_CHAT = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 11.5a8.4 8.4 0 0 1-9 8.4 9.6 9.6 0 0 1-3.9-.8L3 20.5l1.4-4.2A8 8 0 0 1 3 11.5 8.6 8.6 0 0 1 12 3a8.6 8.6 0 0 1 9 8.5z"/><path d="M8 11.5h.01M12 11.5h.01M16 11.5h.01"/></svg>';
  var ICON_X = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';
  var ICON_AGENT = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M4 14v-2a8 8 0 0 1 16 0v2"/><rect x="3" y="13" width="4" height="6" rx="1.5"/><rect x="17" y="13" width="4" height="6" rx="1.5"/><path d="M19 19a4 4 0 0 1-4 3h-2"/></svg>';

  // Static markup only: no server text ever goes through innerHTML.
  var TEMPLATE =
    '<div class="root">' +
      '<section class="panel" data-testid="kefu-panel" role="dialog" aria-label="在线客服" hidden>' +
        '<div class="head">' +
          '<div class="avatar">' + ICON_AGENT + '</div>' +
          '<div class="titles"><div class="title">在线客服</div>' +
          '<div class="status" data-testid="kefu-status" data-state="bot" aria-live="polite">机器人客服</div></div>' +
          '<button class="close" type="button" aria-label="关闭">' + ICON_X + '</button>' +
        '</div>' +
        '<div class="msgs" data-testid="kefu-messages" role="log" aria-live="polite" aria-relevant="additions"></div>' +
        '<form class="leave" data-testid="kefu-leave" novalidate hidden>' +
          '<div class="leave-title" data-testid="kefu-leave-title"></div>' +
          '<textarea class="leave-text" data-testid="kefu-leave-text" maxlength="500" placeholder="请描述您的问题（必填，最多 500 字）" aria-label="留言内容"></textarea>' +
          '<div class="leave-row">' +
            '<input class="leave-contact" data-testid="kefu-leave-contact" maxlength="64" placeholder="联系方式（选填）" aria-label="联系方式">' +
            '<input class="leave-order" data-testid="kefu-leave-order" maxlength="64" placeholder="订单号（选填）" aria-label="订单号">' +
          '</div>' +
          '<div class="leave-err" data-testid="kefu-leave-error" role="alert" hidden></div>' +
          '<div class="leave-acts">' +
            '<button class="leave-wait" data-testid="kefu-leave-wait" type="button">继续排队</button>' +
            '<button class="leave-send" data-testid="kefu-leave-send" type="submit">提交留言</button>' +
          '</div>' +
        '</form>' +
        '<div class="bar">' +
          '<span><button class="handoff" data-testid="kefu-handoff" type="button">转人工</button>' +
          '<button class="leavebtn" data-testid="kefu-leave-open" type="button" hidden>我要留言</button></span>' +
          '<span class="count" hidden></span>' +
        '</div>' +
        '<form class="composer" novalidate>' +
          '<textarea class="input" data-testid="kefu-input" rows="1" maxlength="1000" placeholder="请输入您的问题，Enter 发送" aria-label="输入消息"></textarea>' +
          '<button class="send empty" data-testid="kefu-send" type="submit">发送</button>' +
        '</form>' +
      '</section>' +
      '<button class="launcher" data-testid="kefu-launcher" type="button" aria-label="在线客服" aria-expanded="false">' +
        '<span class="chat">' + ICON_CHAT + '</span><span class="lbl">客服</span>' +
        '<span class="x">' + ICON_X + '</span>' +
        '<span class="badge" hidden></span>' +
      '</button>' +
    '</div>';

  var host = document.createElement('kefu-widget');
  host.setAttribute('style', 'all:initial;');
  var shadow = host.attachShadow({ mode: 'open' });
  var sheetDone = false;
  try {
    if ('adoptedStyleSheets' in shadow && typeof CSSStyleSheet === 'function') {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
      sheetDone = true;
    }
  } catch (e) { /* fall back to a <style> element */ }
  if (!sheetDone) {
    var styleEl = document.createElement('style');
    styleEl.textContent = CSS;
    shadow.appendChild(styleEl);
  }
  var wrap = document.createElement('div');
  wrap.innerHTML = TEMPLATE;
  var rootEl = wrap.firstChild;
  shadow.appendChild(rootEl);

  // For tests: a page whose script tag has data-test can call the Markdown renderer.
  if (scriptEl && scriptEl.hasAttribute('data-test')) window.__kefuRenderMarkdown = mdBubble;

  var $ = function (sel) { return rootEl.querySelector(sel); };
  var panel = $('.panel');
  var statusEl = $('.status');
  var list = $('.msgs');
  var handoffBtn = $('.handoff');
  var counter = $('.count');
  var form = $('.composer');
  var input = $('.input');
  var sendBtn = $('.send');
  var launcher = $('.launcher');
  var badge = $('.badge');
  var closeBtn = $('.close');
  var leaveForm = $('.leave');
  var leaveTitle = $('.leave-title');
  var leaveText = $('.leave-text');
  var leaveContact = $('.leave-contact');
  var leaveOrder = $('.leave-order');
  var leaveErr = $('.leave-err');
  var leaveSend = $('.leave-send');
  var leaveOpenBtn = $('.leavebtn');

  if (scriptEl && scriptEl.getAttribute('data-color')) {
    var color = scriptEl.getAttribute('data-color');
    if (/^#[0-9a-fA-F]{3,8}$/.test(color)) {
      rootEl.style.setProperty('--kf', color);
      rootEl.style.setProperty('--kf-dark', color);
    }
  }

  function mount() {
    if (host.parentNode) return;
    (document.body || document.documentElement).appendChild(host);
  }

  // ---------------------------------------------------------------- list rendering

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function scrollDown() {
    list.scrollTop = list.scrollHeight;
  }

  // Rendered items go before the first still-unconfirmed shopper message, so pending
  // messages stay at the bottom until the server echoes them in their place.
  function insertRendered(node) {
    var stick = nearBottom();
    list.insertBefore(node, list.querySelector('.tail'));
    if (stick) scrollDown();
  }

  function clearList() {
    ticketCards = {};
    var kids = Array.prototype.slice.call(list.children);
    for (var i = 0; i < kids.length; i++) {
      if (!kids[i].classList.contains('tail')) list.removeChild(kids[i]);
    }
  }

  function msgShell(from, seq, ts) {
    var m = el('div', 'msg ' + from);
    m.setAttribute('data-testid', 'kefu-msg');
    m.setAttribute('data-from', from);
    if (typeof seq === 'number') m.setAttribute('data-seq', String(seq));
    var t = fmtTime(ts);
    if (t) m.title = t;
    return m;
  }

  function systemNote(text, isError, seq, ts) {
    var m = msgShell('system', seq, ts);
    if (isError) m.classList.add('error');
    if (typeof seq !== 'number') m.setAttribute('data-local', '1');
    m.appendChild(el('div', 'sys', text));
    return m;
  }

  function addNote(text, isError) {
    insertRendered(systemNote(text, isError));
  }

  function buildMessage(f) {
    var from = f.from === 'shopper' || f.from === 'agent' || f.from === 'system' ? f.from : 'bot';
    if (from === 'system') return systemNote(f.text || '', false, f.seq, f.ts);
    var m = msgShell(from, f.seq, f.ts);
    if (from === 'agent') m.appendChild(el('div', 'who', f.agent || agentName ? '客服 ' + (f.agent || agentName) : '人工客服'));
    if (from === 'shopper' && f.id) m.setAttribute('data-id', String(f.id));
    if (f.text) m.appendChild(from === 'shopper' ? el('div', 'bubble', f.text) : mdBubble(f.text));
    if (from === 'bot' && f.article && f.article.title) {
      m.appendChild(el('div', 'src', '来自：' + f.article.title));
    }
    if (Array.isArray(f.suggestions) && f.suggestions.length) {
      var box = el('div', 'sugs');
      f.suggestions.forEach(function (s) {
        if (!s || !s.title) return;
        var b = el('button', 'sug', s.title);
        b.type = 'button';
        b.setAttribute('data-testid', 'kefu-suggestion');
        if (s.id != null) b.setAttribute('data-article', String(s.id));
        b.addEventListener('click', function () {
          if (send(String(s.title), s.id != null ? String(s.id) : undefined)) {
            var all = box.querySelectorAll('button');
            for (var i = 0; i < all.length; i++) all[i].disabled = true;
            b.classList.add('chosen');
          }
        });
        box.appendChild(b);
      });
      m.appendChild(box);
    }
    return m;
  }

  // ---------------------------------------------------------------- ticket cards

  // An agent's proposed remedy for an after-sales ticket comes as a ticket record; the
  // shopper answers it with 确认 or 不接受 (docs/protocol.md). Later records of the same
  // ticket say what became of it: the earlier cards lose their buttons.
  var TICKET_TYPES = { return: '退货', exchange: '换货', refund: '退款', repair: '维修', resend: '补发', compensation: '补偿', invoice: '发票', message: '留言' };
  var TICKET_AFTER = {
    proposed: '方案已更新，请查看最新方案',
    confirmed: '您已确认该方案',
    declined: '您未接受该方案',
    withdrawn: '客服已撤回该方案',
    cancelled: '工单已取消'
  };
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
    setTicketState(card, '提交中…');
    if (!transmit({ type: confirm ? 'ticket_confirm' : 'ticket_decline', id: id,
      ticket: card.getAttribute('data-ticket'), rev: Number(card.getAttribute('data-rev')) })) {
      setTicketButtons(card, true);
      setTicketState(card, '网络未连接，请稍后再试');
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
      setTicketState(card, '方案已更新或已答复，请查看最新的消息');
      return true;
    }
    setTicketButtons(card, true);
    setTicketState(card, code ? '提交失败，请重试' : '连接中断，请重新选择');
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
    var typ = TICKET_TYPES[t.type] || '';
    card.appendChild(el('div', 'thead', (t.type === 'message' ? '留言' : '售后工单') + ' ' + (t.id || '') + (typ && t.type !== 'message' ? ' · ' + typ : '')));
    var st = el('div', 'tstate');
    st.setAttribute('data-testid', 'kefu-ticket-state');
    if (t.event === 'proposed') {
      var r = t.remedy || {};
      card.appendChild(el('div', 'tbody', '处理方案：' + (r.text || '')));
      if (r.amount_fen > 0) card.appendChild(el('div', 'tamount', fmtFen(r.amount_fen)));
      st.textContent = '请确认是否接受这个方案';
      card.appendChild(st);
      var acts = el('div', 'tacts');
      var yes = el('button', 'tyes', '确认');
      yes.type = 'button';
      yes.setAttribute('data-testid', 'kefu-ticket-confirm');
      var no = el('button', 'tno', '不接受');
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
      setTicketState(prev.el, TICKET_AFTER[t.event] || '该方案已处理');
    }
    if (t.id) ticketCards[t.id] = { rev: Number(t.rev) || 0, el: card };
    m.appendChild(card);
    return m;
  }

  // ---------------------------------------------------------------- pending shopper messages

  function setItemState(item, st) {
    item.state = st;
    item.el.setAttribute('data-state', st);
    var meta = item.el.querySelector('.meta');
    meta.textContent = st === 'failed' ? '发送失败，点击重试' : '';
    meta.hidden = st !== 'failed';
    item.el.title = st === 'pending' ? '发送中…' : '';
  }

  function buildPending(item) {
    var m = msgShell('shopper');
    m.classList.add('tail');
    m.setAttribute('data-id', item.id);
    m.appendChild(el('div', 'bubble', item.text));
    m.appendChild(el('div', 'meta'));
    m.addEventListener('click', function () {
      if (item.state === 'failed' && pending.get(item.id) === item) retry(item);
    });
    return m;
  }

  function frameFor(item) {
    var f = { type: 'message', id: item.id, text: item.text };
    if (item.article) f.article = item.article;
    return f;
  }

  function transmit(obj) {
    if (!ws || !ready || ws.readyState !== 1) return false;
    try {
      ws.send(JSON.stringify(obj));
      return true;
    } catch (e) {
      return false;
    }
  }

  function retry(item) {
    setItemState(item, 'pending');
    if (!transmit(frameFor(item))) connect();
  }

  function flushPending() {
    pending.forEach(function (item) {
      if (item.state === 'pending') transmit(frameFor(item));
    });
  }

  // The server confirmed the message in the log as seq: it becomes an ordinary message.
  function confirmItem(item, seq) {
    pending.delete(item.id);
    item.el.classList.remove('tail');
    if (typeof seq === 'number') item.el.setAttribute('data-seq', String(seq));
    setItemState(item, 'sent');
    insertRendered(item.el); // moves it into transcript order
  }

  function send(text, article) {
    text = String(text == null ? '' : text).trim();
    if (!text) return null;
    if (charCount(text) > MAX_LEN) {
      addNote('消息太长了，最多 ' + MAX_LEN + ' 个字', true);
      return null;
    }
    mount();
    var item = { id: newId(), text: text, article: article, state: 'pending', seq: null, el: null };
    item.el = buildPending(item);
    setItemState(item, 'pending');
    pending.set(item.id, item);
    list.appendChild(item.el);
    scrollDown();
    if (!transmit(frameFor(item))) connect();
    return item.id;
  }

  // ---------------------------------------------------------------- status line, badge

  function statusLine() {
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
    var busy = status === 'queued' || status === 'active' || handoffTimer !== 0;
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
      var group = f.group === 'aftersale' ? '（售后）' : f.group === 'presale' ? '（售前）' : '';
      var note = systemNote('已为您转接人工客服' + group, false, f.seq, f.ts);
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

  var ERRORS = {
    bad_json: '消息格式错误',
    unknown_type: '不支持的操作',
    bad_message: '消息无效：内容不能为空，且不超过 1000 个字',
    too_large: '消息过长，发送失败',
    rate_limited: '发送太频繁了，请稍后再试',
    unavailable: '服务暂时不可用，请稍后重试',
    internal: '服务出错了，请稍后重试',
    bad_identity: '身份验证未通过，将以访客身份继续',
    bad_ticket: '工单不存在',
    ticket_changed: '处理方案已更新或已答复，请查看最新的方案'
  };

  function onError(f) {
    if (f.code === 'bad_token') {
      // The stored conversation is unknown or expired: forget it and start afresh.
      forgetConversation('之前的会话已失效，已为您开始新的会话');
      return; // the server closes the socket; onclose reconnects if wanted
    }
    if (f.code === 'bad_identity') connShopper = ''; // the server goes on anonymous
    if (f.id != null && settleLeave(String(f.id), false, String(f.code || ''), f.message ? String(f.message) : '')) return;
    if (f.id != null && settleTicketAnswer(String(f.id), false, String(f.code || ''))) {
      addNote(f.message ? String(f.message) : (ERRORS[f.code] || '出错了，请稍后再试'), true);
      return;
    }
    addNote(f.message ? String(f.message) : (ERRORS[f.code] || '出错了，请稍后再试'), true);
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

  // ---------------------------------------------------------------- connection

  function buildUrl() {
    // hello=1: the first frame is a hello carrying the signed identity (not in the URL,
    // which servers and proxies log).
    var hello = identity ? 'hello=1' : '';
    if (!session) return WS_URL + (hello ? '?' + hello : '');
    var q = '?conversation=' + encodeURIComponent(session.conversation) +
      '&token=' + encodeURIComponent(session.token) +
      '&after=' + lastSeq;
    if (session.epoch) q += '&epoch=' + encodeURIComponent(session.epoch);
    if (hello) q += '&' + hello;
    return WS_URL + q;
  }

  function connect() {
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
    connShopper = hello ? hello.id : '';
    sock.onopen = function () {
      if (ws !== sock || !hello) return;
      sock.send(JSON.stringify({ type: 'hello', identity: hello }));
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
      updateStatus();
    };
    sock.onerror = function () { /* onclose follows */ };
    updateStatus();
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
    if (!wanted || ws) return;
    attempt = 0;
    connect();
  }

  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') reconnectNow();
  });

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

  // ---------------------------------------------------------------- handoff

  function clearHandoffTimer() {
    if (handoffTimer) {
      clearTimeout(handoffTimer);
      handoffTimer = 0;
    }
  }

  function requestHandoff() {
    if (status === 'queued' || status === 'active') return;
    clearHandoffTimer();
    // Block double clicks until the server answers (or for a few seconds).
    handoffTimer = setTimeout(function () {
      handoffTimer = 0;
      updateStatus();
    }, 8000);
    if (!transmit({ type: 'handoff', id: newId() })) {
      handoffWanted = true;
      connect();
    }
    updateStatus();
  }

  // ---------------------------------------------------------------- panel

  function open() {
    mount();
    panelOpen = true;
    panel.hidden = false;
    rootEl.classList.add('open');
    launcher.setAttribute('aria-expanded', 'true');
    markRead();
    connect();
    updateStatus();
    scrollDown();
    var coarse = window.matchMedia && window.matchMedia('(pointer: coarse)').matches;
    if (!coarse) {
      setTimeout(function () { try { input.focus(); } catch (e) { /* ignore */ } }, 0);
    }
  }

  function close() {
    panelOpen = false;
    panel.hidden = true;
    rootEl.classList.remove('open');
    launcher.setAttribute('aria-expanded', 'false');
    updateBadge();
  }

  function autosize() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px';
  }

  function updateComposer() {
    var n = charCount(input.value);
    sendBtn.classList.toggle('empty', !input.value.trim());
    if (n >= MAX_LEN - 100) {
      counter.hidden = false;
      counter.textContent = n + '/' + MAX_LEN;
      counter.classList.toggle('full', n >= MAX_LEN);
    } else {
      counter.hidden = true;
    }
  }

  function submit() {
    if (!input.value.trim()) return;
    if (send(input.value)) {
      input.value = '';
      autosize();
      updateComposer();
    }
    input.focus();
  }

  launcher.addEventListener('click', function () {
    if (panelOpen) close(); else open();
  });
  closeBtn.addEventListener('click', function () {
    close();
    launcher.focus();
  });
  panel.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      close();
      launcher.focus();
    }
  });
  handoffBtn.addEventListener('click', requestHandoff);
  leaveForm.addEventListener('submit', function (e) {
    e.preventDefault();
    submitLeave();
  });
  $('.leave-wait').addEventListener('click', hideLeave);
  leaveOpenBtn.addEventListener('click', showLeave);
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    submit();
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', function () {
    autosize();
    updateComposer();
  });

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
        open: panelOpen,
        connected: ready,
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
