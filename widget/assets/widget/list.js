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
    if (from === 'agent') {
      // The agent's shown name (never a login) and photo, which anyone may load.
      var who = el('div', 'who', f.agent || agentName ? tr('agent', { name: f.agent || agentName }) : tr('agent_any'));
      if (typeof f.agent_avatar === 'string' && /^\/avatars\/[A-Za-z0-9_-]+$/.test(f.agent_avatar)) {
        var av = el('img', 'av');
        av.alt = '';
        av.src = ORIGIN + f.agent_avatar;
        av.setAttribute('data-testid', 'kefu-agent-avatar');
        who.insertBefore(av, who.firstChild);
      }
      m.appendChild(who);
    }
    if (from === 'shopper' && f.id) m.setAttribute('data-id', String(f.id));
    // A reply to small talk (你好, 谢谢) is a courtesy, not an answer to rate.
    if (from === 'bot' && f.smalltalk) m.setAttribute('data-smalltalk', String(f.smalltalk));
    if (Array.isArray(f.attachments) && f.attachments.length) m.appendChild(photosBox(f.attachments));
    if (f.text) m.appendChild(from === 'shopper' ? el('div', 'bubble', f.text) : mdBubble(f.text));
    if (from === 'bot' && f.article && f.article.title) {
      m.appendChild(el('div', 'src', tr('source', { title: f.article.title })));
    }
    if (from === 'bot') addFeedback(m, f);
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
