/* Kefu 客服台 — transfers to another agent or group, and handing a chat back to the bot. */
'use strict';

// ---------------------------------------------------------------------------
// Transfer and back to the bot.

async function openTransfer() {
  const cur = S.cur;
  if (!cur || !ownsOpen()) return;
  const sess = S.session;
  show($('transfer-error'), false);
  $('transfer-agents').replaceChildren(h('li', 'muted', '正在加载在线客服…'));
  $('transfer-groups').replaceChildren();
  show($('transfer-agents-empty'), false);
  show($('transfer-panel'), true);
  try {
    const d = await api('GET', '/api/presence');
    if (sess !== S.session || S.cur !== cur) return;
    renderTransfer(cur, d);
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    $('transfer-agents').replaceChildren();
    showText($('transfer-error'), '无法加载客服列表：' + e.message);
    renderTransfer(cur, { agents: [], groups: Object.keys(GROUPS) });
  }
}

function renderTransfer(cur, d) {
  const group = cur.conv ? cur.conv.group : '';
  const me = S.me ? S.me.name : '';
  const agents = (Array.isArray(d.agents) ? d.agents.filter(Boolean) : []).filter((a) => a.agent !== me && (!group || a.group === group));
  const order = { online: 0, away: 1, offline: 2 };
  agents.sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3) || (a.load || 0) - (b.load || 0) || String(a.agent).localeCompare(String(b.agent)));
  const ul = $('transfer-agents');
  ul.replaceChildren();
  for (const a of agents) {
    const max = Number(a.max_chats) || 0;
    const load = Number(a.load) || 0;
    const full = max > 0 && load >= max;
    const b = h('button', 'pick-item');
    b.type = 'button';
    b.setAttribute('data-testid', 'transfer-agent');
    b.setAttribute('data-agent', a.agent);
    b.appendChild(h('span', 'pick-name', a.shown_name && a.shown_name !== a.agent ? a.shown_name + '（' + a.agent + '）' : a.agent));
    b.appendChild(h('span', 'pick-status st-' + (a.status || 'offline'), a.status === 'online' ? '在线' : a.status === 'away' ? '离开' : '离线'));
    b.appendChild(h('span', 'pick-sub', '接待 ' + load + '/' + (max || '—') + (full ? ' · 已满' : '') + (a.serving === false ? ' · 暂停接待' : '')));
    b.disabled = a.status !== 'online' || full;
    b.title = b.disabled ? (full ? '对方接待数已满' : '对方不在线') : '转给 ' + a.agent;
    b.addEventListener('click', () => doTransfer(cur, { agent: a.agent }, '已转接给 ' + a.agent));
    const li = h('li');
    li.appendChild(b);
    ul.appendChild(li);
  }
  show($('transfer-agents-empty'), agents.length === 0);
  const groups = Array.isArray(d.groups) && d.groups.length ? d.groups : Object.keys(GROUPS);
  const gl = $('transfer-groups');
  gl.replaceChildren();
  for (const g of groups) {
    const b = h('button', 'pick-item');
    b.type = 'button';
    b.setAttribute('data-testid', 'transfer-group');
    b.setAttribute('data-group', g);
    b.appendChild(groupBadge(g));
    b.appendChild(h('span', 'pick-name', groupLabel(g) + '组排队'));
    if (g === group) b.appendChild(h('span', 'pick-sub', '当前组 · 放回队列'));
    b.addEventListener('click', () => doTransfer(cur, { group: g }, '已转到' + groupLabel(g) + '组排队'));
    const li = h('li');
    li.appendChild(b);
    gl.appendChild(li);
  }
}

async function doTransfer(cur, body, okText) {
  if (S.transferring) return;
  const sess = S.session;
  S.transferring = true;
  $('transfer-panel').querySelectorAll('.pick-item').forEach((b) => b.setAttribute('aria-busy', 'true'));
  try {
    const d = await api('POST', '/api/conversations/' + enc(cur.id) + '/transfer', body);
    if (sess !== S.session) return;
    if (S.cur === cur && d.conversation) cur.conv = d.conversation;
    closeTransfer();
    toast(okText, 'ok');
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    showText($('transfer-error'), '转接失败：' + e.message);
  } finally {
    S.transferring = false;
    $('transfer-panel').querySelectorAll('.pick-item').forEach((b) => b.removeAttribute('aria-busy'));
    if (sess === S.session) {
      refreshQueue();
      if (S.cur === cur) refreshOpen();
    }
  }
}

function closeTransfer() {
  show($('transfer-panel'), false);
}

// openConfirm shows a confirmation; run does the work and may throw: its message is
// shown in the dialog, which stays open.
let confirmRun = null;
function openConfirm(text, okText, run) {
  confirmRun = run;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okText;
  $('confirm-ok').disabled = false;
  show($('confirm-error'), false);
  show($('confirm-panel'), true);
  $('confirm-ok').focus();
}

function closeConfirm() {
  confirmRun = null;
  show($('confirm-panel'), false);
}

async function onConfirmOk() {
  if (!confirmRun) return;
  const run = confirmRun;
  $('confirm-ok').disabled = true;
  try {
    await run();
    closeConfirm();
  } catch (e) {
    if (e.status === 401) return closeConfirm();
    showText($('confirm-error'), e.message);
  } finally {
    $('confirm-ok').disabled = false;
  }
}

function askBackToBot() {
  const cur = S.cur;
  if (!cur || !ownsOpen()) return;
  openConfirm('确认将此会话交回智能助手？顾客会收到提示，之后由机器人继续接待；如需人工可再次转人工。', '转回机器人', async () => {
    const sess = S.session;
    try {
      const d = await api('POST', '/api/conversations/' + enc(cur.id) + '/bot');
      if (sess !== S.session) return;
      if (S.cur === cur && d.conversation) cur.conv = d.conversation;
      toast('会话已交回机器人', 'ok');
    } finally {
      if (sess === S.session) {
        refreshQueue();
        if (S.cur === cur) refreshOpen();
      }
    }
  });
}
