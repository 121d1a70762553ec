  // ---------------------------------------------------------------- rating, feedback

  // The shopper rates a resolved chat (5 stars, an optional comment) in a card below
  // its end, and says whether a bot answer helped (有帮助 / 没帮助). Both are sent as
  // frames (rate, feedback) and come back as log records, which mark the card rated and
  // the answer's buttons chosen, also in history.

  var RATE_MAX_COMMENT = 200;

  var ratingCard = null; // {root, form, done, stars, score, comment, sendBtn}
  var rateSent = {};     // rate frame id -> true while unanswered
  var fbSent = {};       // feedback frame id -> the answer's buttons box

  // showRatingCard puts the rating card after the record that resolved the chat; an
  // earlier card goes, since only the last resolution is rated.
  function showRatingCard(f) {
    if (ratingCard && ratingCard.root.parentNode) ratingCard.root.parentNode.removeChild(ratingCard.root);
    var root = msgShell('rating');
    root.classList.add('rating');
    root.setAttribute('data-testid', 'kefu-rating');
    var card = el('div', 'rcard');
    var form = el('div', 'rform');
    form.appendChild(el('div', 'rtitle', tr('r_title')));
    var stars = el('div', 'stars');
    stars.setAttribute('role', 'radiogroup');
    var rc = { root: root, form: form, stars: [], score: 0 };
    for (var i = 1; i <= 5; i++) {
      var b = el('button', 'star', '★');
      b.type = 'button';
      b.setAttribute('data-testid', 'kefu-star');
      b.setAttribute('data-score', String(i));
      b.setAttribute('aria-label', tr('r_star', { n: i }));
      b.addEventListener('click', (function (n) { return function () { pickScore(rc, n); }; })(i));
      rc.stars.push(b);
      stars.appendChild(b);
    }
    form.appendChild(stars);
    var ta = el('textarea');
    ta.rows = 2;
    ta.maxLength = RATE_MAX_COMMENT;
    ta.placeholder = tr('r_comment');
    ta.setAttribute('data-testid', 'kefu-rating-comment');
    form.appendChild(ta);
    var row = el('div', 'rrow');
    var count = el('span', 'rcount', '0/' + RATE_MAX_COMMENT);
    ta.addEventListener('input', function () { count.textContent = charCount(ta.value) + '/' + RATE_MAX_COMMENT; });
    var send = el('button', 'rsend', tr('r_submit'));
    send.type = 'button';
    send.setAttribute('data-testid', 'kefu-rating-submit');
    send.addEventListener('click', function () { submitRating(rc); });
    row.appendChild(count);
    row.appendChild(send);
    form.appendChild(row);
    var done = el('div', 'rdone');
    done.setAttribute('data-testid', 'kefu-rating-done');
    done.hidden = true;
    card.appendChild(form);
    card.appendChild(done);
    root.appendChild(card);
    rc.comment = ta;
    rc.sendBtn = send;
    rc.done = done;
    ratingCard = rc;
    insertRendered(root);
  }

  function pickScore(rc, n) {
    rc.score = n;
    rc.stars.forEach(function (b, i) {
      b.classList.toggle('on', i < n);
      b.setAttribute('aria-checked', i === n - 1 ? 'true' : 'false');
    });
  }

  function submitRating(rc) {
    if (!rc.score) {
      addNote(tr('r_need'), true);
      return;
    }
    var id = newId();
    var frame = { type: 'rate', id: id, score: rc.score };
    var c = rc.comment.value.trim();
    if (c) frame.comment = c;
    if (!transmit(frame)) {
      addNote(tr('e_unavailable'), true);
      return;
    }
    rateSent[id] = true;
    rc.sendBtn.disabled = true;
  }

  // settleRated takes the answer to a rate frame; it reports whether id was one.
  function settleRated(id, ok) {
    if (!rateSent[id]) return false;
    delete rateSent[id];
    if (ratingCard) ratingCard.sendBtn.disabled = false;
    if (ok && ratingCard) markRated(ratingCard, ratingCard.score, ratingCard.comment.value.trim());
    return true;
  }

  // onRatingRecord marks the card rated when the record follows its resolution.
  function onRatingRecord(f) {
    if (!ratingCard || !f.rating) return;
    var n = Math.max(1, Math.min(5, Number(f.rating.score) || 0));
    pickScore(ratingCard, n);
    ratingCard.comment.value = f.rating.comment ? String(f.rating.comment) : '';
    markRated(ratingCard, n, ratingCard.comment.value);
  }

  // dropRatingCard takes away a card not rated when the chat goes on: only a resolved
  // chat can be rated.
  function dropRatingCard() {
    if (!ratingCard || ratingCard.rated) return;
    if (ratingCard.root.parentNode) ratingCard.root.parentNode.removeChild(ratingCard.root);
    ratingCard = null;
  }

  function markRated(rc, n, comment) {
    rc.rated = true;
    rc.form.hidden = true;
    rc.done.hidden = false;
    rc.done.replaceChildren();
    rc.done.setAttribute('data-score', String(n));
    rc.done.appendChild(el('div', 'rthanks', tr('r_thanks') + ' ' + '★★★★★'.slice(0, n)));
    if (comment) rc.done.appendChild(el('div', 'rcomment', comment));
    var edit = el('button', 'redit', tr('r_edit'));
    edit.type = 'button';
    edit.setAttribute('data-testid', 'kefu-rating-edit');
    edit.addEventListener('click', function () {
      rc.form.hidden = false;
      rc.done.hidden = true;
    });
    rc.done.appendChild(edit);
  }

  // addFeedback gives a bot answer from an article (not small talk) its 有帮助 / 没帮助
  // buttons.
  function addFeedback(m, f) {
    if (typeof f.seq !== 'number' || !f.article || !f.article.id || f.smalltalk) return;
    var box = el('div', 'fb');
    box.setAttribute('data-testid', 'kefu-feedback');
    box.setAttribute('data-seq', String(f.seq));
    [[true, tr('fb_helpful')], [false, tr('fb_unhelpful')]].forEach(function (p) {
      var b = el('button', '', p[1]);
      b.type = 'button';
      b.setAttribute('data-testid', p[0] ? 'kefu-helpful' : 'kefu-unhelpful');
      b.addEventListener('click', function () {
        var id = newId();
        if (!transmit({ type: 'feedback', id: id, seq: f.seq, helpful: p[0] })) {
          addNote(tr('e_unavailable'), true);
          return;
        }
        fbSent[id] = box;
        setFeedbackButtons(box, null, true);
      });
      box.appendChild(b);
    });
    m.appendChild(box);
  }

  function setFeedbackButtons(box, helpful, disabled) {
    var bs = box.querySelectorAll('button');
    for (var i = 0; i < bs.length; i++) {
      bs[i].disabled = disabled;
      if (helpful != null) bs[i].classList.toggle('chosen', (i === 0) === helpful);
    }
  }

  // onFeedbackRecord marks the answer's choice, also in history.
  function onFeedbackRecord(f) {
    if (!f.feedback) return;
    var box = list.querySelector('[data-testid="kefu-feedback"][data-seq="' + Number(f.feedback.seq) + '"]');
    if (box) setFeedbackButtons(box, !!f.feedback.helpful, true);
  }

  // settleFeedback takes an error for a feedback frame: its buttons work again.
  function settleFeedback(id) {
    var box = fbSent[id];
    if (!box) return false;
    delete fbSent[id];
    setFeedbackButtons(box, null, false);
    return true;
  }
