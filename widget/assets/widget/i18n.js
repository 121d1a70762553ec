  // ---------------------------------------------------------------- language

  // The widget speaks Chinese or English: the script tag's data-lang, else the page's
  // <html lang>, else the browser's language. zh* is Chinese, any other language
  // English, nothing known Chinese. The server is told on connect (?lang=) and writes
  // its system messages in the same language (docs/protocol.md).
  function pickLang() {
    var tags = [
      scriptEl && scriptEl.getAttribute('data-lang'),
      document.documentElement && document.documentElement.getAttribute('lang'),
      navigator.language
    ];
    for (var i = 0; i < tags.length; i++) {
      var v = String(tags[i] || '').trim().toLowerCase();
      if (v) return v.indexOf('zh') === 0 ? 'zh' : 'en';
    }
    return 'zh';
  }

  var LANG = pickLang();

  // Every string the widget shows, by language; {name} is filled in by tr.
  var STRINGS = {
    zh: {
      title: '在线客服', launcher: '客服', unread: '在线客服（{n} 条未读）', close: '关闭',
      st_unavailable: '在线客服暂不可用', st_lost: '连接中断，正在重连…', st_connecting: '正在连接…',
      st_position: '排队中：第 {n} 位', st_eta_soon: '，预计等待不到 1 分钟', st_eta: '，预计等待 {n} 分钟',
      st_queued: '排队中，请稍候…', st_agent: '客服 {name} 为您服务', st_active: '人工客服为您服务',
      st_resolved: '会话已结束', st_bot: '机器人客服', ho_queued: '正在为您排队', ho_active: '人工客服正在为您服务',
      handoff: '转人工', leave_open: '我要留言', send: '发送', input: '请输入您的问题，Enter 发送', input_label: '输入消息',
      leave_text: '请描述您的问题（必填，最多 500 字）', leave_text_label: '留言内容', leave_contact: '联系方式（选填）',
      leave_contact_label: '联系方式', leave_order: '订单号（选填）', leave_order_label: '订单号', leave_wait: '继续排队',
      leave_send: '提交留言', leave_sending: '提交中…', leave_hours: '人工客服在线时间：{hours}',
      leave_offline: '当前暂无客服在线。您可以留言，客服上线后会尽快联系您；也可以继续排队等待。',
      leave_timeout: '当前排队人数较多。您可以留言，客服会尽快联系您；也可以继续排队等待。',
      leave_empty: '请填写留言内容', leave_long: '留言最多 500 个字', offline_submit: '网络未连接，请稍后再提交',
      leave_not_queued: '会话已不在排队中，留言未提交，请直接发送消息', leave_failed: '提交失败，请稍后重试',
      leave_broken: '连接中断，请重新提交',
      not_enabled: '在线客服暂不可用：本页面尚未开通在线客服，请稍后再试或通过其他方式联系商家。',
      handed_off: '已为您转接人工客服', g_aftersale: '（售后）', g_presale: '（售前）',
      e_bad_json: '消息格式错误', e_unknown_type: '不支持的操作', e_bad_message: '消息无效：内容不能为空，且不超过 1000 个字',
      e_too_large: '消息过长，发送失败', e_rate_limited: '发送太频繁了，请稍后再试', e_unavailable: '服务暂时不可用，请稍后重试',
      e_internal: '服务出错了，请稍后重试', e_bad_identity: '身份验证未通过，将以访客身份继续', e_bad_ticket: '工单不存在',
      e_ticket_changed: '处理方案已更新或已答复，请查看最新的方案', e_bad_attachment: '图片未上传成功或已失效，点击图片重新发送',
      e_bad_rating: '评价无效：请选择 1-5 星，评价内容不超过 200 字', e_not_ratable: '会话结束后才能评价',
      e_bad_feedback: '只能评价智能助手的回答',
      r_title: '请为本次服务评分', r_comment: '说说您的感受（选填，最多 200 字）', r_submit: '提交',
      r_thanks: '感谢您的评价！', r_edit: '修改评价', r_need: '请先选择星级', r_star: '{n} 星',
      fb_helpful: '有帮助', fb_unhelpful: '没帮助',
      e_other: '出错了，请稍后再试', reset: '之前的会话已失效，已为您开始新的会话',
      agent: '客服 {name}', agent_any: '人工客服', source: '来自：{title}',
      failed_retry: '发送失败，点击重试', sending: '发送中…', too_long: '消息太长了，最多 {n} 个字',
      tk_return: '退货', tk_exchange: '换货', tk_refund: '退款', tk_repair: '维修', tk_resend: '补发',
      tk_compensation: '补偿', tk_invoice: '发票', tk_message: '留言', tk_ticket: '售后工单',
      tk_proposed: '方案已更新，请查看最新方案', tk_confirmed: '您已确认该方案', tk_declined: '您未接受该方案',
      tk_withdrawn: '客服已撤回该方案', tk_cancelled: '工单已取消', tk_done: '该方案已处理',
      tk_sending: '提交中…', tk_offline: '网络未连接，请稍后再试', tk_changed: '方案已更新或已答复，请查看最新的消息',
      tk_failed: '提交失败，请重试', tk_broken: '连接中断，请重新选择', tk_remedy: '处理方案：{text}',
      tk_ask: '请确认是否接受这个方案', tk_yes: '确认', tk_no: '不接受',
      ph_send: '发送图片', ph_hint: '发送图片（也可粘贴或拖入）', ph_types: '只能发送 JPEG、PNG、WebP 或 GIF 图片',
      ph_max: '一次最多发送 {n} 张图片', ph_alt: '图片', ph_big: '图片不能超过 10 MB', ph_failed: '图片上传失败，点击重试',
      ph_net: '网络异常，图片未发送，点击重试', ph_view: '查看图片', ph_open: '查看原图'
    },
    en: {
      title: 'Customer service', launcher: 'Chat', unread: 'Customer service ({n} unread)', close: 'Close',
      st_unavailable: 'Chat is unavailable', st_lost: 'Connection lost, reconnecting…', st_connecting: 'Connecting…',
      st_position: 'In queue: number {n}', st_eta_soon: ', less than a minute', st_eta: ', about {n} min',
      st_queued: 'In queue, please wait…', st_agent: '{name} is helping you', st_active: 'An agent is helping you',
      st_resolved: 'Chat ended', st_bot: 'Assistant', ho_queued: 'You are in the queue', ho_active: 'An agent is helping you',
      handoff: 'Talk to a person', leave_open: 'Leave a message', send: 'Send', input: 'Type your question…',
      input_label: 'Message', leave_text: 'Describe your question (required, up to 500 characters)',
      leave_text_label: 'Message', leave_contact: 'Contact (optional)', leave_contact_label: 'Contact',
      leave_order: 'Order number (optional)', leave_order_label: 'Order number', leave_wait: 'Keep waiting',
      leave_send: 'Leave message', leave_sending: 'Sending…', leave_hours: 'Agents are online {hours}',
      leave_offline: 'No agent is online right now. Leave a message and an agent will contact you as soon as possible, or keep waiting.',
      leave_timeout: 'The queue is long right now. Leave a message and an agent will contact you soon, or keep waiting.',
      leave_empty: 'Please write your message', leave_long: 'A message is at most 500 characters',
      offline_submit: 'You are offline; please try again in a moment',
      leave_not_queued: 'You are no longer waiting, so the message was not left; please write in the chat instead',
      leave_failed: 'Could not send, please try again', leave_broken: 'The connection broke, please send again',
      not_enabled: 'Chat is unavailable: this page has not been set up for customer service yet. Please try again later or contact the shop another way.',
      handed_off: 'Transferred to a customer service agent', g_aftersale: ' (after-sales)', g_presale: ' (pre-sales)',
      e_bad_json: 'The message is malformed', e_unknown_type: 'This action is not supported',
      e_bad_message: 'A message cannot be empty or longer than 1000 characters', e_too_large: 'The message is too long',
      e_rate_limited: 'You are sending too fast, please wait a moment', e_unavailable: 'The service is unavailable, please try again',
      e_internal: 'Something went wrong, please try again', e_bad_identity: 'Your identity could not be verified; you continue as a guest',
      e_bad_ticket: 'This ticket does not exist', e_ticket_changed: 'The solution was updated or answered already; please look at the latest one',
      e_bad_attachment: 'The photo was not uploaded or has expired; tap it to send again',
      e_bad_rating: 'The rating is not valid: choose 1 to 5 stars and write at most 200 characters',
      e_not_ratable: 'You can rate the chat once it has ended', e_bad_feedback: 'Only the assistant\'s answers can be rated',
      r_title: 'How did we do?', r_comment: 'Tell us more (optional, up to 200 characters)', r_submit: 'Submit',
      r_thanks: 'Thank you for your rating!', r_edit: 'Change rating', r_need: 'Please choose a number of stars first',
      r_star: '{n} stars', fb_helpful: 'Helpful', fb_unhelpful: 'Not helpful',
      e_other: 'Something went wrong, please try again', reset: 'Your earlier chat has expired; a new one has started',
      agent: 'Agent {name}', agent_any: 'Agent', source: 'From: {title}',
      failed_retry: 'Not sent, tap to retry', sending: 'Sending…', too_long: 'The message is too long (at most {n} characters)',
      tk_return: 'Return', tk_exchange: 'Exchange', tk_refund: 'Refund', tk_repair: 'Repair', tk_resend: 'Resend',
      tk_compensation: 'Compensation', tk_invoice: 'Invoice', tk_message: 'Message', tk_ticket: 'After-sales ticket',
      tk_proposed: 'The solution was updated; see the latest one', tk_confirmed: 'You accepted this solution',
      tk_declined: 'You did not accept this solution', tk_withdrawn: 'The agent withdrew this solution',
      tk_cancelled: 'The ticket was cancelled', tk_done: 'This solution was handled',
      tk_sending: 'Sending…', tk_offline: 'You are offline; please try again in a moment',
      tk_changed: 'The solution was updated or answered already; see the latest message',
      tk_failed: 'Could not send, please try again', tk_broken: 'The connection broke, please choose again',
      tk_remedy: 'Solution: {text}', tk_ask: 'Do you accept this solution?', tk_yes: 'Accept', tk_no: 'Decline',
      ph_send: 'Send a photo', ph_hint: 'Send a photo (or paste or drop one)', ph_types: 'Only JPEG, PNG, WebP or GIF photos can be sent',
      ph_max: 'At most {n} photos at a time', ph_alt: 'Photo', ph_big: 'A photo cannot be larger than 10 MB',
      ph_failed: 'Upload failed, tap to retry', ph_net: 'Network error, the photo was not sent; tap to retry',
      ph_view: 'Photo', ph_open: 'Open the original'
    }
  };

  // tr returns the string key in the widget's language (Chinese when it has none there),
  // with each {name} replaced by vars[name].
  function tr(key, vars) {
    var s = STRINGS[LANG][key];
    if (s == null) s = STRINGS.zh[key] || key;
    return vars ? s.replace(/\{(\w+)\}/g, function (m, k) { return vars[k] == null ? m : String(vars[k]); }) : s;
  }
