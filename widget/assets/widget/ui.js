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
    '.leave-hours{font-size:12px;color:#86909c;}',
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
    '.photo{flex:none;width:38px;height:38px;border:0;border-radius:10px;background:transparent;color:#8a9099;cursor:pointer;display:flex;align-items:center;justify-content:center;}',
    '.photo:hover{color:var(--kf);background:var(--kf-soft);}',
    '.photo svg{width:22px;height:22px;}',
    '.photos{display:flex;flex-wrap:wrap;gap:6px;max-width:84%;justify-content:inherit;}',
    '.msg.shopper .photos{justify-content:flex-end;}',
    '.thumbwrap{position:relative;}',
    '.thumb{display:block;max-width:180px;max-height:180px;min-width:48px;min-height:48px;border-radius:10px;object-fit:cover;cursor:zoom-in;background:#e9ebee;box-shadow:0 1px 2px rgba(0,0,0,.08);}',
    '.msg[data-state="pending"] .thumb,.msg[data-state="failed"] .thumb{opacity:.6;}',
    '.prog{position:absolute;left:8px;right:8px;bottom:8px;height:5px;border-radius:3px;background:rgba(0,0,0,.35);overflow:hidden;}',
    '.prog i{display:block;height:100%;width:0;background:#fff;transition:width .15s linear;}',
    '.msg .photos+.bubble,.msg .bubble+.photos{margin-top:6px;}',
    '.viewer{position:absolute;inset:0;z-index:5;background:rgba(0,0,0,.86);display:flex;flex-direction:column;align-items:center;justify-content:center;gap:10px;cursor:zoom-out;}',
    '.viewer img{max-width:94%;max-height:84%;object-fit:contain;border-radius:4px;}',
    '.viewer a{color:#fff;font-size:13px;opacity:.85;}',
    '.panel.drop{outline:3px dashed var(--kf);outline-offset:-6px;}',
    '.who img.av{width:18px;height:18px;border-radius:50%;object-fit:cover;vertical-align:middle;margin-right:4px;}',
    // The rating card and the feedback on bot answers (rating.js).
    '.msg.rating{align-items:stretch;}',
    '.rcard{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:10px 12px;text-align:center;box-shadow:0 1px 2px rgba(0,0,0,.05);}',
    '.rcard .rtitle{font-size:13px;color:#4b5563;margin-bottom:6px;}',
    '.rcard .stars{display:flex;justify-content:center;gap:4px;}',
    '.rcard .star{background:none;border:0;font-size:26px;line-height:1;color:#d1d5db;cursor:pointer;padding:2px;}',
    '.rcard .star.on{color:#f59e0b;}',
    '.rcard textarea{box-sizing:border-box;width:100%;margin-top:8px;border:1px solid #e5e7eb;border-radius:8px;padding:6px 8px;font:inherit;font-size:13px;resize:none;}',
    '.rcard .rrow{display:flex;justify-content:space-between;align-items:center;margin-top:6px;font-size:12px;color:#8a9099;}',
    '.rcard .rsend{height:30px;padding:0 16px;border-radius:8px;border:0;background:var(--kf);color:#fff;cursor:pointer;}',
    '.rcard .rsend:disabled{opacity:.5;cursor:default;}',
    '.rcard .rdone{font-size:13px;color:#4b5563;}',
    '.rcard .redit{background:none;border:0;color:var(--kf-dark);cursor:pointer;font-size:12px;text-decoration:underline;}',
    '.fb{display:flex;gap:6px;margin-top:4px;}',
    '.fb button{font-size:12px;height:24px;padding:0 8px;border-radius:12px;border:1px solid #e5e7eb;background:#fff;color:#6b7280;cursor:pointer;}',
    '.fb button:disabled{cursor:default;}',
    '.fb button.chosen{border-color:var(--kf);color:var(--kf);background:var(--kf-soft);}',

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

  // Static markup only: no server text ever goes through innerHTML; the widget's own
  // strings (tr) are escaped.
  function h(key) { return tr(key).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;'); }
  var TEMPLATE =
    '<div class="root">' +
      '<section class="panel" data-testid="kefu-panel" role="dialog" aria-label="' + h('title') + '" hidden>' +
        '<div class="head">' +
          '<div class="avatar">' + ICON_AGENT + '</div>' +
          '<div class="titles"><div class="title">' + h('title') + '</div>' +
          '<div class="status" data-testid="kefu-status" data-state="bot" aria-live="polite">' + h('st_bot') + '</div></div>' +
          '<button class="close" type="button" aria-label="' + h('close') + '">' + ICON_X + '</button>' +
        '</div>' +
        '<div class="msgs" data-testid="kefu-messages" role="log" aria-live="polite" aria-relevant="additions"></div>' +
        '<form class="leave" data-testid="kefu-leave" novalidate hidden>' +
          '<div class="leave-title" data-testid="kefu-leave-title"></div>' +
          '<div class="leave-hours" data-testid="kefu-leave-hours" hidden></div>' +
          '<textarea class="leave-text" data-testid="kefu-leave-text" maxlength="500" placeholder="' + h('leave_text') + '" aria-label="' + h('leave_text_label') + '"></textarea>' +
          '<div class="leave-row">' +
            '<input class="leave-contact" data-testid="kefu-leave-contact" maxlength="64" placeholder="' + h('leave_contact') + '" aria-label="' + h('leave_contact_label') + '">' +
            '<input class="leave-order" data-testid="kefu-leave-order" maxlength="64" placeholder="' + h('leave_order') + '" aria-label="' + h('leave_order_label') + '">' +
          '</div>' +
          '<div class="leave-err" data-testid="kefu-leave-error" role="alert" hidden></div>' +
          '<div class="leave-acts">' +
            '<button class="leave-wait" data-testid="kefu-leave-wait" type="button">' + h('leave_wait') + '</button>' +
            '<button class="leave-send" data-testid="kefu-leave-send" type="submit">' + h('leave_send') + '</button>' +
          '</div>' +
        '</form>' +
        '<div class="bar">' +
          '<span><button class="handoff" data-testid="kefu-handoff" type="button">' + h('handoff') + '</button>' +
          '<button class="leavebtn" data-testid="kefu-leave-open" type="button" hidden>' + h('leave_open') + '</button></span>' +
          '<span class="count" hidden></span>' +
        '</div>' +
        '<form class="composer" novalidate>' +
          '<textarea class="input" data-testid="kefu-input" rows="1" maxlength="1000" placeholder="' + h('input') + '" aria-label="' + h('input_label') + '"></textarea>' +
          '<button class="send empty" data-testid="kefu-send" type="submit">' + h('send') + '</button>' +
        '</form>' +
      '</section>' +
      '<button class="launcher" data-testid="kefu-launcher" type="button" aria-label="' + h('title') + '" aria-expanded="false">' +
        '<span class="chat">' + ICON_CHAT + '</span><span class="lbl">' + h('launcher') + '</span>' +
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
  var leaveHours = $('.leave-hours');
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
