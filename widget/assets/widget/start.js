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
