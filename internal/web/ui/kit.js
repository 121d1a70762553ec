/* Kefu's UI kit: what the agent console and the knowledge editor share. Plain JS, no
 * framework, no build step. Each page loads it first; its names are globals of the page,
 * used by the page's own scripts: DOM helpers, the HTTP client (api), toasts, role
 * labels and the sign-in form. Server text goes in with textContent, never innerHTML. */
'use strict';

// ---------------------------------------------------------------------------
// DOM helpers

const $ = (id) => document.getElementById(id);

function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function show(node, visible) {
  node.hidden = !visible;
}

// showText shows node with text in it, such as an error line with what went wrong.
function showText(node, text) {
  node.textContent = text;
  show(node, true);
}

function enc(s) {
  return encodeURIComponent(String(s));
}

function pad2(n) {
  return n < 10 ? '0' + n : String(n);
}

// hashParam returns the value after prefix ('#c=') in the address's fragment, decoded,
// or '' when the fragment has another prefix or cannot be decoded.
function hashParam(prefix) {
  const hash = location.hash || '';
  if (!hash.startsWith(prefix)) return '';
  try {
    return decodeURIComponent(hash.slice(prefix.length));
  } catch (_) {
    return '';
  }
}

// onReady runs fn once the page's scripts have all run: each page's last script calls it.
function onReady(fn) {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn);
  else fn();
}

// ---------------------------------------------------------------------------
// Labels

const ROLES = { agent: '客服', lead: '售后组长', editor: '编辑', admin: '管理员' };

function roleLabel(r) {
  return ROLES[r] || r || '—';
}

// The reasons of a hand-off to people (triage.Reason, and the desk's own).
const REASONS = {
  requested: '顾客要求转人工',
  after_sales: '售后问题',
  low_confidence: '机器人无把握',
  out_of_scope: '超出知识范围',
  negative_sentiment: '顾客情绪不满',
  repeated_miss: '多次未答上',
  reopened: '顾客再次来访',
  left_message: '顾客已留言',
  unhelpful: '顾客说回答没帮助',
};

function reasonLabel(r) {
  return REASONS[r] || r || '—';
}

// Knowledge-article categories; a superset of the skill groups.
const CATEGORIES = { presale: '售前', insale: '售中', aftersale: '售后', policy: '政策' };

// ---------------------------------------------------------------------------
// HTTP

// KIT_ERRORS are the messages of failed requests whose answer has none, by status; a
// page passes its own for the statuses it words differently.
const KIT_ERRORS = {
  400: '请求有误',
  401: '请先登录',
  403: '没有权限执行此操作',
  413: '内容过长',
  415: '请求格式有误',
  429: '操作太频繁，请稍后再试',
  500: '服务器内部错误',
  502: '服务暂不可用，请稍后重试',
  503: '服务暂不可用，请稍后重试',
  504: '服务器响应超时，请稍后重试',
};

// ApiError is a failed request: the HTTP status (0 when the network failed), the
// server's error code and message, the whole answer (data) and the request id.
class ApiError extends Error {
  constructor(status, code, message, data, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.data = data || {};
    this.requestId = requestId || '';
  }
}

// newApi returns api(method, path, body, opts), which sends a request and returns the
// decoded JSON answer; a failure throws an ApiError with the server's
// {error: {code, message}}, or the message of errors (over KIT_ERRORS) for its status.
// A 401 calls onUnauthorized unless opts.noAuthRedirect. opts.raw sends a body as is,
// of type opts.contentType.
function newApi(errors, onUnauthorized) {
  const messages = Object.assign({}, KIT_ERRORS, errors);
  return async function api(method, path, body, opts) {
    opts = opts || {};
    const init = {
      method: method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json' },
    };
    if (opts.raw) {
      init.headers['Content-Type'] = opts.contentType || 'application/octet-stream';
      init.body = opts.raw;
    } else if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (_) {
      throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试');
    }
    let data = null;
    try {
      const txt = await res.text();
      if (txt) data = JSON.parse(txt);
    } catch (_) {
      data = null;
    }
    if (!res.ok) {
      const e = (data && typeof data === 'object' && data.error) || {};
      const rid = res.headers.get('X-Request-Id') || '';
      let msg = (typeof e.message === 'string' && e.message) || messages[res.status] || '请求失败（HTTP ' + res.status + '）';
      if (res.status >= 500 && rid) msg += '（请求编号 ' + rid + '）';
      const err = new ApiError(res.status, e.code || '', msg, data, rid);
      if (res.status === 401 && !opts.noAuthRedirect) onUnauthorized();
      throw err;
    }
    return data && typeof data === 'object' ? data : {};
  };
}

// ---------------------------------------------------------------------------
// Dialogs

// wireModal makes the ways out of a kit-modal (kit.html) call close: its close button
// (#ID-close) and a click on its backdrop (#ID-panel).
function wireModal(id, close) {
  const panel = $(id + '-panel');
  $(id + '-close').addEventListener('click', close);
  panel.addEventListener('mousedown', (ev) => {
    if (ev.target === panel) close();
  });
}

// ---------------------------------------------------------------------------
// Toasts

function toast(text, kind) {
  const box = $('toasts');
  const t = h('div', 'toast ' + (kind === 'ok' ? 'toast-ok' : kind === 'info' ? 'toast-info' : 'toast-error'), text);
  t.setAttribute('role', kind === 'ok' || kind === 'info' ? 'status' : 'alert');
  t.setAttribute('data-testid', 'toast');
  box.appendChild(t);
  while (box.children.length > 4) box.removeChild(box.firstChild);
  setTimeout(() => {
    t.classList.add('toast-out');
    setTimeout(() => t.remove(), 300);
  }, kind === 'error' || !kind ? 6000 : 3500);
}

// ---------------------------------------------------------------------------
// Sign-in: POST /api/login sets the session cookie (HttpOnly), which both pages share.

// newLogin drives the sign-in form (#login-view, kit.html's kit-login) of a page:
// o.title is the page's title, o.api its api, o.hide the ids of what the form replaces,
// o.started(me) starts the page for the signed-in user and o.stopped() stops it. It
// returns {show(message), submit(ev), boot(), logout(before)}: boot starts the page when
// the session cookie is still good, or shows the form; logout (#logout-btn) runs
// before, ends the session and shows the form.
function newLogin(o) {
  // A user who must change the password they were given (the first admin's printed
  // one) changes it before the page starts: every other request answers 403
  // must_change_password until then.
  let changeMe = null;
  function showChange(me, current) {
    changeMe = me;
    for (const id of o.hide) show($(id), false);
    show($('login-view'), true);
    show($('login-form'), false);
    show($('pwchange-form'), true);
    $('pwchange-current').value = current || '';
    show($('pwchange-current-row'), !current);
    show($('pwchange-error'), false);
    setTimeout(() => (current ? $('pwchange-new') : $('pwchange-current')).focus(), 0);
  }

  async function submitChange(ev) {
    ev.preventDefault();
    const err = $('pwchange-error');
    const current = $('pwchange-current').value;
    const next = $('pwchange-new').value;
    if (!current || !next) return showText(err, '请填写当前密码和新密码');
    if (next !== $('pwchange-confirm').value) return showText(err, '两次输入的新密码不一致');
    $('pwchange-submit').disabled = true;
    try {
      await o.api('POST', '/api/me/password', { current: current, password: next }, { noAuthRedirect: true });
      let me = Object.assign({}, changeMe, { must_change_password: false });
      try {
        me = await o.api('GET', '/api/me', undefined, { noAuthRedirect: true });
      } catch (_) {
        /* start with what we know */
      }
      for (const id of ['pwchange-current', 'pwchange-new', 'pwchange-confirm']) $(id).value = '';
      show($('pwchange-form'), false);
      show($('login-form'), true);
      o.started(me);
    } catch (e) {
      showText(err, e.message);
    } finally {
      $('pwchange-submit').disabled = false;
    }
  }
  if ($('pwchange-form')) $('pwchange-form').addEventListener('submit', submitChange);

  function showLogin(message) {
    for (const id of o.hide) show($(id), false);
    show($('login-view'), true);
    if ($('pwchange-form')) show($('pwchange-form'), false);
    show($('login-form'), true);
    const err = $('login-error');
    err.textContent = message || '';
    show(err, !!message);
    $('login-submit').disabled = false;
    $('login-submit').textContent = '登录';
    document.title = o.title;
    setTimeout(() => {
      const u = $('login-username');
      (u.value ? $('login-password') : u).focus();
    }, 0);
  }

  async function submit(ev) {
    ev.preventDefault();
    const username = $('login-username').value.trim();
    const password = $('login-password').value;
    const err = $('login-error');
    if (!username || !password) {
      showText(err, '请输入用户名和密码');
      return;
    }
    show(err, false);
    const btn = $('login-submit');
    btn.disabled = true;
    btn.textContent = '登录中…';
    try {
      const d = await o.api('POST', '/api/login', { username: username, password: password }, { noAuthRedirect: true });
      // The session lives in an HttpOnly cookie; check that the browser kept it.
      let me = null;
      try {
        me = await o.api('GET', '/api/me', undefined, { noAuthRedirect: true });
      } catch (e) {
        if (e.status === 401) {
          throw new ApiError(401, 'no_cookie', '登录成功，但浏览器未保存会话 Cookie（请通过 HTTPS 或 localhost 访问）');
        }
        me = d.user || null;
      }
      const typed = $('login-password').value;
      $('login-password').value = '';
      me = me || d.user || { name: username, role: 'agent', group: '' };
      if (me.must_change_password) {
        btn.disabled = false;
        btn.textContent = '登录';
        showChange(me, typed);
        return;
      }
      o.started(me);
    } catch (e) {
      showText(err, e.message);
      btn.disabled = false;
      btn.textContent = '登录';
      $('login-password').select();
    }
  }

  async function boot() {
    try {
      const me = await o.api('GET', '/api/me', undefined, { noAuthRedirect: true });
      show($('boot'), false);
      if (me && me.must_change_password) return showChange(me, '');
      o.started(me);
    } catch (e) {
      showLogin(e.status === 401 ? '' : '无法获取登录状态：' + e.message);
    }
  }

  async function logout(before) {
    const btn = $('logout-btn');
    btn.disabled = true;
    try {
      if (before) await before();
    } catch (_) {
      /* leave anyway */
    }
    try {
      await o.api('POST', '/api/logout', undefined, { noAuthRedirect: true });
    } catch (_) {
      /* leave anyway */
    }
    btn.disabled = false;
    o.stopped();
    showLogin('');
  }

  return { show: showLogin, submit: submit, boot: boot, logout: logout };
}

// showApp shows the page's app (#app) for the signed-in user me, in place of the
// sign-in form, with their name, initial and role in the top bar.
function showApp(me) {
  show($('boot'), false);
  show($('login-view'), false);
  show($('app'), true);
  $('me-name').textContent = me.name || '';
  $('me-avatar').textContent = (me.name || '?').slice(0, 1).toUpperCase();
  $('me-role').textContent = roleLabel(me.role);
  $('me-role').setAttribute('data-role', me.role || '');
}
