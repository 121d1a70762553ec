/* Kefu 客服台 — photos in chats: thumbnails in the transcript and the tickets, a viewer
 * to enlarge and download them, and the agent's own photos (uploaded to the chat, then
 * sent as a reply that names them: docs/api.md "Photos and files"). */
'use strict';

const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'];
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

// photoStrip shows photos (attachments {id, url, type, size}) as thumbnails that open
// the viewer.
function photoStrip(atts) {
  const box = h('div', 'photos');
  for (const a of atts) {
    if (!a || !a.url) continue;
    const img = h('img', 'photo-thumb');
    img.src = a.url;
    img.alt = '图片';
    img.loading = 'lazy';
    img.title = '点击查看大图';
    img.setAttribute('data-testid', 'chat-photo');
    img.addEventListener('click', () => openPhoto(a));
    box.appendChild(img);
  }
  return box;
}

let photoViewer = null;

// openPhoto shows a photo full size, with a download link; a click outside the photo or
// Escape closes it.
function openPhoto(a) {
  if (!photoViewer) {
    photoViewer = h('div', 'photo-viewer');
    photoViewer.setAttribute('data-testid', 'photo-viewer');
    photoViewer.setAttribute('role', 'dialog');
    photoViewer.setAttribute('aria-label', '查看图片');
    const img = h('img');
    const bar = h('div', 'photo-viewer-bar');
    const dl = h('a', 'btn', '下载');
    dl.setAttribute('data-testid', 'photo-download');
    const close = h('button', 'btn', '关闭');
    close.type = 'button';
    close.setAttribute('data-testid', 'photo-close');
    bar.append(dl, close);
    photoViewer.append(img, bar);
    photoViewer.addEventListener('click', (e) => {
      if (e.target === photoViewer || e.target === close) show(photoViewer, false);
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && photoViewer && !photoViewer.hidden) show(photoViewer, false);
    });
    document.body.appendChild(photoViewer);
  }
  photoViewer.firstChild.src = a.url;
  const dl = photoViewer.querySelector('a');
  dl.href = a.url + (a.url.includes('?') ? '&' : '?') + 'download=1';
  dl.download = a.id || 'photo';
  show(photoViewer, true);
}

// sendPhotos uploads each photo to the open chat and sends it as a reply of its own.
async function sendPhotos(files) {
  const cur = S.cur;
  if (!cur || !ownsOpen()) return;
  show($('reply-error'), false);
  for (const f of Array.from(files || []).slice(0, 9)) {
    if (!PHOTO_TYPES.includes(f.type)) {
      showText($('reply-error'), '只能发送 JPEG、PNG、WebP 或 GIF 图片');
      continue;
    }
    if (f.size > MAX_PHOTO_BYTES) {
      showText($('reply-error'), '图片不能超过 10 MB');
      continue;
    }
    const p = { id: randomId(), conv: cur.id, text: '', seq: null, el: null, stateEl: null, flags: null };
    p.el = pendingEl(p);
    p.el.querySelector('.bubble').replaceWith(h('div', 'photo-uploading', '图片上传中…'));
    S.pending.push(p);
    $('pending-box').appendChild(p.el);
    scrollToBottom();
    try {
      const up = await api('POST', '/api/conversations/' + enc(cur.id) + '/uploads', undefined, { raw: f, contentType: f.type });
      p.flags = { attachments: [up.id] };
      S.sendChain = S.sendChain.then(() => postReply(p)).catch(() => {});
    } catch (e) {
      removePending(p);
      if (e.status !== 401) showText($('reply-error'), '图片发送失败：' + e.message);
    }
  }
}

function initPhotos() {
  const input = $('photo-input');
  $('photo-btn').addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    sendPhotos(input.files);
    input.value = '';
  });
  $('reply-input').addEventListener('paste', (e) => {
    const fs = e.clipboardData && e.clipboardData.files;
    if (fs && fs.length && S.mode !== 'note') {
      e.preventDefault();
      sendPhotos(fs);
    }
  });
  const composer = $('composer');
  composer.addEventListener('dragover', (e) => {
    if (e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files')) e.preventDefault();
  });
  composer.addEventListener('drop', (e) => {
    if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) {
      e.preventDefault();
      sendPhotos(e.dataTransfer.files);
    }
  });
}
