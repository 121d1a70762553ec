/* Kefu 客服台 — the admin's 话术设置: the greeting, the standard phrases, the canned
 * replies and the opening hours, per language, over the bundled defaults
 * (GET/PUT /api/phrasebook, docs/api.md). */
'use strict';

// What each phrase key is for; a key not listed (a phrase added later) shows its key.
const PHRASE_LABELS = {
  greeting: '欢迎语（新会话）', waiting: '请稍等', transfer_presale: '转接人工（售前）', transfer_aftersale: '转接售后专员',
  agent_joined: '客服接入（{agent} 为客服名）', resolved: '问题已处理', closing: '结束会话', no_agent: '无客服在线，邀请留言（{hours} 为在线时间）',
  clarify: '机器人追问（推荐问题上方）', fallback_handoff: '机器人无法回答，转人工', queue: '排队提示（{position} 为位置）',
  agent_offline: '客服离线，重新安排', back_to_bot: '转回机器人', photo_received: '收到图片（机器人）',
  reopened_agent: '会话重开，原客服接入', reopened_queue: '会话重开，重新排队', left_message: '留言已收到（{ticket} 为工单号）',
};
const PB_LANGS = { zh: '中文', en: 'English' };
const PB_DAYS = ['日', '一', '二', '三', '四', '五', '六'];

let pbReturnFocus = null;

// S.pb: {view, lang, values: {lang: {phrases: {key: text}, canned: {key: text}}}, hours}
function openPhrasebook() {
  if (!S.me || S.me.role !== 'admin') return;
  pbReturnFocus = document.activeElement;
  show($('phrasebook-panel'), true);
  show($('pb-error'), false);
  loadPhrasebook();
}

function closePhrasebook() {
  if ($('phrasebook-panel').hidden) return;
  show($('phrasebook-panel'), false);
  if (pbReturnFocus && pbReturnFocus.focus) pbReturnFocus.focus();
  pbReturnFocus = null;
}

async function loadPhrasebook() {
  const sess = S.session;
  $('pb-list').replaceChildren(h('p', 'muted', '正在加载…'));
  try {
    const v = await api('GET', '/api/phrasebook');
    if (sess !== S.session) return;
    applyPhrasebook(v);
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    $('pb-list').replaceChildren();
    showText($('pb-error'), '无法加载话术：' + e.message);
  }
}

// applyPhrasebook puts the server's phrasebook in the form.
function applyPhrasebook(v) {
  const values = {};
  for (const l of Object.keys(PB_LANGS)) {
    values[l] = { phrases: {}, canned: {} };
    for (const p of (v.phrases && v.phrases[l]) || []) values[l].phrases[p.key] = p.text;
    for (const c of (v.canned && v.canned[l]) || []) values[l].canned[c.key] = c.text;
  }
  S.pb = { view: v, lang: (S.pb && S.pb.lang) || 'zh', values: values };
  fillHours(v.hours || {});
  renderPhrasebook();
}

function pbEntries(kind, lang) {
  const v = S.pb.view;
  return (v[kind] && v[kind][lang]) || [];
}

function renderPhrasebook() {
  const pb = S.pb;
  for (const l of Object.keys(PB_LANGS)) {
    const tab = $('pb-lang-' + l);
    tab.classList.toggle('is-on', l === pb.lang);
    tab.setAttribute('aria-selected', l === pb.lang ? 'true' : 'false');
  }
  const list = $('pb-list');
  list.replaceChildren();
  for (const kind of ['phrases', 'canned']) {
    list.appendChild(h('h3', 'sub-title', kind === 'phrases' ? '标准话术（系统发给顾客）' : '快捷话术（客服输入 / 选用）'));
    for (const e of pbEntries(kind, pb.lang)) list.appendChild(pbRow(kind, e));
  }
}

// pbRow is one editable text: its label, the text, and 恢复默认 while it differs from
// the default.
function pbRow(kind, e) {
  const pb = S.pb;
  const row = h('div', 'pb-row');
  row.setAttribute('data-testid', 'pb-row');
  row.setAttribute('data-key', e.key);
  row.setAttribute('data-kind', kind);
  const head = h('div', 'pb-head');
  const label = kind === 'phrases' ? (PHRASE_LABELS[e.key] || e.key) : (e.title || e.key);
  head.appendChild(h('span', 'pb-label', label));
  head.appendChild(h('span', 'pb-key mono', e.key));
  const mark = h('span', 'tag pb-edited', '已修改');
  const reset = h('button', 'btn ghost small', '恢复默认');
  reset.type = 'button';
  reset.setAttribute('data-testid', 'pb-reset');
  head.appendChild(mark);
  head.appendChild(reset);
  const ta = h('textarea', 'pb-text');
  ta.rows = 2;
  ta.maxLength = 2000;
  ta.value = pb.values[pb.lang][kind][e.key];
  ta.setAttribute('data-testid', 'pb-text');
  ta.setAttribute('aria-label', label);
  const sync = () => {
    const changed = ta.value.trim() !== String(e.default).trim();
    show(mark, changed);
    show(reset, changed);
  };
  ta.addEventListener('input', () => {
    pb.values[pb.lang][kind][e.key] = ta.value;
    row.classList.remove('is-invalid');
    sync();
  });
  reset.addEventListener('click', () => {
    ta.value = e.default;
    pb.values[pb.lang][kind][e.key] = e.default;
    sync();
    ta.focus();
  });
  sync();
  row.appendChild(head);
  row.appendChild(ta);
  return row;
}

function fillHours(hours) {
  const box = $('pb-days');
  box.replaceChildren();
  const days = Array.isArray(hours.days) ? hours.days : [];
  PB_DAYS.forEach((name, i) => {
    const lab = h('label', 'pb-day');
    const cb = h('input');
    cb.type = 'checkbox';
    cb.value = String(i);
    cb.checked = days.includes(i);
    cb.setAttribute('data-testid', 'pb-day-' + i);
    lab.appendChild(cb);
    lab.appendChild(document.createTextNode('周' + name));
    box.appendChild(lab);
  });
  $('pb-from').value = hours.from || '';
  $('pb-to').value = hours.to || '';
  $('pb-zone').value = hours.zone || '';
}

function pbLang(l) {
  if (!S.pb) return;
  S.pb.lang = l;
  renderPhrasebook();
}

// pbEdits are the texts that differ from their defaults, by kind and language.
function pbEdits() {
  const out = { phrases: {}, canned: {} };
  for (const kind of ['phrases', 'canned']) {
    for (const l of Object.keys(PB_LANGS)) {
      for (const e of pbEntries(kind, l)) {
        const v = S.pb.values[l][kind][e.key];
        if (v !== undefined && v.trim() !== String(e.default).trim()) {
          (out[kind][l] = out[kind][l] || {})[e.key] = v.trim();
        }
      }
    }
  }
  return out;
}

async function savePhrasebook(ev) {
  ev.preventDefault();
  if (!S.pb) return;
  const err = $('pb-error');
  show(err, false);
  const edits = pbEdits();
  const days = [...$('pb-days').querySelectorAll('input:checked')].map((c) => Number(c.value));
  const hours = { days: days, from: $('pb-from').value, to: $('pb-to').value, zone: $('pb-zone').value.trim() };
  const def = S.pb.view.default_hours || {};
  const sameHours = JSON.stringify(hours) === JSON.stringify({ days: def.days, from: def.from, to: def.to, zone: def.zone });
  const body = { rev: S.pb.view.rev, phrases: edits.phrases, canned: edits.canned };
  if (!sameHours) body.hours = hours;
  const btn = $('pb-save');
  btn.disabled = true;
  const sess = S.session;
  try {
    const v = await api('PUT', '/api/phrasebook', body);
    if (sess !== S.session) return;
    applyPhrasebook(v);
    toast('话术已保存，所有节点立即生效', 'ok');
  } catch (e) {
    if (sess !== S.session || e.status === 401) return;
    showText(err, e.message);
    toast(e.message, 'error'); // the error line is below the list: say it where it is seen
    if (e.status === 422) markInvalid(e.message);
  } finally {
    btn.disabled = false;
  }
}

// markInvalid shows the text a refusal ("…: en.greeting: …" or "…: zh.canned.ask_order:
// …") names, in its language.
function markInvalid(message) {
  const m = /\b(zh|en)\.(canned\.)?([\w-]+):/.exec(message);
  if (!m) return;
  if (S.pb.lang !== m[1]) pbLang(m[1]);
  const kind = m[2] ? 'canned' : 'phrases';
  const row = $('pb-list').querySelector('[data-kind="' + kind + '"][data-key="' + m[3] + '"]');
  if (!row) return;
  row.classList.add('is-invalid');
  row.querySelector('textarea').focus();
}

function wirePhrasebook() {
  $('phrasebook-btn').addEventListener('click', openPhrasebook);
  wireModal('phrasebook', closePhrasebook);
  $('pb-form').addEventListener('submit', savePhrasebook);
  $('pb-lang-zh').addEventListener('click', () => pbLang('zh'));
  $('pb-lang-en').addEventListener('click', () => pbLang('en'));
}
