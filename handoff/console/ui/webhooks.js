/* Kefu 客服台 — the admin's Webhooks dialog: the endpoints that hear of hand-offs,
 * assignments, resolutions, ratings, tickets and left messages, their 测试 ping and
 * their delivery log. */
'use strict';

// ---------------------------------------------------------------------------
// Webhooks (admin)

const WEBHOOK_EVENTS = [
  ['conversation.handed_off', '转人工'],
  ['conversation.assigned', '客服接入'],
  ['conversation.resolved', '会话结束'],
  ['conversation.rated', '顾客评价'],
  ['ticket.created', '工单创建'],
  ['ticket.updated', '工单更新'],
  ['message.left', '顾客留言'],
];

const WEBHOOK_RESULTS = { ok: '成功', retry: '失败，稍后重试', failed: '失败，已放弃' };

let webhooksReturnFocus = null;
let webhookLogOf = '';

function eventLabel(ev) {
  const e = WEBHOOK_EVENTS.find((x) => x[0] === ev);
  return e ? e[1] + '（' + ev + '）' : ev === 'ping' ? '测试（ping）' : ev;
}

function openWebhooks() {
  if (!S.me || S.me.role !== 'admin') return;
  webhooksReturnFocus = document.activeElement;
  show($('webhooks-panel'), true);
  show($('webhook-form-error'), false);
  show($('webhook-form-ok'), false);
  show($('webhook-log'), false);
  webhookLogOf = '';
  loadWebhooks();
  setTimeout(() => $('webhook-url').focus(), 0);
}

function closeWebhooks() {
  if ($('webhooks-panel').hidden) return;
  show($('webhooks-panel'), false);
  if (webhooksReturnFocus && webhooksReturnFocus.focus) webhooksReturnFocus.focus();
  webhooksReturnFocus = null;
}

function webhookEmptyRow(text) {
  const tr = h('tr');
  const td = h('td', 'muted', text);
  td.colSpan = 4;
  tr.appendChild(td);
  return tr;
}

async function loadWebhooks() {
  const sess = S.session;
  const body = $('webhooks-body');
  const err = $('webhooks-load-error');
  show(err, false);
  if (!body.children.length) body.replaceChildren(webhookEmptyRow('正在加载…'));
  try {
    const d = await api('GET', '/api/webhooks');
    if (sess !== S.session) return;
    const hooks = Array.isArray(d.webhooks) ? d.webhooks : [];
    body.replaceChildren();
    for (const w of hooks) body.appendChild(webhookRow(w));
    if (!hooks.length) body.appendChild(webhookEmptyRow('暂无 Webhook'));
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    body.replaceChildren();
    showText(err, '无法加载 Webhook：' + e.message);
  }
}

function webhookRow(w) {
  const tr = h('tr');
  tr.setAttribute('data-testid', 'webhook-row');
  tr.setAttribute('data-id', w.id || '');
  const url = h('td', 'wh-url', w.url || '');
  url.title = w.url || '';
  tr.appendChild(url);
  tr.appendChild(h('td', '', (w.events || []).map((e) => (WEBHOOK_EVENTS.find((x) => x[0] === e) || [e, e])[1]).join('、')));
  tr.appendChild(h('td', 'muted', (w.secret_hint || '') + ' · ' + fmtTime(w.created_at)));
  const act = h('td', 'wh-actions');
  const test = h('button', 'btn', '测试');
  test.type = 'button';
  test.setAttribute('data-testid', 'webhook-test');
  test.addEventListener('click', () => testWebhook(w, test));
  const log = h('button', 'btn ghost', '投递记录');
  log.type = 'button';
  log.setAttribute('data-testid', 'webhook-log-btn');
  log.addEventListener('click', () => showWebhookLog(w));
  const del = h('button', 'btn danger-outline', '删除');
  del.type = 'button';
  del.setAttribute('data-testid', 'webhook-delete');
  del.addEventListener('click', () => deleteWebhook(w, del));
  act.append(test, log, del);
  tr.appendChild(act);
  return tr;
}

async function addWebhook(ev) {
  ev.preventDefault();
  const err = $('webhook-form-error');
  const ok = $('webhook-form-ok');
  show(err, false);
  show(ok, false);
  const url = $('webhook-url').value.trim();
  const secret = $('webhook-secret').value;
  const events = [...document.querySelectorAll('#webhook-events input:checked')].map((c) => c.value);
  let problem = '';
  if (!/^https?:\/\/\S+$/i.test(url)) problem = '请输入 http:// 或 https:// 开头的地址';
  else if (!events.length) problem = '请至少选择一个事件';
  else if (secret && secret.length < 8) problem = '签名密钥至少 8 位（留空则自动生成）';
  if (problem) {
    showText(err, problem);
    return;
  }
  const btn = $('webhook-submit');
  btn.disabled = true;
  const sess = S.session;
  try {
    const d = await api('POST', '/api/webhooks', { url: url, events: events, secret: secret });
    if (sess !== S.session) return;
    showText(ok, '已添加。签名密钥只显示这一次，请妥善保存：' + (d.secret || ''));
    $('webhook-url').value = '';
    $('webhook-secret').value = '';
    loadWebhooks();
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    showText(err, e.message);
  } finally {
    btn.disabled = false;
  }
}

async function testWebhook(w, btn) {
  btn.disabled = true;
  const sess = S.session;
  try {
    await api('POST', '/api/webhooks/' + encodeURIComponent(w.id) + '/test');
    if (sess !== S.session) return;
    showText($('webhook-form-ok'), '已发送测试事件（ping），投递结果见投递记录');
    showWebhookLog(w, 1);
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    showText($('webhooks-load-error'), '测试失败：' + e.message);
  } finally {
    btn.disabled = false;
  }
}

// deleteWebhook asks once more on the button itself, then deletes.
async function deleteWebhook(w, btn) {
  if (btn.dataset.armed !== '1') {
    btn.dataset.armed = '1';
    btn.textContent = '确认删除';
    setTimeout(() => { btn.dataset.armed = ''; btn.textContent = '删除'; }, 4000);
    return;
  }
  btn.disabled = true;
  const sess = S.session;
  try {
    await api('DELETE', '/api/webhooks/' + encodeURIComponent(w.id));
    if (sess !== S.session) return;
    if (webhookLogOf === w.id) show($('webhook-log'), false);
    loadWebhooks();
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    btn.disabled = false;
    showText($('webhooks-load-error'), '删除失败：' + e.message);
  }
}

// showWebhookLog shows the endpoint's delivery log; after a 测试 (want > 0) it reads it
// again for a few seconds until the ping's attempt shows.
async function showWebhookLog(w, want) {
  webhookLogOf = w.id;
  const sess = S.session;
  $('webhook-log-title').textContent = '投递记录：' + w.url;
  show($('webhook-log'), true);
  const body = $('webhook-log-body');
  for (let i = 0; i < (want ? 20 : 1); i++) {
    let log;
    try {
      const d = await api('GET', '/api/webhooks/' + encodeURIComponent(w.id) + '/deliveries');
      log = Array.isArray(d.deliveries) ? d.deliveries : [];
    } catch (e) {
      if (sess !== S.session || e.status === 401) return;
      body.replaceChildren(webhookEmptyRow('无法加载投递记录：' + e.message));
      return;
    }
    if (sess !== S.session || webhookLogOf !== w.id) return;
    body.replaceChildren();
    for (const a of log) {
      const tr = h('tr');
      tr.setAttribute('data-testid', 'webhook-log-row');
      tr.setAttribute('data-result', a.result || '');
      tr.appendChild(h('td', '', fmtTime(a.at)));
      tr.appendChild(h('td', '', eventLabel(a.event)));
      tr.appendChild(h('td', 'mono', (a.delivery || '') + ' #' + (a.attempt || 1)));
      tr.appendChild(h('td', a.result === 'ok' ? '' : 'form-error',
        (a.status ? 'HTTP ' + a.status : '') + (a.error && !a.status ? a.error : '') + ' · ' + (WEBHOOK_RESULTS[a.result] || a.result || '')));
      body.appendChild(tr);
    }
    if (!log.length) body.appendChild(webhookEmptyRow('暂无投递'));
    if (!want || log.some((a) => a.event === 'ping' && a.result === 'ok')) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function wireWebhooks() {
  $('webhooks-btn').addEventListener('click', openWebhooks);
  wireModal('webhooks', closeWebhooks);
  $('webhook-form').addEventListener('submit', addWebhook);
  const box = $('webhook-events');
  for (const [ev, label] of WEBHOOK_EVENTS) {
    const l = h('label', 'wh-event');
    const c = h('input');
    c.type = 'checkbox';
    c.value = ev;
    c.checked = true;
    c.setAttribute('data-testid', 'webhook-event');
    l.append(c, document.createTextNode(' ' + label));
    l.title = ev;
    box.appendChild(l);
  }
}
