package knowledge_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
	"github.com/kefu-im/kefu/knowledge"
	"github.com/rs/zerolog"
)

// TestWritePathsCheckContent sends a script or a javascript: link through every path
// that writes an article's content other than the editor's own save (TestBadInput): a
// shopper's question attached as an alternative question, an agent's proposal, a
// restore of a version stored before the check, and an import. Each is refused with
// unsafe_content, and nothing saved changes.
func TestWritePathsCheckContent(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	var keep article
	if code := e.call("ed", "POST", "/api/articles", map[string]any{
		"id": "keep", "title": "保留的文章", "category": "policy", "questions": []string{"原来的问法"}, "answer": "原来的回答",
	}, &keep); code != 201 {
		t.Fatalf("create: %d", code)
	}
	// A version that holds a script, as a store written before CheckContent existed
	// (or by another tool) may: version 2, then a clean version 3.
	bad := kb.Entry{Article: kb.Article{ID: "keep", Title: "保留的文章", Category: "policy", Answer: "<script>alert(1)</script>"}, Status: kb.StatusDraft}
	if _, err := e.store.Update(ctx, bad, 1, "old-tool", kb.ActionUpdate, 0); err != nil {
		t.Fatal(err)
	}
	clean := kb.Entry{Article: kb.Article{ID: "keep", Title: "保留的文章", Category: "policy", Questions: []string{"原来的问法"}, Answer: "原来的回答"}, Status: kb.StatusDraft}
	if _, err := e.store.Update(ctx, clean, 2, "erin", kb.ActionUpdate, 0); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, token, method, path string
		body                      any
	}{
		{"attach a script", "ed", "POST", "/api/unanswered/attach", map[string]any{"article": "keep", "version": 3, "question": "<script>alert(1)</script>"}},
		{"attach an event handler", "ed", "POST", "/api/unanswered/attach", map[string]any{"article": "keep", "version": 3, "question": `<img src=x onerror=alert(1)>`}},
		{"attach a javascript link", "ed", "POST", "/api/unanswered/attach", map[string]any{"article": "keep", "version": 3, "question": "[点我](javascript:alert(1))"}},
		{"propose a script", "agent", "POST", "/api/proposals", map[string]any{"title": "送货上楼吗", "questions": []string{"能送上楼吗"}, "answer": "可以<script>alert(1)</script>"}},
		{"propose a script question", "agent", "POST", "/api/proposals", map[string]any{"title": "送货上楼吗", "questions": []string{"<script>alert(1)</script>"}, "answer": "可以"}},
		{"propose a javascript link", "agent", "POST", "/api/proposals", map[string]any{"title": "送货上楼吗", "answer": "[详情](javascript:alert(1))"}},
		{"restore a version with a script", "ed", "POST", "/api/articles/keep/restore", map[string]int{"version": 2, "base": 3}},
		{"import a script", "ed", "POST", "/api/articles/import?name=a.jsonl", `{"id":"keep","title":"保留的文章","category":"policy","answer":"<script>alert(1)</script>"}` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got struct {
				apiErr
				Problems []knowledge.ImportProblem `json:"problems"`
				Applied  int                       `json:"applied"`
			}
			code := e.call(c.token, c.method, c.path, c.body, &got)
			if strings.Contains(c.path, "/import") {
				// An import reports the article as a problem and saves nothing.
				if code != 200 || got.Applied != 0 || len(got.Problems) != 1 || !strings.Contains(got.Problems[0].Message, "unsafe content") {
					t.Fatalf("status %d, %+v; want 200, nothing applied, one unsafe content problem", code, got)
				}
				return
			}
			if code != 400 || got.Error.Code != "unsafe_content" || got.Error.Message == "" {
				t.Fatalf("status %d, error %+v; want 400 unsafe_content", code, got.Error)
			}
		})
	}

	var got article
	e.call("ed", "GET", "/api/articles/keep", nil, &got)
	if got.Version != 3 || got.Answer != "原来的回答" || len(got.Questions) != 1 {
		t.Fatalf("after the refused writes: %+v, want version 3 unchanged", got)
	}
	var list struct{ Articles []listed }
	e.call("ed", "GET", "/api/articles?review=1", nil, &list)
	if len(list.Articles) != 0 {
		t.Fatalf("refused proposals were saved: %+v", list.Articles)
	}
	// A clean question still attaches.
	if code := e.call("ed", "POST", "/api/unanswered/attach", map[string]any{"article": "keep", "version": 3, "question": "还是原来那样吗"}, &got); code != 200 || got.Version != 4 {
		t.Fatalf("clean attach: %d %+v", code, got)
	}
}

// TestImportChecksContent calls Import with articles that did not come through
// ReadImport: one unsafe article stops the import before anything is saved.
func TestImportChecksContent(t *testing.T) {
	store := kbtest.Store(t)
	arts := []kb.Article{
		{ID: "fine", Title: "没问题", Category: "presale", Answer: "没问题的回答"},
		{ID: "evil", Title: "有问题", Category: "presale", Answer: "[x](javascript:alert(1))"},
	}
	_, n, err := knowledge.Import(context.Background(), store, arts, "", "t", false)
	if !strings.Contains(errString(err), "unsafe content") || n != 0 {
		t.Fatalf("Import = %d, %v; want 0 and unsafe content", n, err)
	}
	if es, _ := store.List(context.Background()); len(es) != 0 {
		t.Fatalf("Import saved %d articles", len(es))
	}
}

// TestSeedChecksContent refuses a seed (a KEFU_KNOWLEDGE directory) with a script.
func TestSeedChecksContent(t *testing.T) {
	idx, err := kb.New(kb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	acc, _ := newAccounts(t)
	_, err = knowledge.New(knowledge.Config{
		Store: kbtest.Store(t), Index: idx, Accounts: acc, SeedSource: "knowledge:/srv/kb",
		Seed:   []kb.Article{{ID: "evil", Title: "标题", Category: "presale", Answer: "<script>alert(1)</script>"}},
		NewBot: func(s bot.Searcher) (*bot.Bot, error) { return bot.New(bot.Config{Searcher: s}) },
		Logger: zerolog.Nop(),
	})
	if msg := errString(err); !strings.Contains(msg, `"evil"`) || !strings.Contains(msg, "unsafe content") || !strings.Contains(msg, "/srv/kb") {
		t.Fatalf("New with an unsafe seed = %v, want an error naming the article and the source", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
