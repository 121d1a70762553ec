  // ---------------------------------------------------------------- Markdown subset

  // Bot and agent text is Markdown (knowledge answers are written in it). A small subset
  // is built from DOM nodes and textContent, so server text is never parsed as HTML:
  // paragraphs, line breaks, # headings as bold lines, - and 1. lists, **bold**, *italic*,
  // `code`, \-escapes and links to http(s) URLs only. Anything else stays plain text.
  var INLINE = [
    '\\\\([!-/:-@[-`{-~])',                             // 1: escaped punctuation
    '`([^`]+)`',                                        // 2: code
    '\\[([^\\]]+)\\]\\(([^()\\s]+)\\)',                 // 3 text, 4 URL: link
    '(https?://[^\\s<>()\\[\\]{}"\'`，。！？；：、（）【】《》「」]+)', // 5: bare URL
    '\\*\\*(?=\\S)(.*?\\S)\\*\\*(?!\\*)',               // 6: strong
    '__(?=\\S)(.*?\\S)__(?!_)',                         // 7: strong
    '\\*([^\\s*](?:[^*]*[^\\s*])?)\\*',                 // 8: em
    '_([^\\s_](?:[^_]*[^\\s_])?)_'                      // 9: em
  ].join('|');
  var WORD = /[A-Za-z0-9_*]/; // * and _ between these are text: snake_case, 2*3*4

  function safeUrl(s) {
    var u;
    try { u = new URL(s); } catch (e) { return ''; } // relative URLs too
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '';
  }

  function link(href) {
    var a = el('a');
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    return a;
  }

  function inline(parent, text, inLink) {
    var re = new RegExp(INLINE, 'g'), done = 0, m;
    var put = function (s) { if (s) parent.appendChild(document.createTextNode(s)); };
    while ((m = re.exec(text))) {
      var node = null, end = re.lastIndex, url;
      var flanked = !WORD.test(text.charAt(m.index - 1)) && !WORD.test(text.charAt(end));
      if (m[1]) {
        node = document.createTextNode(m[1]);
      } else if (m[2]) {
        node = el('code', null, m[2]);
      } else if (m[3] && !inLink && (url = safeUrl(m[4]))) {
        node = link(url);
        inline(node, m[3], true);
      } else if (m[5] && !inLink) {
        var raw = m[5].replace(/[.,;:!?'"]+$/, ''); // trailing punctuation is text
        if ((url = safeUrl(raw))) {
          node = link(url);
          node.textContent = raw;
          end = m.index + raw.length;
        }
      } else if ((m[6] || m[7]) && flanked) {
        node = el('strong');
        inline(node, m[6] || m[7], inLink);
      } else if ((m[8] || m[9]) && flanked) {
        node = el('em');
        inline(node, m[8] || m[9], inLink);
      }
      if (!node) { // not markup here: read on from the next character
        re.lastIndex = m.index + 1;
        continue;
      }
      put(text.slice(done, m.index));
      parent.appendChild(node);
      done = re.lastIndex = end;
    }
    put(text.slice(done));
  }

  function renderMarkdown(box, src) {
    var block = null, lst = null, m;
    String(src).replace(/\r\n?/g, '\n').split('\n').forEach(function (line) {
      line = line.trim();
      if (!line) { // a blank line ends the paragraph or list
        block = lst = null;
      } else if ((m = /^#{1,6}\s+(.*?)(?:\s+#+)?$/.exec(line))) {
        block = lst = null;
        inline(box.appendChild(el('p')).appendChild(el('strong')), m[1]);
      } else if ((m = /^([-*+]|(\d{1,9})[.)])\s+(.*)$/.exec(line))) {
        var tag = m[2] ? 'ol' : 'ul';
        if (!lst || lst.tagName.toLowerCase() !== tag) {
          lst = box.appendChild(el(tag));
          if (m[2] && +m[2] !== 1) lst.start = +m[2];
        }
        block = lst.appendChild(el('li'));
        inline(block, m[3]);
      } else { // a new paragraph, or one more line of this paragraph or list item
        if (block) block.appendChild(el('br'));
        else block = box.appendChild(el('p'));
        inline(block, line);
      }
    });
    return box;
  }

  function mdBubble(text) {
    return renderMarkdown(el('div', 'bubble md'), text);
  }
