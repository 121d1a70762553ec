/* Kefu 客服台 — the admin's users dialog. */
'use strict';

// ---------------------------------------------------------------------------
// Users (admin)

let usersReturnFocus = null;

function openUsers() {
  if (!S.me || S.me.role !== 'admin') return;
  usersReturnFocus = document.activeElement;
  show($('users-panel'), true);
  usersTab('people');
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
    td.colSpan = 8;
    tr.appendChild(td);
    body.replaceChildren(tr);
  }
  try {
    const d = await api('GET', '/api/users');
    if (sess !== S.session) return;
    const users = Array.isArray(d.users) ? d.users.filter(Boolean) : [];
    users.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    body.replaceChildren();
    for (const u of users) body.appendChild(userRow(u));
    if (!users.length) {
      const tr = h('tr');
      const td = h('td', 'muted', '暂无用户');
      td.colSpan = 8;
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

// ---------------------------------------------------------------------------
// A user's row: role, group and chat limit are changed in place; 停用 / 启用; 重置密码.

const USERS_TEXT = {
  disabled: '已停用',
  enabled: '正常',
  disable: '停用',
  enable: '启用',
  confirmDisable: '确认停用？',
  reset: '重置密码',
  resetOk: (name) => '已重置 ' + name + ' 的密码，其登录已失效',
  disabledOk: (name) => '已停用 ' + name + '：其登录和 API 令牌立即失效，进行中的会话回到排队',
  enabledOk: (name) => '已启用 ' + name,
  tooShort: '密码至少 8 位，且不能只有空格',
};

// userRow is the row of user u in the users dialog.
function userRow(u) {
  const tr = h('tr');
  tr.setAttribute('data-testid', 'user-row');
  tr.setAttribute('data-user', u.name || '');
  tr.setAttribute('data-disabled', u.disabled ? 'true' : 'false');
  if (u.disabled) tr.classList.add('is-disabled');
  tr.appendChild(h('td', '', u.name || ''));

  const role = h('select');
  role.setAttribute('data-testid', 'user-row-role');
  role.setAttribute('aria-label', '角色');
  for (const r of Object.keys(ROLES)) {
    const o = h('option', '', roleLabel(r));
    o.value = r;
    role.appendChild(o);
  }
  role.value = u.role || '';
  role.addEventListener('change', () => patchUser(u.name, { role: role.value }, role));
  const roleTd = h('td');
  roleTd.appendChild(role);
  tr.appendChild(roleTd);

  const group = h('select');
  group.setAttribute('data-testid', 'user-row-group');
  group.setAttribute('aria-label', '组');
  for (const o of $('user-group').options) {
    const c = h('option', '', o.textContent);
    c.value = o.value;
    group.appendChild(c);
  }
  group.value = u.group || '';
  group.addEventListener('change', () => patchUser(u.name, { group: group.value }, group));
  const groupTd = h('td');
  groupTd.appendChild(group);
  tr.appendChild(groupTd);

  const maxTd = h('td', 'user-max');
  const max = h('input');
  max.type = 'number';
  max.min = '0';
  max.max = '1000';
  max.value = String(u.max_chats || 0);
  max.title = '0 表示使用全局默认';
  max.setAttribute('data-testid', 'user-row-max');
  const maxSave = h('button', 'btn small', PEOPLE_TEXT.save);
  maxSave.type = 'button';
  maxSave.setAttribute('data-testid', 'user-row-max-save');
  maxSave.addEventListener('click', () => {
    const n = Number(max.value);
    if (!Number.isInteger(n) || n < 0 || n > 1000) return toast('同时接待上限须为 0-1000 的整数');
    patchUser(u.name, { max_chats: n }, maxSave);
  });
  maxTd.append(max, maxSave);
  tr.appendChild(maxTd);

  tr.append(...profileCells(u));

  const stateTd = h('td', 'user-state');
  stateTd.appendChild(h('span', 'tag', u.disabled ? USERS_TEXT.disabled : USERS_TEXT.enabled));
  const toggle = h('button', 'btn small' + (u.disabled ? '' : ' danger-outline'), u.disabled ? USERS_TEXT.enable : USERS_TEXT.disable);
  toggle.type = 'button';
  toggle.setAttribute('data-testid', 'user-row-toggle');
  toggle.addEventListener('click', () => {
    if (!u.disabled && !toggle.dataset.confirm) {
      toggle.dataset.confirm = '1';
      toggle.textContent = USERS_TEXT.confirmDisable;
      return;
    }
    const want = !u.disabled;
    patchUser(u.name, { disabled: want }, toggle, want ? USERS_TEXT.disabledOk(u.name) : USERS_TEXT.enabledOk(u.name));
  });
  stateTd.appendChild(toggle);
  tr.appendChild(stateTd);

  const pwTd = h('td', 'user-pw');
  const pw = h('input');
  pw.type = 'password';
  pw.autocomplete = 'new-password';
  pw.placeholder = '新密码';
  pw.setAttribute('data-testid', 'user-row-password');
  const pwBtn = h('button', 'btn small', USERS_TEXT.reset);
  pwBtn.type = 'button';
  pwBtn.setAttribute('data-testid', 'user-row-reset');
  pwBtn.addEventListener('click', () => resetPassword(u.name, pw, pwBtn));
  pwTd.append(pw, pwBtn);
  tr.appendChild(pwTd);
  return tr;
}

// passwordProblem is what is wrong with a new password, or ''.
function passwordProblem(p) {
  return [...p].length < 8 || !p.trim() ? USERS_TEXT.tooShort : '';
}

async function resetPassword(name, input, btn) {
  const problem = passwordProblem(input.value);
  if (problem) {
    toast(problem);
    input.focus();
    return;
  }
  btn.disabled = true;
  try {
    await api('POST', '/api/users/' + enc(name) + '/password', { password: input.value });
    input.value = '';
    toast(USERS_TEXT.resetOk(name), 'ok');
  } catch (e) {
    if (e.status !== 401) toast(e.message);
  } finally {
    btn.disabled = false;
  }
}

// changeOwnPassword handles the 修改密码 form of the profile dialog.
async function changeOwnPassword(ev) {
  ev.preventDefault();
  const err = $('password-error');
  show(err, false);
  const current = $('password-current').value;
  const next = $('password-new').value;
  let problem = !current ? '请输入当前密码' : passwordProblem(next);
  if (!problem && next !== $('password-again').value) problem = '两次输入的新密码不一致';
  if (problem) return showText(err, problem);
  const btn = $('password-submit');
  btn.disabled = true;
  try {
    await api('POST', '/api/me/password', { current: current, password: next });
    for (const id of ['password-current', 'password-new', 'password-again']) $(id).value = '';
    toast('密码已修改', 'ok');
  } catch (e) {
    if (e.status !== 401) showText(err, e.message);
  } finally {
    btn.disabled = false;
  }
}

// ---------------------------------------------------------------------------
// The audit log tab (操作日志): GET /api/audit, newest first, a page at a time.

const AUDIT_ACTIONS = {
  login: '登录',
  login_failed: '登录失败',
  logout: '退出',
  user_created: '添加用户',
  user_changed: '修改用户',
  role_changed: '变更角色',
  user_disabled: '停用用户',
  user_enabled: '启用用户',
  password_reset: '重置密码',
  password_changed: '修改本人密码',
  token_added: '添加 API 令牌',
  token_revoked: '吊销 API 令牌',
  guard_override: '放行站外联系方式',
  article_deleted: '删除文章',
  shopper_erased: '删除顾客数据',
  shopper_exported: '导出顾客数据',
  retention_sweep: '按保留期清理',
};

let auditNext = '';

function usersTab(which) {
  const views = { people: 'people-view', audit: 'audit-view', shopper: 'shopper-view' };
  for (const [tab, view] of Object.entries(views)) {
    const on = tab === which;
    show($(view), on);
    $('users-tab-' + tab).classList.toggle('is-on', on);
    $('users-tab-' + tab).setAttribute('aria-selected', on ? 'true' : 'false');
  }
  if (which === 'audit') loadAudit(false);
  if (which === 'shopper') resetShopperForm();
}

async function loadAudit(more) {
  const sess = S.session;
  const body = $('audit-body');
  show($('audit-error'), false);
  if (!more) auditNext = '';
  try {
    const d = await api('GET', '/api/audit?limit=50' + (more && auditNext ? '&before=' + enc(auditNext) : ''));
    if (sess !== S.session) return;
    if (!more) body.replaceChildren();
    for (const e of Array.isArray(d.entries) ? d.entries : []) {
      const tr = h('tr');
      tr.setAttribute('data-testid', 'audit-row');
      tr.setAttribute('data-action', e.action || '');
      tr.appendChild(h('td', '', e.at ? new Date(e.at).toLocaleString('zh-CN', { hour12: false }) : ''));
      tr.appendChild(h('td', '', e.actor || ''));
      tr.appendChild(h('td', '', AUDIT_ACTIONS[e.action] || e.action || ''));
      tr.appendChild(h('td', '', e.target || ''));
      tr.appendChild(h('td', 'audit-detail', e.detail || ''));
      tr.appendChild(h('td', '', e.ip || ''));
      body.appendChild(tr);
    }
    if (!body.children.length) {
      const tr = h('tr');
      const td = h('td', 'muted', '暂无记录');
      td.colSpan = 6;
      tr.appendChild(td);
      body.appendChild(tr);
    }
    auditNext = d.next || '';
    show($('audit-more'), !!auditNext);
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    showText($('audit-error'), '无法加载操作日志：' + e.message);
  }
}

function wireUsersTabs() {
  $('users-tab-people').addEventListener('click', () => usersTab('people'));
  $('users-tab-audit').addEventListener('click', () => usersTab('audit'));
  $('users-tab-shopper').addEventListener('click', () => usersTab('shopper'));
  $('audit-more').addEventListener('click', () => loadAudit(true));
  $('shopper-export').addEventListener('click', exportShopper);
  $('shopper-erase').addEventListener('click', eraseShopper);
  $('shopper-id').addEventListener('input', () => {
    delete $('shopper-erase').dataset.confirm;
    $('shopper-erase').textContent = '删除全部数据';
  });
  $('shopper-view').addEventListener('submit', (ev) => ev.preventDefault());
}

// ---------------------------------------------------------------------------
// A shopper's data (顾客数据): export and erase, for the shopper's request.

function resetShopperForm() {
  show($('shopper-error'), false);
  show($('shopper-ok'), false);
  delete $('shopper-erase').dataset.confirm;
  $('shopper-erase').textContent = '删除全部数据';
}

function shopperID() {
  const id = $('shopper-id').value.trim();
  if (!id) {
    showText($('shopper-error'), '请输入顾客 ID 或会话 ID');
    $('shopper-id').focus();
  }
  return id;
}

async function exportShopper() {
  show($('shopper-error'), false);
  show($('shopper-ok'), false);
  const id = shopperID();
  if (!id) return;
  try {
    const d = await api('GET', '/api/shoppers/' + enc(id) + '/export');
    const blob = new Blob([JSON.stringify(d, null, 2)], { type: 'application/json' });
    const a = h('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'kefu-shopper-' + id + '.json';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    const n = Array.isArray(d.conversations) ? d.conversations.length : 0;
    showText($('shopper-ok'), '已导出：' + n + ' 个会话，' + (d.tickets || []).length + ' 个工单');
  } catch (e) {
    if (e.status === 401) return;
    showText($('shopper-error'), e.status === 404 ? '没有找到该顾客的数据' : e.message);
  }
}

async function eraseShopper() {
  show($('shopper-error'), false);
  show($('shopper-ok'), false);
  const id = shopperID();
  if (!id) return;
  const btn = $('shopper-erase');
  if (!btn.dataset.confirm) {
    btn.dataset.confirm = '1';
    btn.textContent = '确认删除？不可恢复';
    return;
  }
  btn.disabled = true;
  try {
    const d = await api('DELETE', '/api/shoppers/' + enc(id));
    if (!d.conversations) showText($('shopper-error'), '没有找到该顾客的数据');
    else showText($('shopper-ok'), '已删除 ' + d.conversations + ' 个会话；' + d.tickets + ' 个工单已去除个人信息；' + d.unanswered + ' 条未解答问题已删除');
  } catch (e) {
    if (e.status !== 401) showText($('shopper-error'), e.message);
  } finally {
    btn.disabled = false;
    resetShopperConfirm();
  }
}

function resetShopperConfirm() {
  delete $('shopper-erase').dataset.confirm;
  $('shopper-erase').textContent = '删除全部数据';
}
