/* Kefu 客服台 — people, not logins: the user's profile (显示名, 头像), whether they serve
 * (接待中 / 暂停接待), the admin's profile column of the users dialog, and the shopper's
 * rating of a chat. */
'use strict';

// Texts of this part, in one place for translation.
const PEOPLE_TEXT = {
  serving: '接待中',
  paused: '暂停接待',
  servingOn: '已开始接待：系统会自动为您分配会话',
  servingOff: '已暂停接待：不再自动分配新会话，仍可手动接入',
  saved: '已保存',
  save: '保存',
  upload: '上传',
  none: '—',
  rating: '顾客评价',
  stars: (n) => '★★★★★'.slice(0, n) + '☆☆☆☆☆'.slice(0, 5 - n),
  helpful: (seq, ok) => '顾客反馈：第 ' + seq + ' 条机器人回答' + (ok ? '有帮助' : '没帮助'),
};

// shownName is how the console names user u: the display name with the login, or the
// login alone.
function shownName(u) {
  if (!u) return '';
  return u.display_name ? u.display_name + '（' + u.name + '）' : u.name || '';
}

// renderMe shows the signed-in user's display name and avatar in the top bar.
function renderMe() {
  const me = S.me;
  if (!me) return;
  $('me-name').textContent = shownName(me);
  const av = $('me-avatar');
  av.replaceChildren();
  if (me.avatar) {
    const img = h('img', 'avatar-img');
    img.src = me.avatar;
    img.alt = '';
    av.appendChild(img);
  } else {
    av.textContent = (me.display_name || me.name || '?').slice(0, 1).toUpperCase();
  }
}

// ---------------------------------------------------------------------------
// Serving (接待)

function startServing() {
  S.serving = S.me && typeof S.me.serving === 'boolean' ? S.me.serving : false;
  show($('serving-btn'), isAgent());
  renderServing();
  renderMe();
}

function renderServing() {
  const b = $('serving-btn');
  b.setAttribute('aria-pressed', S.serving ? 'true' : 'false');
  b.setAttribute('data-serving', S.serving ? 'on' : 'off');
  b.textContent = S.serving ? PEOPLE_TEXT.serving : PEOPLE_TEXT.paused;
}

async function toggleServing() {
  const want = !S.serving;
  const b = $('serving-btn');
  b.disabled = true;
  try {
    const d = await api('PUT', '/api/me/serving', { serving: want });
    S.serving = !!(d && d.serving);
    if (S.me) S.me.serving = S.serving;
    renderServing();
    toast(S.serving ? PEOPLE_TEXT.servingOn : PEOPLE_TEXT.servingOff, 'ok');
  } catch (e) {
    if (e.status !== 401) toast(e.message);
  } finally {
    b.disabled = false;
  }
}

// ---------------------------------------------------------------------------
// Profile (个人资料)

let profileAvatar = '';

function openProfile() {
  if (!S.me) return;
  $('profile-name').value = S.me.display_name || '';
  profileAvatar = avatarID(S.me.avatar);
  renderProfileAvatar(S.me.avatar || '');
  show($('profile-error'), false);
  show($('password-error'), false);
  show($('profile-panel'), true);
  setTimeout(() => $('profile-name').focus(), 0);
}

function closeProfile() {
  show($('profile-panel'), false);
}

// avatarID is the file id of an avatar URL (/avatars/ID).
function avatarID(url) {
  const m = /^\/avatars\/([A-Za-z0-9_-]+)$/.exec(String(url || ''));
  return m ? m[1] : '';
}

function renderProfileAvatar(url) {
  const img = $('profile-avatar');
  if (url) img.src = url;
  show(img, !!url);
  show($('profile-avatar-clear'), !!url);
}

// uploadAvatar uploads a photo to the avatars and returns {id, url}.
async function uploadAvatar(file) {
  return api('POST', '/api/avatars', undefined, { raw: file, contentType: file.type || 'application/octet-stream' });
}

async function onProfileAvatar() {
  const input = $('profile-avatar-input');
  const file = input.files && input.files[0];
  input.value = '';
  if (!file) return;
  try {
    const up = await uploadAvatar(file);
    profileAvatar = up.id;
    renderProfileAvatar(up.url);
  } catch (e) {
    showError($('profile-error'), e.message);
  }
}

async function submitProfile(ev) {
  ev.preventDefault();
  show($('profile-error'), false);
  try {
    const u = await api('PATCH', '/api/me', { display_name: $('profile-name').value, avatar: profileAvatar });
    Object.assign(S.me, { display_name: u.display_name, avatar: u.avatar, shown_name: u.shown_name });
    renderMe();
    closeProfile();
    toast(PEOPLE_TEXT.saved, 'ok');
  } catch (e) {
    if (e.status !== 401) showError($('profile-error'), e.message);
  }
}

function showError(el, text) {
  el.textContent = text;
  show(el, true);
}

// ---------------------------------------------------------------------------
// The users dialog's profile cells (admin)

// profileCells are the display-name and avatar cells of user u's row.
function profileCells(u) {
  const nameTd = h('td', 'user-display');
  const input = h('input');
  input.type = 'text';
  input.maxLength = 16;
  input.value = u.display_name || '';
  input.placeholder = u.shown_name || '';
  input.setAttribute('data-testid', 'user-display-name');
  const save = h('button', 'btn small', PEOPLE_TEXT.save);
  save.type = 'button';
  save.setAttribute('data-testid', 'user-display-save');
  save.addEventListener('click', () => patchUser(u.name, { display_name: input.value }, save));
  nameTd.append(input, save);

  const avTd = h('td', 'user-avatar');
  if (u.avatar) {
    const img = h('img', 'avatar-img');
    img.src = u.avatar;
    img.alt = '';
    avTd.appendChild(img);
  }
  const file = h('input');
  file.type = 'file';
  file.accept = 'image/jpeg,image/png,image/webp,image/gif';
  file.hidden = true;
  const up = h('button', 'btn small ghost', PEOPLE_TEXT.upload);
  up.type = 'button';
  up.addEventListener('click', () => file.click());
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    try {
      const a = await uploadAvatar(f);
      await patchUser(u.name, { avatar: a.id }, up);
    } catch (e) {
      toast(e.message);
    }
  });
  avTd.append(up, file);
  return [nameTd, avTd];
}

async function patchUser(name, body, btn, done) {
  btn.disabled = true;
  try {
    await api('PATCH', '/api/users/' + enc(name), body);
    toast(done || PEOPLE_TEXT.saved, 'ok');
    if (S.me && name === S.me.name) Object.assign(S.me, body.display_name != null ? { display_name: body.display_name.trim() } : {});
    loadUsers();
  } catch (e) {
    if (e.status !== 401) toast(e.message);
    loadUsers();
  } finally {
    btn.disabled = false;
  }
}

// ---------------------------------------------------------------------------
// Ratings and feedback in the chat view

// ratingText is a rating as the console shows it.
function ratingText(r) {
  if (!r || typeof r !== 'object') return PEOPLE_TEXT.none;
  const n = Math.max(0, Math.min(5, Number(r.score) || 0));
  return PEOPLE_TEXT.stars(n) + ' ' + n + ' 星' + (r.comment ? '：' + r.comment : '');
}

// recordText is the line of a rating or feedback record, or '' for another record.
function recordText(m) {
  if (m.kind === 'rating') return PEOPLE_TEXT.rating + '：' + ratingText(m.rating);
  if (m.kind === 'feedback' && m.feedback) return PEOPLE_TEXT.helpful(m.feedback.seq, !!m.feedback.helpful);
  return '';
}

// noteRating takes a rating record into the open conversation's context.
function noteRating(cur, m) {
  if (m.kind !== 'rating' || !m.rating || !cur.conv) return;
  cur.conv.rating = m.rating;
  if (S.cur === cur) renderRating();
}

function renderRating() {
  const c = S.cur && S.cur.conv;
  const el = $('ctx-rating');
  el.textContent = c ? ratingText(c.rating) : PEOPLE_TEXT.none;
  el.setAttribute('data-score', c && c.rating ? String(c.rating.score) : '');
}

function wirePeople() {
  $('serving-btn').addEventListener('click', toggleServing);
  $('profile-btn').addEventListener('click', openProfile);
  wireModal('profile', closeProfile);
  $('profile-form').addEventListener('submit', submitProfile);
  $('password-form').addEventListener('submit', changeOwnPassword);
  $('profile-avatar-btn').addEventListener('click', () => $('profile-avatar-input').click());
  $('profile-avatar-input').addEventListener('change', onProfileAvatar);
  $('profile-avatar-clear').addEventListener('click', () => {
    profileAvatar = '';
    renderProfileAvatar('');
  });
}
