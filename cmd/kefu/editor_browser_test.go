package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/kefu-im/kefu/internal/browsertest"
)

// The article the editor writes in TestEditorBrowser: trade-in of an old phone, a topic
// the bundled knowledge does not cover.
const (
	tradeInID    = "trade-in-old-phone"
	tradeInTitle = "以旧换新：旧手机折价抵扣新机"
	// tradeInAsk is a shopper's paraphrase, none of the article's questions.
	tradeInAsk = "以旧换新怎么算钱"
	// tradeInAnswer is typed line by line; its bold and list show in the preview.
	tradeInAnswer = "可以的！本店支持**以旧换新**，旧手机估价后直接抵扣新机货款：\n\n" +
		"- 在商品页点击「以旧换新」，选择旧机型号和成色，系统会给出预估价\n" +
		"- 下单后快递员上门取旧机，免费包邮\n" +
		"- 旧机验机通过后，抵扣金额原路退回\n\n" +
		"估价以验机结果为准，屏幕碎裂或进水的机器会折价。"
	// tradeInSeen is plain text of the answer that the widget shows.
	tradeInSeen = "旧机验机通过后，抵扣金额原路退回"
	// tradeInEdited replaces the last line in the second version.
	tradeInOldLine = "估价以验机结果为准，屏幕碎裂或进水的机器会折价。"
	tradeInNewLine = "估价以验机结果为准；本月旧机额外加价 100 元。"
)

var tradeInQuestions = []string{"旧手机可以抵钱吗", "能以旧换新吗", "旧手机回收怎么算价格", "以旧换新怎么操作"}

type savedArticle struct {
	Version   int
	Status    string
	Answer    string
	Questions []string
}

// TestEditorBrowser drives the knowledge editor in a real browser as an editor (a user
// of role editor) would: write a draft with a live preview, check the bot tester,
// publish and see a shopper get the answer in the shop's widget, edit, read the diff
// and the fields changed, restore, be refused an answer with a script in it, review an
// agent's proposal from the proposals badge and see the chat it came from, and import a
// file after its dry run.
func TestEditorBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	b := browserSteps{t: t, shots: screenshotDir(t)}
	k := startKefu(t, "")
	// The admin adds an editor and an agent; the editor does the work.
	adminAdding(t, k,
		map[string]string{"username": "mei", "password": "editor-secret", "role": "editor", "group": "presale"},
		map[string]string{"username": "li.na", "password": "agent-secret", "role": "agent", "group": "presale"},
	)
	admin := login(t, k, "mei", "editor-secret") // the editor's API client, to check what the page saved

	// An agent proposes an article from a shopper's chat before the editor signs in.
	chat, _ := dialShopper(t, k, "")
	var proposal struct{ ID string }
	if code := login(t, k, "li.na", "agent-secret").do("POST", "/api/proposals", map[string]any{
		"title": "可以送货上楼吗", "questions": []string{"快递能送上楼吗"}, "answer": "大件商品请提前与快递员约好时间，一般可以送货上楼。",
		"conversation": chat.conv,
	}, &proposal); code != 201 {
		t.Fatalf("proposing: status %d", code)
	}

	// A page that opens a dialog (say an alert from an injected script) fails the test.
	dialogs := browsertest.Dialogs(t, tab)

	// 1. Sign in as the editor, see the proposal waiting, and write the article as a draft.
	b.do(tab, "signing in",
		signIn(k.url("/editor"), "mei", "editor-secret"),
		chromedp.WaitVisible(chromedp.ID("new-article-btn")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="article-item"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#me-role[data-role="editor"]`)),
		chromedp.WaitVisible(chromedp.ID("proposals-count")),
	)
	if n, err := chromedp.Run(b.within(tab), chromedp.Text(chromedp.ID("proposals-count"))); err != nil || n != "1" {
		t.Errorf("proposals badge = %q (%v), want 1", n, err)
	}
	if v, err := chromedp.Run(b.within(tab), chromedp.Evaluate[bool](`document.getElementById('index-banner').hidden`)); err != nil || !v {
		t.Errorf("the stale-index banner shows on a node that follows its store (%v)", err)
	}
	writeDraft := []chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.ID("new-article-btn")),
		chromedp.WaitVisible(chromedp.ID("art-title")),
		chromedp.SendKeys(chromedp.ID("art-title"), tradeInTitle),
		chromedp.SendKeys(chromedp.ID("art-id"), tradeInID),
		chromedp.SetValue(chromedp.ID("art-category"), "presale"),
	}
	for i, q := range tradeInQuestions {
		row := chromedp.CSS(`#question-list li:nth-child(` + strconv.Itoa(i+1) + `) input`)
		if i < len(tradeInQuestions)-1 {
			q += kb.Enter // Enter adds the next row
		}
		writeDraft = append(writeDraft, chromedp.SendKeys(row, q))
	}
	writeDraft = append(writeDraft,
		chromedp.SendKeys(chromedp.ID("art-answer"), tradeInAnswer),
		chromedp.SendKeys(chromedp.ID("art-tags"), "以旧换新, 手机"),
		chromedp.WaitVisible(chromedp.CSS(`#answer-preview strong`)),
		chromedp.WaitVisible(chromedp.CSS(`#answer-preview li`)),
		chromedp.Click(chromedp.ID("save-draft-btn")),
		chromedp.WaitVisible(chromedp.CSS(`#ed-status[data-status="draft"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#ed-version[data-version="1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#article-list [data-id="`+tradeInID+`"]`)),
	)
	b.do(tab, "writing the draft", writeDraft...)
	strong, err := chromedp.Run(b.within(tab), chromedp.Text(chromedp.CSS(`#answer-preview strong`)))
	if err != nil || strong != "以旧换新" {
		t.Errorf("preview's bold = %q (%v), want 以旧换新", strong, err)
	}
	var saved savedArticle
	if code := admin.do("GET", "/api/articles/"+tradeInID, nil, &saved); code != 200 ||
		saved.Status != "draft" || saved.Version != 1 || len(saved.Questions) != len(tradeInQuestions) || saved.Answer != tradeInAnswer {
		t.Fatalf("saved draft = %d %+v, want version 1, draft, %d questions, the answer typed", code, saved, len(tradeInQuestions))
	}
	b.screenshot(tab, "editor-1-draft.png")

	// 2. The tester: with the draft the bot answers with it; published, it does not.
	b.do(tab, "asking the tester",
		chromedp.SendKeys(chromedp.ID("tester-input"), tradeInAsk),
		chromedp.Click(chromedp.ID("tester-ask")),
		chromedp.WaitVisible(chromedp.CSS(`#tester-draft[data-action] [data-testid="tester-action"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tester-published[data-action] [data-testid="tester-action"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tester-draft [data-testid="tester-hit"]`)),
	)
	if a, art := b.attr(tab, "#tester-draft", "data-action"), b.attr(tab, "#tester-draft", "data-article"); a != "answer" || art != tradeInID {
		t.Errorf("with the draft the bot would %s with %q, want answer with %s", a, art, tradeInID)
	}
	if a, art := b.attr(tab, "#tester-published", "data-action"), b.attr(tab, "#tester-published", "data-article"); a == "answer" && art == tradeInID {
		t.Errorf("the published knowledge already answers with the draft")
	}
	b.screenshot(tab, "editor-2-tester.png")

	// 3. Publish; a shopper asks in the shop's widget and gets the answer.
	b.do(tab, "publishing",
		chromedp.Click(chromedp.ID("publish-btn")),
		chromedp.WaitVisible(chromedp.CSS(`#ed-status[data-status="published"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#ed-version[data-version="2"]`)),
	)
	waitBotAnswers(t, admin, tradeInAsk, tradeInID)
	shop := b.newTab(tab)
	b.do(shop, "asking in the shop's widget",
		askInWidget(k.url("/"), tradeInAsk),
		chromedp.Poll[chromedp.Void](`[...(document.querySelector("kefu-widget")?.shadowRoot?.querySelectorAll('[data-testid="kefu-msg"][data-from="bot"]') || [])]
			.some(m => m.textContent.includes(`+quoteJS(tradeInSeen)+`))`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	b.screenshot(shop, "shop-widget-answer.png")
	b.front(tab)

	// 4. Edit the answer, read the diff, restore the published version.
	edited := strings.Replace(tradeInAnswer, tradeInOldLine, tradeInNewLine, 1)
	b.do(tab, "editing the answer",
		selectAll("art-answer"),
		chromedp.SendKeys(chromedp.ID("art-answer"), edited),
		chromedp.WaitVisible(chromedp.ID("ed-dirty")),
		chromedp.Click(chromedp.ID("publish-btn")),
		chromedp.WaitVisible(chromedp.CSS(`#ed-version[data-version="3"]`)),
		chromedp.Click(chromedp.ID("tab-history")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="history-item"][data-version="3"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#history-detail[data-version="3"] .diff-line.op-add`)),
	)
	for v, want := range map[string]string{"3": "answer", "2": "status"} {
		if f := b.attr(tab, `[data-testid="history-item"][data-version="`+v+`"] [data-testid="history-fields"]`, "data-fields"); f != want {
			t.Errorf("history of version %s names the fields %q, want %q", v, f, want)
		}
	}
	type diffLine struct{ Op, Text string }
	diff, err := chromedp.Run(b.within(tab), chromedp.Evaluate[[]diffLine](
		`[...document.querySelectorAll('#history-detail .diff-line')].map(e => ({op: e.dataset.op, text: e.textContent}))`))
	if err != nil {
		t.Fatal(err)
	}
	var added, removed bool
	for _, l := range diff {
		added = added || (l.Op == "add" && strings.Contains(l.Text, tradeInNewLine))
		removed = removed || (l.Op == "del" && strings.Contains(l.Text, tradeInOldLine))
	}
	if !added || !removed {
		t.Errorf("diff of version 3 = %+v, want %q removed and %q added", diff, tradeInOldLine, tradeInNewLine)
	}
	b.do(tab, "restoring version 2",
		chromedp.Click(chromedp.CSS(`[data-testid="history-item"][data-version="2"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#restore-btn[data-version="2"]`)),
		chromedp.Click(chromedp.ID("restore-btn")),
		chromedp.WaitVisible(chromedp.ID("confirm-ok")),
		chromedp.Click(chromedp.ID("confirm-ok")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="history-item"][data-version="4"][data-action="restore"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#ed-version[data-version="4"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#history-detail[data-version="4"] .diff-line.op-add`)),
	)
	if v, err := chromedp.Run(b.within(tab), chromedp.Value(chromedp.ID("art-answer"))); err != nil || v != tradeInAnswer {
		t.Errorf("the form's answer after the restore = %q (%v), want the published one", v, err)
	}
	saved = savedArticle{}
	if code := admin.do("GET", "/api/articles/"+tradeInID, nil, &saved); code != 200 || saved.Version != 4 || saved.Answer != tradeInAnswer || saved.Status != "published" {
		t.Fatalf("restored article = %d %+v, want version 4 with the answer of version 2", code, saved)
	}
	b.screenshot(tab, "editor-4-history.png")

	// 5. An answer with a script is refused, and nothing is saved.
	b.do(tab, "saving a script",
		chromedp.Click(chromedp.ID("tab-edit")),
		chromedp.WaitVisible(chromedp.ID("art-answer")),
		selectAll("art-answer"),
		chromedp.SendKeys(chromedp.ID("art-answer"), `<script>alert(1)</script>`),
		chromedp.WaitVisible(chromedp.ID("preview-problem")),
		chromedp.Click(chromedp.ID("publish-btn")),
		chromedp.WaitVisible(chromedp.CSS(`#editor-error[data-code="unsafe_content"]`)),
	)
	saved = savedArticle{}
	if admin.do("GET", "/api/articles/"+tradeInID, nil, &saved); saved.Version != 4 || saved.Answer != tradeInAnswer {
		t.Errorf("after the refused save the article = %+v, want version 4 unchanged", saved)
	}
	if d := dialogs(); len(d) > 0 {
		t.Errorf("the page opened dialogs %q", d)
	}

	// 6. The proposals badge lists the agent's proposal, which names its chat.
	item := `#article-list [data-id="` + proposal.ID + `"]`
	b.do(tab, "reviewing the proposal",
		chromedp.Click(chromedp.ID("proposals-count")),
		chromedp.WaitVisible(chromedp.CSS(item)),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#article-list [data-testid="article-item"]').length === 1`, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.Click(chromedp.CSS(item)),
		// The refused answer is still in the form: the editor discards it.
		chromedp.WaitVisible(chromedp.ID("confirm-ok")),
		chromedp.Click(chromedp.ID("confirm-ok")),
		chromedp.WaitVisible(chromedp.ID("ed-source")),
		chromedp.WaitVisible(chromedp.CSS(`#ed-review`)),
	)
	if text, err := chromedp.Run(b.within(tab), chromedp.Text(chromedp.ID("ed-source-link"))); err != nil || text != chat.conv {
		t.Errorf("the proposal's source = %q (%v), want the chat %s", text, err, chat.conv)
	}
	if href := b.attr(tab, "#ed-source-link", "href"); href != "/console#c="+chat.conv {
		t.Errorf("the proposal's source links to %q, want the chat in the console", href)
	}
	b.screenshot(tab, "editor-5-proposal.png")

	// 7. Import a JSON Lines file: the dry run's plan first, then the import.
	jsonl := filepath.Join(t.TempDir(), "sync.jsonl")
	if err := os.WriteFile(jsonl, []byte(`{"id":"gift-wrap","title":"可以礼品包装吗","category":"presale","questions":["能包装成礼物吗"],"answer":"可以的，下单时勾选「礼品包装」。"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(tab, "importing a file",
		chromedp.Click(chromedp.ID("nav-transfer")),
		chromedp.WaitVisible(chromedp.ID("import-file")),
		chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{jsonl}),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="plan-create"]`)),
		chromedp.WaitVisible(chromedp.ID("import-confirm")),
	)
	if plan, err := chromedp.Run(b.within(tab), chromedp.Text(chromedp.CSS(`[data-testid="plan-create"]`))); err != nil || !strings.Contains(plan, "gift-wrap") {
		t.Errorf("the dry run's plan = %q (%v), want gift-wrap created", plan, err)
	}
	if code := admin.do("GET", "/api/articles/gift-wrap", nil, nil); code != 404 {
		t.Fatalf("the dry run saved the article: status %d", code)
	}
	b.screenshot(tab, "editor-6-import-plan.png")
	b.do(tab, "confirming the import",
		chromedp.Click(chromedp.ID("import-confirm")),
		chromedp.WaitVisible(chromedp.ID("import-result")),
	)
	saved = savedArticle{}
	if code := admin.do("GET", "/api/articles/gift-wrap", nil, &saved); code != 200 || saved.Status != "published" || saved.Version != 1 {
		t.Fatalf("imported article = %d %+v, want published at version 1", code, saved)
	}

	// An agent may sign in but not edit: the page says so.
	other := b.newTab(tab, chromedp.WithNewBrowserContext()) // its own cookies
	b.do(other, "signing in as an agent",
		signIn(k.url("/editor"), "li.na", "agent-secret"),
		chromedp.WaitVisible(chromedp.ID("role-denied")),
		chromedp.WaitNotVisible(chromedp.ID("view-articles")),
	)
	// Signing out ends the session: a reload asks to sign in again.
	b.do(other, "signing out",
		chromedp.Click(chromedp.ID("logout-btn")),
		chromedp.WaitVisible(chromedp.ID("login-username")),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("login-username")),
		chromedp.WaitNotVisible(chromedp.ID("app")),
	)
}

// waitBotAnswers polls the tester's published column until the bot answers text with
// article id: a published change reaches the index within a second.
func waitBotAnswers(t *testing.T, a *agent, text, id string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out struct {
			Published struct {
				Action  string
				Article *struct{ ID string }
			}
		}
		a.do("POST", "/api/editor/ask", map[string]string{"text": text}, &out)
		d := out.Published
		if d.Action == "answer" && d.Article != nil && d.Article.ID == id {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the published knowledge does not answer %q with %s: %+v", text, id, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
