  // ---------------------------------------------------------------- photos

  // Photos go in two steps (docs/protocol.md "Photos"): each is uploaded over HTTP to the
  // conversation, with its progress shown on the pending message, then a message frame
  // names the uploaded ids. Big photos are shrunk first; GIFs are sent as they are.
  var PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'];
  var PHOTO_MAX = 10 * 1024 * 1024;   // the server's limit
  var SHRINK_BYTES = 1.5 * 1024 * 1024;
  var SHRINK_SIDE = 1600;
  var MAX_PHOTOS = 9;

  var photoInput = el('input');
  photoInput.type = 'file';
  photoInput.accept = PHOTO_TYPES.join(',');
  photoInput.multiple = true;
  photoInput.hidden = true;
  photoInput.setAttribute('data-testid', 'kefu-photo-input');
  var photoBtn = el('button', 'photo');
  photoBtn.type = 'button';
  photoBtn.setAttribute('aria-label', tr('ph_send'));
  photoBtn.title = tr('ph_hint');
  photoBtn.setAttribute('data-testid', 'kefu-photo');
  photoBtn.innerHTML = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><rect x="3" y="5" width="18" height="14" rx="2"/><circle cx="8.5" cy="10" r="1.5"/><path d="M21 16l-5-5-9 8"/></svg>';
  form.insertBefore(photoBtn, input);
  form.appendChild(photoInput);
  photoBtn.addEventListener('click', function () { photoInput.click(); });
  photoInput.addEventListener('change', function () {
    sendPhotos(photoInput.files);
    photoInput.value = '';
  });
  input.addEventListener('paste', function (e) {
    var fs = e.clipboardData && e.clipboardData.files;
    if (fs && fs.length) {
      e.preventDefault();
      sendPhotos(fs);
    }
  });
  panel.addEventListener('dragover', function (e) {
    if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], 'Files') >= 0) {
      e.preventDefault();
      panel.classList.add('drop');
    }
  });
  panel.addEventListener('dragleave', function (e) {
    if (e.target === panel || !panel.contains(e.relatedTarget)) panel.classList.remove('drop');
  });
  panel.addEventListener('drop', function (e) {
    panel.classList.remove('drop');
    if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) {
      e.preventDefault();
      sendPhotos(e.dataTransfer.files);
    }
  });

  // sendPhotos sends each photo of a file list as a message of its own, as chat apps do.
  function sendPhotos(fileList) {
    var files = Array.prototype.slice.call(fileList || []);
    var photos = files.filter(function (f) { return PHOTO_TYPES.indexOf(f.type) >= 0; });
    if (photos.length < files.length) addNote(tr('ph_types'), true);
    if (photos.length > MAX_PHOTOS) {
      addNote(tr('ph_max', { n: MAX_PHOTOS }), true);
      photos = photos.slice(0, MAX_PHOTOS);
    }
    photos.forEach(function (file) {
      mount();
      var item = { id: newId(), text: '', photo: file, attachments: null, state: 'uploading', seq: null, el: null };
      item.el = buildPhotoPending(item);
      pending.set(item.id, item);
      list.appendChild(item.el);
      scrollDown();
      uploadItem(item);
    });
  }

  function buildPhotoPending(item) {
    var m = msgShell('shopper');
    m.classList.add('tail');
    m.setAttribute('data-id', item.id);
    var box = el('div', 'photos');
    var fig = el('div', 'thumbwrap');
    var img = el('img', 'thumb');
    img.alt = tr('ph_alt');
    img.src = URL.createObjectURL(item.photo);
    img.addEventListener('load', scrollDown);
    img.setAttribute('data-testid', 'kefu-photo-preview');
    img.addEventListener('click', function () { showPhoto(img.src); });
    var prog = el('div', 'prog');
    prog.setAttribute('data-testid', 'kefu-photo-progress');
    prog.appendChild(el('i'));
    fig.appendChild(img);
    fig.appendChild(prog);
    box.appendChild(fig);
    m.appendChild(box);
    m.appendChild(el('div', 'meta'));
    m.addEventListener('click', function () {
      if (item.state === 'failed' && pending.get(item.id) === item) retry(item);
    });
    item.progEl = prog;
    return m;
  }

  function setProgress(item, frac) {
    item.progEl.hidden = frac >= 1;
    item.progEl.firstChild.style.width = Math.round(frac * 100) + '%';
  }

  var UPLOAD_ERRORS = {
    unsupported_type: tr('ph_types'),
    too_large: tr('ph_big')
  };

  // uploadItem uploads the item's photo, shrunk when big, then sends the message.
  function uploadItem(item) {
    if (!session) { // the welcome's flushPending starts it
      item.state = 'uploading';
      connect();
      return;
    }
    setItemState(item, 'pending');
    item.state = 'uploading';
    item.attachments = null;
    item.xhr = true; // until it is sent: a welcome meanwhile does not start another
    setProgress(item, 0);
    var conv = session.conversation;
    shrink(item.photo, function (blob) {
      if (blob.size > PHOTO_MAX) return uploadFailed(item, UPLOAD_ERRORS.too_large);
      var xhr = item.xhr = new XMLHttpRequest();
      xhr.open('POST', ORIGIN + '/api/uploads?conversation=' + encodeURIComponent(conv) + '&lang=' + LANG);
      xhr.setRequestHeader('Kefu-Token', session.token); // not in the URL, which logs keep
      if (identity) {
        try { xhr.setRequestHeader('Kefu-Identity', btoa(unescape(encodeURIComponent(JSON.stringify(identity))))); } catch (e) { /* anonymous */ }
      }
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) setProgress(item, e.loaded / e.total * 0.95);
      };
      xhr.onload = function () {
        item.xhr = null;
        var r = null;
        try { r = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status !== 201 || !r || !r.id) {
          var code = r && r.error && r.error.code;
          return uploadFailed(item, UPLOAD_ERRORS[code] || (LANG === 'zh' && r && r.error && r.error.message) || tr('ph_failed'));
        }
        if (pending.get(item.id) !== item || !session || session.conversation !== conv) return;
        setProgress(item, 1);
        item.attachments = [String(r.id)];
        setItemState(item, 'pending');
        if (!transmit(frameFor(item))) connect();
      };
      xhr.onerror = function () {
        item.xhr = null;
        uploadFailed(item, tr('ph_net'));
      };
      var fd = new FormData();
      fd.append('file', blob, item.photo.name || 'photo');
      xhr.send(fd);
    });
  }

  function uploadFailed(item, why) {
    item.xhr = null;
    if (pending.get(item.id) !== item) return;
    setItemState(item, 'failed');
    item.el.querySelector('.meta').textContent = why;
    item.progEl.hidden = true;
  }

  // shrink calls done with the photo as it is sent: a JPEG of at most SHRINK_SIDE pixels a
  // side when the photo is larger than SHRINK_BYTES or SHRINK_SIDE; GIFs and what cannot
  // be drawn as they are.
  function shrink(file, done) {
    if (file.type === 'image/gif') return done(file);
    var img = new Image();
    var url = URL.createObjectURL(file);
    img.onload = function () {
      URL.revokeObjectURL(url);
      var w = img.naturalWidth, h = img.naturalHeight, scale = Math.min(1, SHRINK_SIDE / Math.max(w, h));
      if (file.size <= SHRINK_BYTES && scale === 1) return done(file);
      var c = document.createElement('canvas');
      c.width = Math.round(w * scale);
      c.height = Math.round(h * scale);
      var ctx = c.getContext('2d');
      ctx.fillStyle = '#fff'; // transparent PNGs become white, not black, as JPEG
      ctx.fillRect(0, 0, c.width, c.height);
      ctx.drawImage(img, 0, 0, c.width, c.height);
      c.toBlob(function (b) { done(b && b.size < file.size ? b : file); }, 'image/jpeg', 0.85);
    };
    img.onerror = function () {
      URL.revokeObjectURL(url);
      done(file);
    };
    img.src = url;
  }

  // photosBox shows a message's photos as thumbnails that open full size.
  function photosBox(atts) {
    var box = el('div', 'photos');
    atts.forEach(function (a) {
      if (!a || !a.url) return;
      var img = el('img', 'thumb');
      img.alt = tr('ph_alt');
      img.loading = 'lazy';
      img.src = /^https?:/.test(a.url) ? a.url : ORIGIN + a.url;
      img.setAttribute('data-testid', 'kefu-photo-thumb');
      img.addEventListener('load', keepBottom);
      img.addEventListener('click', function () { showPhoto(img.src); });
      box.appendChild(img);
    });
    return box;
  }

  // keepBottom keeps the list at its end when a photo that loads there grows it.
  function keepBottom() {
    if (list.scrollHeight - list.scrollTop - list.clientHeight < this.offsetHeight + 80) scrollDown();
  }

  // showPhoto shows a photo full size over the panel; a click or Escape closes it.
  var viewer = null;
  function showPhoto(src) {
    if (!viewer) {
      viewer = el('div', 'viewer');
      viewer.setAttribute('data-testid', 'kefu-photo-viewer');
      viewer.setAttribute('role', 'dialog');
      viewer.setAttribute('aria-label', tr('ph_view'));
      viewer.appendChild(el('img'));
      var open = el('a', '', tr('ph_open'));
      open.target = '_blank';
      open.rel = 'noopener';
      viewer.appendChild(open);
      viewer.addEventListener('click', function (e) { if (e.target !== open) viewer.hidden = true; });
      panel.appendChild(viewer);
      document.addEventListener('keydown', function (e) { if (e.key === 'Escape') viewer.hidden = true; });
    }
    viewer.firstChild.src = src;
    viewer.lastChild.href = src;
    viewer.hidden = false;
  }
