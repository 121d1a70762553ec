package main

import (
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff/redistest"
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
	rs := redistest.Start(t)
	prefix := rs.Prefix(t)
	env := []string{"KEFU_REDIS_URL=" + rs.URL(), "KEFU_REDIS_PREFIX=" + prefix}
	nodeA := startKefu(t, "", env...)
	nodeB := startKefu(t, "", env...)
	addUser(t, rs.URL(), prefix, "erin", "editor", "presale", "erin-secret")
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
	nodeB = startKefu(t, nodeB.addr, env...)
	onB = &agent{t: t, p: nodeB, token: edA.token}
	waitAnswers(t, onB, question, "trade-in", true, 5*time.Second)

	rs.Stop()
	rs.Restart()
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
