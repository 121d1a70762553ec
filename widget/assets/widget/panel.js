  // ---------------------------------------------------------------- handoff

  function clearHandoffTimer() {
    if (handoffTimer) {
      clearTimeout(handoffTimer);
      handoffTimer = 0;
    }
  }

  function requestHandoff() {
    if (status === 'queued' || status === 'active') return;
    clearHandoffTimer();
    // Block double clicks until the server answers (or for a few seconds).
    handoffTimer = setTimeout(function () {
      handoffTimer = 0;
      updateStatus();
    }, 8000);
    if (!transmit({ type: 'handoff', id: newId() })) {
      handoffWanted = true;
      connect();
    }
    updateStatus();
  }

  // ---------------------------------------------------------------- panel

  function open() {
    mount();
    panelOpen = true;
    panel.hidden = false;
    rootEl.classList.add('open');
    launcher.setAttribute('aria-expanded', 'true');
    markRead();
    connect();
    updateStatus();
    scrollDown();
    var coarse = window.matchMedia && window.matchMedia('(pointer: coarse)').matches;
    if (!coarse) {
      setTimeout(function () { try { input.focus(); } catch (e) { /* ignore */ } }, 0);
    }
  }

  function close() {
    panelOpen = false;
    panel.hidden = true;
    rootEl.classList.remove('open');
    launcher.setAttribute('aria-expanded', 'false');
    updateBadge();
  }

  function autosize() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px';
  }

  function updateComposer() {
    var n = charCount(input.value);
    sendBtn.classList.toggle('empty', !input.value.trim());
    if (n >= MAX_LEN - 100) {
      counter.hidden = false;
      counter.textContent = n + '/' + MAX_LEN;
      counter.classList.toggle('full', n >= MAX_LEN);
    } else {
      counter.hidden = true;
    }
  }

  function submit() {
    if (!input.value.trim()) return;
    if (send(input.value)) {
      input.value = '';
      autosize();
      updateComposer();
    }
    input.focus();
  }

  launcher.addEventListener('click', function () {
    if (panelOpen) close(); else open();
  });
  closeBtn.addEventListener('click', function () {
    close();
    launcher.focus();
  });
  panel.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      close();
      launcher.focus();
    }
  });
  handoffBtn.addEventListener('click', requestHandoff);
  leaveForm.addEventListener('submit', function (e) {
    e.preventDefault();
    submitLeave();
  });
  $('.leave-wait').addEventListener('click', hideLeave);
  leaveOpenBtn.addEventListener('click', showLeave);
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    submit();
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', function () {
    autosize();
    updateComposer();
  });
