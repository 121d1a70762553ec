  // ---------------------------------------------------------------- pending shopper messages

  function setItemState(item, st) {
    item.state = st;
    item.el.setAttribute('data-state', st);
    var meta = item.el.querySelector('.meta');
    meta.textContent = st === 'failed' ? tr('failed_retry') : '';
    meta.hidden = st !== 'failed';
    item.el.title = st === 'pending' ? tr('sending') : '';
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
    if (item.attachments) f.attachments = item.attachments;
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
    if (item.photo) return uploadItem(item); // its upload may be gone with a refusal
    setItemState(item, 'pending');
    if (!transmit(frameFor(item))) connect();
  }

  function flushPending() {
    pending.forEach(function (item) {
      if (item.state === 'pending') transmit(frameFor(item));
      else if (item.state === 'uploading' && !item.attachments && !item.xhr) uploadItem(item);
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
      addNote(tr('too_long', { n: MAX_LEN }), true);
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
