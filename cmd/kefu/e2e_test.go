package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"github.com/kefu-im/kefu/internal/account"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEndToEndRestart drives the whole path on the real binary and a real Redis: a
// shopper asks the bot, is handed off, kefu restarts, the shopper resumes, an agent
// claims, replies, hears back, and resolves.
func TestEndToEndRestart(t *testing.T) {
	t.Parallel() // waits mostly on servers and timers: it overlaps the rest
	_, env := redisEnv(t)
	k := startKefu(t, "", env...)
	if k.adminPassword() == "" {
		t.Fatalf("first start logged no admin password:\n%s", k.logText())
	}
	addUser(t, env, "alice", "agent", "aftersale", "alice-secret")

	s, w := dialShopper(t, k, "")
	if w["status"] != "bot" || w["greeting"] == "" {
		t.Fatalf("welcome = %v", w)
	}
	s.send(map[string]any{"type": "message", "id": "m1", "text": "可以开发票吗？"})
	ans := s.until("bot answer", isFrom("bot"))
	if art, _ := ans["article"].(map[string]any); art["id"] != "invoice-available" {
		t.Fatalf("bot answer = %v, want article invoice-available", ans)
	}
	s.send(map[string]any{"type": "message", "id": "m2", "text": "我要退货"})
	h := s.until("handoff", isType("handoff"))
	if h["reason"] != "after_sales" || h["group"] != "aftersale" {
		t.Fatalf("handoff = %v", h)
	}
	if q := s.until("queue", isType("queue")); q["position"] != 1.0 {
		t.Fatalf("queue = %v, want position 1", q)
	}
	s.ws.Close()

	// Restart kefu on the same address: nothing may be lost.
	k.stop()
	k = startKefu(t, k.addr, env...)
	if pw := k.adminPassword(); pw != "" {
		t.Errorf("restart logged a new admin password although an admin exists")
	}
	s2, w2 := resumeShopper(t, k, s.conv, s.tok, s.last)
	s2.conv, s2.tok, s2.last = s.conv, s.tok, s.last
	if w2["conversation"] != s.conv || w2["status"] != "queued" || w2["reset"] == true {
		t.Fatalf("resumed welcome = %v", w2)
	}
	if q := s2.until("queue", isType("queue")); q["position"] != 1.0 {
		t.Fatalf("queue after restart = %v", q)
	}

	a := login(t, k, "alice", "alice-secret")
	e := a.waitQueued(s.conv)
	if e.Reason != "after_sales" || e.Group != "aftersale" || e.Preview != "我要退货" {
		t.Errorf("queue entry = %+v", e)
	}
	var detail struct {
		Conversation struct {
			Context struct {
				Reason string
				Hits   []struct {
					ID    string
					Score float64
				}
			}
		}
		Messages []apiMessage
	}
	a.do("GET", "/api/conversations/"+s.conv, nil, &detail)
	if c := detail.Conversation.Context; c.Reason != "after_sales" || len(c.Hits) == 0 || c.Hits[0].Score <= 0 {
		t.Errorf("context = %+v, want the bot's hits with scores", c)
	}
	if len(detail.Messages) < 4 || detail.Messages[0].Text != "可以开发票吗？" {
		t.Errorf("transcript = %+v", detail.Messages)
	}

	if code := a.do("POST", "/api/conversations/"+s.conv+"/claim", nil, nil); code != 200 {
		t.Fatalf("claim: status %d", code)
	}
	st := s2.until("status active", isType("status"))
	// alice has no display name: the shopper sees a neutral label, never her login.
	shown := account.NeutralLabel("alice")
	if st["status"] != "active" || st["agent"] != shown {
		t.Fatalf("status = %v", st)
	}
	if code := a.do("POST", "/api/conversations/"+s.conv+"/messages", map[string]string{"text": "您好，请提供一下订单号"}, nil); code != 201 {
		t.Fatalf("reply: status %d", code)
	}
	if m := s2.until("agent reply", isFrom("agent")); m["text"] != "您好，请提供一下订单号" || m["agent"] != shown {
		t.Fatalf("agent frame = %v", m)
	}
	s2.send(map[string]any{"type": "message", "id": "m3", "text": "订单号是 20261123001"})
	a.waitMessage(s.conv, "shopper", "订单号是 20261123001")
	if code := a.do("POST", "/api/conversations/"+s.conv+"/resolve", nil, nil); code != 200 {
		t.Fatalf("resolve: status %d", code)
	}
	if st := s2.until("status resolved", isType("status")); st["status"] != "resolved" {
		t.Fatalf("status = %v", st)
	}
	if code := a.do("POST", "/api/conversations/"+s.conv+"/messages", map[string]string{"text": "还在吗"}, nil); code != 409 {
		t.Errorf("reply to a resolved chat: status %d, want 409", code)
	}
}

// TestTwoNodes runs two kefu processes on one Redis: the shopper talks to one, the
// agent to the other, and messages cross both ways.
func TestTwoNodes(t *testing.T) {
	t.Parallel() // waits mostly on servers and timers: it overlaps the rest
	_, env := redisEnv(t)
	nodeA := startKefu(t, "", env...)
	nodeB := startKefu(t, "", env...)
	addUser(t, env, "bob", "agent", "presale", "bob-secret")

	a := login(t, nodeB, "bob", "bob-secret")
	events := openEvents(t, nodeB, a.token)

	s, _ := dialShopper(t, nodeA, "")
	s.send(map[string]any{"type": "handoff", "id": "h1"})
	if h := s.until("handoff", isType("handoff")); h["reason"] != "requested" || h["group"] != "presale" {
		t.Fatalf("handoff = %v", h)
	}
	// The event says what changed: the chat's queue line, waiting.
	events.until(t, func(e map[string]any) bool {
		entry, _ := e["entry"].(map[string]any)
		return e["type"] == "conversation" && e["conversation"] == s.conv && entry["status"] == "queued"
	})
	a.waitQueued(s.conv)
	if code := a.do("POST", "/api/conversations/"+s.conv+"/claim", nil, nil); code != 200 {
		t.Fatalf("claim on node B: status %d", code)
	}
	a.do("POST", "/api/conversations/"+s.conv+"/messages", map[string]string{"text": "您好，这里是人工客服"}, nil)
	if m := s.until("agent reply", isFrom("agent")); m["text"] != "您好，这里是人工客服" {
		t.Fatalf("shopper on node A got %v", m)
	}
	s.send(map[string]any{"type": "message", "id": "m1", "text": "你好，我想问一下尺码"})
	ack := s.until("ack", isType("ack"))
	events.until(t, func(e map[string]any) bool {
		msgs, _ := e["messages"].([]any)
		for _, m := range msgs {
			if m, _ := m.(map[string]any); m["seq"] == ack["seq"] && m["text"] == "你好，我想问一下尺码" {
				return e["type"] == "conversation" && e["conversation"] == s.conv
			}
		}
		return false
	})
	a.waitMessage(s.conv, "shopper", "你好，我想问一下尺码")
}

// TestEmbeddedDefaults starts kefu as a new user does, with nothing configured.
func TestEmbeddedDefaults(t *testing.T) {
	k := startKefu(t, "")
	pw := k.adminPassword()
	if len(pw) < 12 {
		t.Fatalf("admin password %q missing or short; log:\n%s", pw, k.logText())
	}
	for path, want := range map[string]string{
		"/":          `<script src="/widget.js"`,
		"/console":   "Kefu",
		"/widget.js": "/ws/shopper",
		"/readyz":    "ready",
	} {
		resp, err := http.Get(k.url(path))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		bufio.NewReader(resp.Body).WriteTo(&b)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(b.String(), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
		}
		// Every answer's security headers; a shop may frame only what it embeds.
		framed := path == "/" || path == "/widget.js"
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "same-origin" ||
			(resp.Header.Get("X-Frame-Options") == "DENY") == framed {
			t.Errorf("GET %s: headers %v", path, resp.Header)
		}
	}
	login(t, k, "admin", pw)
	s, _ := dialShopper(t, k, "")
	s.send(map[string]any{"type": "message", "id": "m1", "text": "可以开发票吗？"})
	answer := s.until("bot answer", isFrom("bot"))
	article, _ := answer["article"].(map[string]any)
	s.send(map[string]any{"type": "feedback", "id": "f1", "seq": answer["seq"], "helpful": true})
	s.until("the feedback's ack", func(f map[string]any) bool { return f["type"] == "ack" && f["id"] == "f1" })
	resp, err := http.Get(k.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	var m strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&m)
	resp.Body.Close()
	// Served by client_golang: its content type, the histograms, the runtime's and the
	// process's metrics; one decision so far, one shopper and one bot message stored.
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("/metrics content type %q", ct)
	}
	for _, want := range []string{
		"kefu_shopper_connections 1", "kefu_conversations_started_total 1", "kefu_shopper_messages_total 1",
		`kefu_bot_decisions_total{action="answer",reason=""} 1`, `kefu_queue_waiting{group="presale"} 0`,
		fmt.Sprintf(`kefu_bot_feedback_total{article=%q,helpful="true"} 1`, article["id"]),
		"# TYPE kefu_bot_decision_seconds histogram", "kefu_bot_decision_seconds_count 1",
		`kefu_messages_total{from="shopper"} 1`, `kefu_messages_total{from="bot"} 1`,
		"# TYPE kefu_ws_delivery_seconds histogram", "go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, m.String())
		}
	}
	// The bot's answer reached the shopper as an event: its delivery was timed.
	if strings.Contains(m.String(), "kefu_ws_delivery_seconds_count 0\n") {
		t.Error("no websocket delivery was timed")
	}
	if strings.Contains(k.logText(), "可以开发票") {
		t.Error("the log holds a message body")
	}
}

// events reads a Server-Sent Events stream.
type events struct {
	r *bufio.Reader
	c chan map[string]any
}

func openEvents(t *testing.T, p *proc, token string) *events {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url("/api/events"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/events: %v %v", err, resp)
	}
	t.Cleanup(func() { resp.Body.Close() })
	ev := &events{r: bufio.NewReader(resp.Body), c: make(chan map[string]any, 256)}
	go func() {
		defer close(ev.c)
		for {
			line, err := ev.r.ReadString('\n')
			if err != nil {
				return
			}
			if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
				var e map[string]any
				if json.Unmarshal([]byte(data), &e) == nil {
					ev.c <- e
				}
			}
		}
	}()
	return ev
}

func (ev *events) until(t *testing.T, ok func(map[string]any) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e, open := <-ev.c:
			if !open {
				t.Fatal("event stream ended")
			}
			if ok(e) {
				return
			}
		case <-deadline:
			t.Fatal("expected event did not arrive within 10 s")
		}
	}
}
