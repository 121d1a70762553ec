/* Kefu 客服台 — the admin's users dialog. */
'use strict';

// ---------------------------------------------------------------------------
// Users (admin)

let usersReturnFocus = null;

function openUsers() {
  if (!S.me || S.me.role !== 'admin') return;
  usersReturnFocus = document.activeElement;
  show($('users-panel'), true);
  show($('user-form-error'), false);
  show($('user-form-ok'), false);
  loadUsers();
  setTimeout(() => $('user-username').focus(), 0);
}

function closeUsers() {
  if ($('users-panel').hidden) return;
  show($('users-panel'), false);
  if (usersReturnFocus && usersReturnFocus.focus) usersReturnFocus.focus();
  usersReturnFocus = null;
}

async function loadUsers() {
  const sess = S.session;
  const body = $('users-body');
  const err = $('users-load-error');
  show(err, false);
  if (!body.children.length) {
    const tr = h('tr');
    const td = h('td', 'muted', '正在加载…');
    td.colSpan = 5;
    tr.appendChild(td);
    body.replaceChildren(tr);
  }
  try {
    const d = await api('GET', '/api/users');
    if (sess !== S.session) return;
    const users = Array.isArray(d.users) ? d.users.filter(Boolean) : [];
    users.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    body.replaceChildren();
    for (const u of users) {
      const tr = h('tr');
      tr.setAttribute('data-testid', 'user-row');
      tr.setAttribute('data-user', u.name || '');
      tr.appendChild(h('td', '', u.name || ''));
      tr.appendChild(h('td', '', roleLabel(u.role)));
      tr.appendChild(h('td', '', u.role === 'admin' && !u.group ? '全部' : groupLabel(u.group)));
      tr.append(...profileCells(u));
      body.appendChild(tr);
    }
    if (!users.length) {
      const tr = h('tr');
      const td = h('td', 'muted', '暂无用户');
      td.colSpan = 5;
      tr.appendChild(td);
      body.appendChild(tr);
    }
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    body.replaceChildren();
    showText(err, '无法加载用户列表：' + e.message);
  }
}

async function addUser(ev) {
  ev.preventDefault();
  const err = $('user-form-error');
  const ok = $('user-form-ok');
  show(err, false);
  show(ok, false);
  const username = $('user-username').value.trim();
  const password = $('user-password').value;
  const role = $('user-role').value;
  const group = $('user-group').value;
  let problem = '';
  if (!username) problem = '请输入用户名';
  else if (password.length < 8) problem = '密码至少 8 位';
  if (problem) {
    showText(err, problem);
    (username ? $('user-password') : $('user-username')).focus();
    return;
  }
  const btn = $('user-submit');
  btn.disabled = true;
  btn.textContent = '添加中…';
  const sess = S.session;
  try {
    const d = await api('POST', '/api/users', { username: username, password: password, role: role, group: group });
    if (sess !== S.session) return;
    showText(ok, '已添加用户 ' + (d.name || username) + '（' + roleLabel(d.role || role) + ' · ' + groupLabel(d.group || group) + '）');
    $('user-username').value = '';
    $('user-password').value = '';
    $('user-username').focus();
    loadUsers();
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    showText(err, e.message);
  } finally {
    btn.disabled = false;
    btn.textContent = '添加用户';
  }
}
