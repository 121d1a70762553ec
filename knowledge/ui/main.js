/* Kefu 知识库 — wiring the page's controls, and the start. It is the editor's last
 * script: everything it names is defined by then. */
'use strict';

// ---------------------------------------------------------------------------
// Wiring

function wire() {
  $('login-form').addEventListener('submit', login.submit);
  $('logout-btn').addEventListener('click', doLogout);
  for (const v of ['articles', 'unanswered', 'transfer']) {
    $('nav-' + v).addEventListener('click', () => setView(v));
  }
  $('proposals-count').addEventListener('click', showProposals);

  $('article-search').addEventListener('input', loadListSoon);
  $('filter-tag').addEventListener('input', loadListSoon);
  for (const id of ['filter-category', 'filter-status', 'filter-review']) $(id).addEventListener('change', loadList);
  $('new-article-btn').addEventListener('click', () => newArticle());
  $('empty-new-btn').addEventListener('click', () => newArticle());

  $('editor-form').addEventListener('submit', (ev) => ev.preventDefault());
  $('editor-form').addEventListener('input', onFormInput);
  $('editor-form').addEventListener('change', onFormInput);
  $('art-answer').addEventListener('input', previewSoon);
  $('add-question-btn').addEventListener('click', () => {
    const rows = $('question-list').children;
    addQuestionRow('', rows[rows.length - 1]).focus();
  });
  $('save-draft-btn').addEventListener('click', () => save('draft'));
  $('publish-btn').addEventListener('click', () => save('published'));
  $('delete-btn').addEventListener('click', doDelete);
  $('reload-latest-btn').addEventListener('click', reloadLatest);
  $('conflict-close').addEventListener('click', () => show($('conflict-box'), false));
  $('tab-edit').addEventListener('click', () => showTab('edit'));
  $('tab-history').addEventListener('click', () => showTab('history'));

  $('tester-form').addEventListener('submit', ask);

  $('unanswered-refresh').addEventListener('click', () => loadUnanswered());
  wireModal('attach', closeAttach);
  $('attach-search').addEventListener('input', attachSearchSoon);
  $('attach-confirm').addEventListener('click', attachConfirm);

  $('export-status').addEventListener('change', updateExportLinks);
  $('import-file').addEventListener('change', onImportFile);
  $('import-status').addEventListener('change', () => {
    if (S.importFile) runImport(true);
  });
  $('import-confirm').addEventListener('click', () => runImport(false));

  $('confirm-ok').addEventListener('click', () => S.confirmDone && S.confirmDone(true));
  $('confirm-cancel').addEventListener('click', () => S.confirmDone && S.confirmDone(false));
  $('confirm-panel').addEventListener('mousedown', (ev) => {
    if (ev.target === $('confirm-panel') && S.confirmDone) S.confirmDone(false);
  });

  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      if (S.confirmDone) S.confirmDone(false);
      else if (!$('attach-panel').hidden) closeAttach();
      return;
    }
    if ((ev.ctrlKey || ev.metaKey) && (ev.key === 's' || ev.key === 'S')) {
      if (!S.cur || S.cur.deleted || $('app').hidden) return;
      ev.preventDefault();
      save(S.cur.art && S.cur.art.status === 'published' ? 'published' : 'draft');
    }
  });
  window.addEventListener('beforeunload', (ev) => {
    if (!isDirty()) return;
    ev.preventDefault();
    ev.returnValue = '';
  });
}

onReady(() => {
  wire();
  fillCategorySelects();
  login.boot();
});
