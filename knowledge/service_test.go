package knowledge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/webtest"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
	"github.com/kefu-im/kefu/knowledge"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

// testUsers are the users of the tests, by the short token a test sends for them
// (env.call swaps it for the user's session token).
var testUsers = map[string]struct {
	name string
	role account.Role
}{
	"ed":    {"erin", account.RoleEditor},
	"admin": {"root", account.RoleAdmin},
	"agent": {"bob", account.RoleAgent},
	"lead":  {"lena", account.RoleLead},
}

// newAccounts returns the accounts of the tests on a fresh embedded database, with the
// session token of each of testUsers by its short token.
func newAccounts(t *testing.T) (*account.Service, map[string]string) {
	t.Helper()
	ctx := context.Background()
	st, err := account.NewBoltStore(account.BoltConfig{DB: bolttest.Open(t)})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := account.New(account.Config{Store: st, Groups: []string{"presale", "aftersale"}, PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	sessions := make(map[string]string)
	for short, u := range testUsers {
		if _, err := acc.AddUser(ctx, u.name, "kefu-test-pass", u.role, "presale"); err != nil {
			t.Fatal(err)
		}
		if sessions[short], _, err = acc.Login(ctx, u.name, "kefu-test-pass"); err != nil {
			t.Fatal(err)
		}
	}
	return acc, sessions
}

// env is a Service on an embedded store with its API served, following its feed.
type env struct {
	t     *testing.T
	store *kb.BoltStore
	index *kb.Index
	svc   *knowledge.Service
	api   webtest.Client // calls the API's server
	// sessions are the session tokens of testUsers, by their short tokens.
	sessions map[string]string
}

func newEnv(t *testing.T, seed []kb.Article) *env { t.Helper(); return newEnvWith(t, seed, nil) }

// newEnvWith is newEnv with the Service's store wrapped by wrap, when it is not nil: a
// store that fails on cue.
func newEnvWith(t *testing.T, seed []kb.Article, wrap func(*kb.BoltStore) kb.Store) *env {
	t.Helper()
	store := kbtest.Store(t)
	var svcStore kb.Store = store
	if wrap != nil {
		svcStore = wrap(store)
	}
	idx := kbtest.Index(t)
	acc, sessions := newAccounts(t)
	svc, err := knowledge.New(knowledge.Config{
		Store: svcStore, Index: idx, Accounts: acc, Seed: seed, Poll: 50 * time.Millisecond,
		NewBot: func(s bot.Searcher) (*bot.Bot, error) { return bot.New(bot.Config{Searcher: s}) },
		Logger: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	mux := http.NewServeMux()
	svc.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, store: store, index: idx, svc: svc, api: webtest.Client{URL: srv.URL}, sessions: sessions}
}

// session returns the session token of a short token of testUsers, and any other token
// as it is.
func (e *env) session(token string) string {
	if s, ok := e.sessions[token]; ok {
		return s
	}
	return token
}

// call sends a request as the user of token and decodes the JSON answer into out.
func (e *env) call(token, method, path string, body any, out any) int {
	e.t.Helper()
	status, data := e.api.Call(e.t, method, path, e.session(token), body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: decoding %q: %v", method, path, data, err)
		}
	}
	return status
}

// article is the API's article, as far as the tests look.
type article struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Category  string   `json:"category"`
	Questions []string `json:"questions"`
	Answer    string   `json:"answer"`
	Status    string   `json:"status"`
	Review    bool     `json:"review"`
	Version   int      `json:"version"`
	UpdatedBy string   `json:"updated_by"`
	HTML      string   `json:"html"`
}

// listed is an article in a list.
type listed struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	Status   string `json:"status"`
	Review   bool   `json:"review"`
}

type apiErr struct {
	Error struct{ Code, Message string } `json:"error"`
}

var tradeIn = map[string]any{
	"title": "旧手机可以以旧换新吗", "category": "presale",
	"questions": []string{"以旧换新怎么弄", "旧手机能抵钱吗", "旧机回收折多少钱"},
	"answer":    "可以的，本店支持**以旧换新**：\n\n- 下单时选择「以旧换新」\n- 旧机评估后抵扣货款",
	"tags":      []string{"以旧换新"}, "status": "draft",
}

// waitIndexed waits until the index holds (want) or does not hold the article.
func (e *env) waitIndexed(id string, want bool) {
	e.t.Helper()
	timetest.Poll(e.t, 5*time.Second, fmt.Sprintf("article %q indexed = %v", id, want), func() bool {
		_, err := e.index.Article(id)
		return (err == nil) == want
	})
}

func TestArticleLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	var a article
	if code := e.call("ed", "POST", "/api/articles", tradeIn, &a); code != 201 {
		t.Fatalf("create: status %d", code)
	}
	if a.ID == "" || a.Version != 1 || a.Status != "draft" || a.UpdatedBy != "erin" || !strings.Contains(a.HTML, "<strong>以旧换新</strong>") {
		t.Fatalf("created %+v", a)
	}
	// A draft is not searchable; publishing makes it so, on the follower's own.
	e.waitIndexed(a.ID, false)
	pub := map[string]any{}
	for k, v := range tradeIn {
		pub[k] = v
	}
	pub["status"], pub["version"] = "published", 1
	var b article
	if code := e.call("ed", "PUT", "/api/articles/"+a.ID, pub, &b); code != 200 || b.Version != 2 {
		t.Fatalf("publish: status %d, %+v", code, b)
	}
	e.waitIndexed(a.ID, true)

	// A second save of version 1 is a conflict, carrying the latest, and saves nothing.
	pub["answer"] = "被覆盖的回答"
	var conflict struct {
		apiErr
		Latest article `json:"latest"`
	}
	if code := e.call("admin", "PUT", "/api/articles/"+a.ID, pub, &conflict); code != 409 || conflict.Error.Code != "conflict" || conflict.Latest.Version != 2 {
		t.Fatalf("stale save: status %d, %+v", code, conflict)
	}
	var got article
	e.call("ed", "GET", "/api/articles/"+a.ID, nil, &got)
	if got.Version != 2 || strings.Contains(got.Answer, "覆盖") {
		t.Fatalf("after the conflict: %+v", got)
	}

	// Edit, then restore version 2: a new version with the old answer.
	pub["version"], pub["answer"] = 2, "新的回答：请到门店办理以旧换新。"
	if code := e.call("ed", "PUT", "/api/articles/"+a.ID, pub, &b); code != 200 || b.Version != 3 {
		t.Fatalf("edit: %d %+v", code, b)
	}
	var diff struct {
		Diff []struct{ Op, Text string } `json:"diff"`
	}
	if code := e.call("ed", "GET", "/api/articles/"+a.ID+"/versions/3", nil, &diff); code != 200 {
		t.Fatalf("version 3: %d", code)
	}
	var plus, minus bool
	for _, l := range diff.Diff {
		plus = plus || (l.Op == "+" && strings.Contains(l.Text, "门店"))
		minus = minus || (l.Op == "-" && strings.Contains(l.Text, "以旧换新"))
	}
	if !plus || !minus {
		t.Fatalf("diff of version 3 = %+v", diff.Diff)
	}
	if code := e.call("ed", "POST", "/api/articles/"+a.ID+"/restore", map[string]int{"version": 2, "base": 3}, &b); code != 200 || b.Version != 4 || b.Answer != tradeIn["answer"] {
		t.Fatalf("restore: %d %+v", code, b)
	}
	var hist struct {
		Versions []struct {
			Version      int    `json:"version"`
			Action       string `json:"action"`
			By           string `json:"by"`
			RestoredFrom int    `json:"restored_from"`
		} `json:"versions"`
	}
	e.call("ed", "GET", "/api/articles/"+a.ID+"/versions", nil, &hist)
	if len(hist.Versions) != 4 || hist.Versions[0].Action != "restore" || hist.Versions[0].RestoredFrom != 2 || hist.Versions[3].Action != "create" {
		t.Fatalf("history = %+v", hist.Versions)
	}

	// Delete with a stale version is refused; with the latest, the article leaves the
	// index and its history stays.
	if code := e.call("ed", "DELETE", "/api/articles/"+a.ID+"?version=3", nil, nil); code != 409 {
		t.Fatalf("stale delete: %d", code)
	}
	if code := e.call("ed", "DELETE", "/api/articles/"+a.ID+"?version=4", nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	e.waitIndexed(a.ID, false)
	if code := e.call("ed", "GET", "/api/articles/"+a.ID, nil, nil); code != 404 {
		t.Fatalf("get deleted: %d", code)
	}
	e.call("ed", "GET", "/api/articles/"+a.ID+"/versions", nil, &hist)
	if len(hist.Versions) != 5 || hist.Versions[0].Action != "delete" {
		t.Fatalf("history after delete = %+v", hist.Versions)
	}
	// A deleted article comes back by restoring a version.
	if code := e.call("ed", "POST", "/api/articles/"+a.ID+"/restore", map[string]int{"version": 4}, &b); code != 200 || b.Version != 6 || b.Status != "published" {
		t.Fatalf("restore deleted: %d %+v", code, b)
	}
	e.waitIndexed(a.ID, true)
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, nil)
	var a article
	if code := e.call("ed", "POST", "/api/articles", map[string]any{"id": "keep", "title": "保留的文章", "category": "policy", "answer": "原来的回答"}, &a); code != 201 {
		t.Fatalf("create: %d", code)
	}
	huge := strings.Repeat("很长的回答。", 5<<20/18)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"empty title", "POST", "/api/articles", map[string]any{"title": " ", "category": "presale", "answer": "x"}, 400, "invalid"},
		{"empty answer", "POST", "/api/articles", map[string]any{"title": "标题", "category": "presale", "answer": ""}, 400, "invalid"},
		{"unknown category", "POST", "/api/articles", map[string]any{"title": "标题", "category": "holiday", "answer": "x"}, 400, "invalid"},
		{"unknown status", "POST", "/api/articles", map[string]any{"title": "标题", "category": "presale", "answer": "x", "status": "live"}, 400, "invalid"},
		{"duplicate id", "POST", "/api/articles", map[string]any{"id": "keep", "title": "标题", "category": "presale", "answer": "x"}, 409, "exists"},
		{"script", "POST", "/api/articles", map[string]any{"title": "标题", "category": "presale", "answer": "你好<script>alert(1)</script>"}, 400, "unsafe_content"},
		{"javascript link", "POST", "/api/articles", map[string]any{"title": "标题", "category": "presale", "answer": "[点我](javascript:alert(1))"}, 400, "unsafe_content"},
		{"5 MB body", "POST", "/api/articles", map[string]any{"title": "标题", "category": "presale", "answer": huge}, 413, "too_large"},
		{"malformed JSON", "POST", "/api/articles", `{"title": "标题",`, 400, "bad_json"},
		{"unknown field", "POST", "/api/articles", `{"titel": "标题"}`, 400, "bad_json"},
		{"script in an edit", "PUT", "/api/articles/keep", map[string]any{"version": 1, "title": "保留的文章", "category": "policy", "answer": "<img src=x onerror=alert(1)>"}, 400, "unsafe_content"},
		{"edit without version", "PUT", "/api/articles/keep", map[string]any{"title": "保留的文章", "category": "policy", "answer": "新"}, 400, "invalid"},
		{"edit of unknown id", "PUT", "/api/articles/nope", map[string]any{"version": 1, "title": "标题", "category": "policy", "answer": "新"}, 404, "not_found"},
		{"restore of a missing version", "POST", "/api/articles/keep/restore", map[string]int{"version": 9, "base": 1}, 404, "not_found"},
		{"restore of unknown article", "POST", "/api/articles/nope/restore", map[string]int{"version": 1, "base": 1}, 404, "not_found"},
		{"version of unknown article", "GET", "/api/articles/nope/versions", nil, 404, "not_found"},
		{"delete without version", "DELETE", "/api/articles/keep", nil, 400, "invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got apiErr
			if code := e.call("ed", c.method, c.path, c.body, &got); code != c.status || got.Error.Code != c.code || got.Error.Message == "" {
				t.Errorf("status %d, error %+v; want %d %s", code, got.Error, c.status, c.code)
			}
		})
	}
	// Nothing already saved was lost.
	var got article
	e.call("ed", "GET", "/api/articles/keep", nil, &got)
	if got.Version != 1 || got.Answer != "原来的回答" || got.Title != "保留的文章" {
		t.Fatalf("after the bad input: %+v", got)
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t, nil)
	if code := e.call("", "GET", "/api/articles", nil, nil); code != 401 {
		t.Errorf("anonymous list: %d", code)
	}
	if code := e.call("agent", "POST", "/api/articles", tradeIn, nil); code != 403 {
		t.Errorf("agent create: %d", code)
	}
	// An agent may propose an article from a chat: a draft flagged for review.
	var p article
	if code := e.call("agent", "POST", "/api/proposals", map[string]any{"title": "能不能送货上楼", "questions": []string{"快递能送上楼吗"}, "answer": "快递员一般送货上门，大件商品请提前与快递员沟通。"}, &p); code != 201 {
		t.Fatalf("propose: %d", code)
	}
	if !p.Review || p.Status != "draft" || p.Category != "presale" || p.UpdatedBy != "bob" {
		t.Fatalf("proposal = %+v", p)
	}
	var list struct{ Articles []listed }
	e.call("ed", "GET", "/api/articles?review=1", nil, &list)
	if len(list.Articles) != 1 || list.Articles[0].ID != p.ID {
		t.Fatalf("proposals = %+v", list.Articles)
	}
}

func TestSeedAndSearchList(t *testing.T) {
	e := newEnv(t, bundled(t))
	var list struct{ Articles []listed }
	if code := e.call("ed", "GET", "/api/articles", nil, &list); code != 200 || len(list.Articles) != len(bundled(t)) {
		t.Fatalf("list: %d, %d articles", code, len(list.Articles))
	}
	e.call("ed", "GET", "/api/articles?q=能开发票吗&category=presale", nil, &list)
	if len(list.Articles) == 0 || !strings.HasPrefix(list.Articles[0].ID, "invoice") {
		t.Fatalf("search 能开发票吗 = %+v", list.Articles)
	}
	for _, a := range list.Articles {
		if a.Category != "presale" {
			t.Fatalf("category filter let %+v through", a)
		}
	}
	// The bundled articles are imported once: an editor's deletion stands.
	first := bundled(t)[0]
	cur, err := e.store.Get(context.Background(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Delete(context.Background(), first.ID, cur.Version, "erin"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Get(context.Background(), first.ID); !errors.Is(err, kb.ErrNotFound) {
		t.Fatalf("deleted bundled article came back: %v", err)
	}
}

func TestTester(t *testing.T) {
	e := newEnv(t, bundled(t))
	draft := map[string]any{}
	for k, v := range tradeIn {
		draft[k] = v
	}
	var out struct {
		Published bot.Decision  `json:"published"`
		Draft     *bot.Decision `json:"draft"`
	}
	if code := e.call("ed", "POST", "/api/editor/ask", map[string]any{"text": "旧手机能不能抵钱", "draft": draft}, &out); code != 200 {
		t.Fatalf("ask: %d", code)
	}
	if out.Draft == nil || out.Draft.Article == nil || out.Draft.Article.Title != tradeIn["title"] || len(out.Draft.Hits) == 0 {
		t.Fatalf("draft decision = %+v", out.Draft)
	}
	if out.Published.Article != nil && out.Published.Article.Title == tradeIn["title"] {
		t.Fatalf("published decision knows the draft: %+v", out.Published)
	}
	var bad apiErr
	if code := e.call("ed", "POST", "/api/editor/ask", map[string]any{"text": " "}, &bad); code != 400 {
		t.Fatalf("empty question: %d", code)
	}
}

func TestUnanswered(t *testing.T) {
	e := newEnv(t, bundled(t))
	b, err := bot.New(bot.Config{Searcher: e.index})
	if err != nil {
		t.Fatal(err)
	}
	d := e.svc.Watch(b)
	ctx := context.Background()
	asked := []string{"你们支持以旧换新吗", "以旧换新怎么弄", "支持以旧换新吗？", "今天天气怎么样", "可以开发票吗"}
	for _, q := range asked {
		if _, err := d.Decide(ctx, bot.Input{Text: q}); err != nil {
			t.Fatal(err)
		}
	}
	type group struct {
		Text  string `json:"text"`
		Count int    `json:"count"`
		Items []struct {
			ID     string `json:"id"`
			Reason string `json:"reason"`
		} `json:"items"`
	}
	var out struct {
		Groups []group `json:"groups"`
		Total  int     `json:"total"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.call("ed", "GET", "/api/unanswered", nil, &out)
		if out.Total >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The invoice question is answered, so not recorded; the three trade-in questions
	// are one group, the weather another.
	if out.Total != 4 || len(out.Groups) != 2 {
		t.Fatalf("unanswered = %+v", out)
	}
	var trade group
	for _, g := range out.Groups {
		if strings.Contains(g.Text, "以旧换新") {
			trade = g
		}
	}
	if trade.Count != 3 {
		t.Fatalf("trade-in group = %+v", trade)
	}
	// Answer it with a new article, which dismisses the group.
	var ids []string
	for _, it := range trade.Items {
		ids = append(ids, it.ID)
	}
	art := map[string]any{}
	for k, v := range tradeIn {
		art[k] = v
	}
	art["unanswered"] = ids
	if code := e.call("ed", "POST", "/api/articles", art, nil); code != 201 {
		t.Fatalf("create: %d", code)
	}
	e.call("ed", "GET", "/api/unanswered", nil, &out)
	if out.Total != 1 || len(out.Groups) != 1 || strings.Contains(out.Groups[0].Text, "以旧换新") {
		t.Fatalf("after answering: %+v", out)
	}
	// Add the weather question to an article, then nothing is left.
	var inv article
	e.call("ed", "GET", "/api/articles/invoice-available", nil, &inv)
	var got article
	if code := e.call("ed", "POST", "/api/unanswered/attach", map[string]any{
		"ids": []string{out.Groups[0].Items[0].ID}, "article": "invoice-available", "version": inv.Version, "question": "天气发票",
	}, &got); code != 200 || got.Version != inv.Version+1 || got.Questions[len(got.Questions)-1] != "天气发票" {
		t.Fatalf("attach: %d %+v", code, got)
	}
	e.call("ed", "GET", "/api/unanswered", nil, &out)
	if out.Total != 0 {
		t.Fatalf("after attaching: %+v", out)
	}
}
