package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// botAsk is what /api/bot/ask answers, as far as these tests look.
type botAsk struct {
	Action  string `json:"action"`
	Text    string `json:"text"`
	Article *struct {
		ID string `json:"id"`
	} `json:"article"`
}

// answers reports whether the node's bot answers text with article id.
func answers(a *agent, text, id string) bool {
	var d botAsk
	a.do("POST", "/api/bot/ask", map[string]string{"text": text}, &d)
	return d.Action == "answer" && d.Article != nil && d.Article.ID == id
}

// waitAnswers polls until the node's bot answers text with article id (or, with want
// false, stops doing so) and returns how long that took.
func waitAnswers(t *testing.T, a *agent, text, id string, want bool, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for answers(a, text, id) != want {
		if time.Since(start) > within {
			var d map[string]any
			a.do("POST", "/api/bot/ask", map[string]string{"text": text}, &d)
			t.Logf("last decision: %v", d)
			t.Fatalf("node %s: answers %q with %s = %v after %v, want %v", a.p.addr, text, id, !want, within, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

var tradeInArticle = map[string]any{
	"id": "trade-in", "title": "旧手机可以以旧换新吗？", "category": "presale",
	"questions": []string{"以旧换新怎么弄", "旧手机能抵钱吗", "旧机回收能折多少钱", "支持以旧换新不"},
	"answer":    "支持的亲，下单时选择「以旧换新」，旧机寄回评估后按评估价抵扣货款。",
	"tags":      []string{"以旧换新"}, "status": "published",
}

// TestKnowledgeTwoNodes publishes an article on one node and asks the other: each node
// keeps its own index and follows the change feed in Redis.
func TestKnowledgeTwoNodes(t *testing.T) {
	t.Parallel() // waits mostly on servers and timers: it overlaps the rest
	rs, env := redisEnv(t)
	nodeA := startKefu(t, "", env...)
	// Node B keeps its data directory across its restart below: it finds its index on
	// disk, of articles that changed meanwhile.
	envB := append(slices.Clip(env), "KEFU_DATA_DIR="+t.TempDir())
	nodeB := startKefu(t, "", envB...)
	addUser(t, env, "erin", "editor", "presale", "erin-secret")
	edA := login(t, nodeA, "erin", "erin-secret")
	onB := &agent{t: t, p: nodeB, token: edA.token}
	const question = "旧手机可以抵钱吗？"

	// Both nodes seeded the bundled articles once between them.
	var list struct{ Articles []struct{ ID string } }
	if code := edA.do("GET", "/api/articles", nil, &list); code != 200 || len(list.Articles) < 100 {
		t.Fatalf("articles: status %d, %d", code, len(list.Articles))
	}
	if answers(onB, question, "trade-in") {
		t.Fatal("node B answers with an article that does not exist yet")
	}

	var saved struct{ Version int }
	if code := edA.do("POST", "/api/articles", tradeInArticle, &saved); code != 201 {
		t.Fatalf("publish on node A: status %d", code)
	}
	took := waitAnswers(t, onB, question, "trade-in", true, time.Second)
	t.Logf("published on node A, answered on node B after %v", took)

	// Back to draft on node B: node A stops answering with it.
	draft := map[string]any{}
	for k, v := range tradeInArticle {
		draft[k] = v
	}
	draft["status"], draft["version"] = "draft", saved.Version
	if code := onB.do("PUT", "/api/articles/trade-in", draft, &saved); code != 200 {
		t.Fatalf("unpublish on node B: status %d", code)
	}
	waitAnswers(t, edA, question, "trade-in", false, time.Second)

	// A node that was down catches up when it starts; one that lost Redis for a while
	// catches up when it is back.
	nodeB.stop()
	pub := map[string]any{}
	for k, v := range tradeInArticle {
		pub[k] = v
	}
	pub["version"] = saved.Version
	if code := edA.do("PUT", "/api/articles/trade-in", pub, &saved); code != 200 {
		t.Fatalf("publish again on node A: status %d", code)
	}
	nodeB = startKefu(t, nodeB.addr, envB...)
	onB = &agent{t: t, p: nodeB, token: edA.token}
	waitAnswers(t, onB, question, "trade-in", true, 5*time.Second)

	// Without Redis the node cannot follow the feed, and says so rather than serve a
	// stale index silently; with Redis back, it says it follows again.
	rs.Stop()
	waitNodeState(t, nodeB, 503, "1", 10*time.Second)
	rs.Restart()
	waitNodeState(t, nodeB, 200, "0", 10*time.Second)
	draft["version"] = saved.Version
	deadline := time.Now().Add(10 * time.Second)
	for edA.do("PUT", "/api/articles/trade-in", draft, &saved) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("node A cannot save after the Redis restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitAnswers(t, onB, question, "trade-in", false, 10*time.Second)
}

// nodeState reads the node's /readyz status and the value of its
// kefu_knowledge_index_stale metric ("" when it cannot be read).
func nodeState(p *proc) (ready int, stale string) {
	resp, err := http.Get(p.url("/readyz"))
	if err == nil {
		ready = resp.StatusCode
		resp.Body.Close()
	}
	resp, err = http.Get(p.url("/metrics"))
	if err != nil {
		return ready, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "kefu_knowledge_index_stale "); ok {
			stale = v
		}
	}
	return ready, stale
}

// waitNodeState polls until the node's /readyz answers ready and its stale metric is
// stale.
func waitNodeState(t *testing.T, p *proc, ready int, stale string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r, s := nodeState(p)
		if r == ready && s == stale {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s: /readyz %d and kefu_knowledge_index_stale %q after %v, want %d and %s", p.addr, r, s, within, ready, stale)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKnowledgeEmbeddedRestart publishes an article on a node without Redis and starts
// it again on the same data directory: the article is still answered, from the index
// the node kept on disk.
func TestKnowledgeEmbeddedRestart(t *testing.T) {
	env := []string{"KEFU_DATA_DIR=" + t.TempDir()}
	k := startKefu(t, "", env...)
	ed := login(t, k, "admin", k.adminPassword())
	if code := ed.do("POST", "/api/articles", tradeInArticle, nil); code != 201 {
		t.Fatalf("publish: status %d", code)
	}
	const question = "旧手机可以抵钱吗？"
	waitAnswers(t, ed, question, "trade-in", true, 5*time.Second)
	if reusedIndex(t, k) {
		t.Error("the first start reused an index")
	}
	k.stop()

	k = startKefu(t, k.addr, env...)
	waitAnswers(t, &agent{t: t, p: k}, question, "trade-in", true, 5*time.Second)
	if !reusedIndex(t, k) {
		t.Errorf("the restart built the index again instead of reusing it:\n%s", k.logText())
	}
}

// reusedIndex reports whether the node logged that it built its index by reusing the
// one on disk.
func reusedIndex(t *testing.T, p *proc) bool {
	t.Helper()
	for _, line := range strings.Split(p.logText(), "\n") {
		var l struct {
			Message string `json:"message"`
			Reused  bool   `json:"reused"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Message == "index built from the article store" {
			return l.Reused
		}
	}
	t.Fatalf("node %s logged no index build:\n%s", p.addr, p.logText())
	return false
}

// TestArticlesImportExport imports a directory of Markdown articles into Redis from the
// command line, dry run first, while a server runs, and exports them again.
func TestArticlesImportExport(t *testing.T) {
	_, env := redisEnv(t)
	node := startKefu(t, "", env...)
	ask := &agent{t: t, p: node}

	dir := t.TempDir()
	md := "---\nid: trade-in\ntitle: 旧手机可以以旧换新吗？\ncategory: presale\nquestions:\n  - 以旧换新怎么弄\n  - 旧手机能抵钱吗\n  - 支持以旧换新不\ntags: [以旧换新]\n---\n支持的亲，下单时选择「以旧换新」，旧机寄回评估后按评估价抵扣货款。\n"
	os.WriteFile(filepath.Join(dir, "trade-in.md"), []byte(md), 0o644)
	bad := "---\nid: Bad Id\ntitle: x\ncategory: presale\n---\n回答\n"
	os.WriteFile(filepath.Join(dir, "bad.md"), []byte(bad), 0o644)
	// A changed bundled article is an update.
	inv, err := os.ReadFile("../../knowledge/articles/invoice-available.md")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "invoice-available.md"), bytes.Replace(inv, []byte("tags: [发票, 开票]"), []byte("tags: [发票, 开票, 专票]"), 1), 0o644)

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(kefuBin, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kefu %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("articles", "import", "--dry-run", dir)
	for _, want := range []string{"would create 1: trade-in", "would update invoice-available (tags)", "skipped bad.md"} {
		if !strings.Contains(out, want) {
			t.Fatalf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if answers(ask, "旧手机可以抵钱吗？", "trade-in") {
		t.Fatal("the dry run imported the article")
	}
	out = run("articles", "import", dir)
	if !strings.Contains(out, "created 1: trade-in") || !strings.Contains(out, "saved 2") {
		t.Fatalf("import output:\n%s", out)
	}
	waitAnswers(t, ask, "旧手机可以抵钱吗？", "trade-in", true, 5*time.Second)
	if out := run("articles", "import", dir); !strings.Contains(out, "created 0") || !strings.Contains(out, "saved 0") {
		t.Fatalf("a second import changed something:\n%s", out)
	}

	jsonl := run("articles", "export", "--format", "jsonl", "-")
	if n := strings.Count(jsonl, "\n"); n < 100 || !strings.Contains(jsonl, `"id":"trade-in"`) || !strings.Contains(jsonl, "专票") {
		t.Fatalf("export: %d lines, trade-in or the new tag missing", n)
	}
}
