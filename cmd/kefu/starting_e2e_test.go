package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/internal/timetest"
)

// TestListensBeforeStorage starts a node whose Redis is not up yet: it listens at once,
// /healthz answers 200 while /readyz, the bot's API and the shoppers' websocket answer
// 503 unavailable; once Redis is up the node starts and serves them.
func TestListensBeforeStorage(t *testing.T) {
	t.Parallel() // waits mostly on servers and timers: it overlaps the rest
	rs, env := redisEnv(t)
	rs.Stop()
	k := spawnKefu(t, "", "/healthz", env...)

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(k.url(path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ask := func() (int, string) {
		t.Helper()
		resp, err := http.Post(k.url("/api/bot/ask"), "application/json", strings.NewReader(`{"text":"可以开发票吗"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct {
			Error  struct{ Code string } `json:"error"`
			Action string                `json:"action"`
		}
		json.NewDecoder(resp.Body).Decode(&e)
		if e.Error.Code != "" {
			return resp.StatusCode, e.Error.Code
		}
		return resp.StatusCode, e.Action
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz while Redis is down = %d, want 200", code)
	}
	if code, body := get("/readyz"); code != 503 {
		t.Errorf("/readyz while Redis is down = %d %q, want 503", code, body)
	}
	if code, what := ask(); code != 503 || what != "unavailable" {
		t.Errorf("POST /api/bot/ask while Redis is down = %d %q, want 503 unavailable", code, what)
	}
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+k.addr+"/ws/shopper", nil)
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Errorf("the shoppers' websocket while Redis is down: %v (response %v), want refused with 503", err, resp)
	}
	if strings.Contains(k.logText(), "kefu is serving") {
		t.Errorf("kefu said it is serving before Redis was up:\n%s", k.logText())
	}

	rs.Restart()
	timetest.Poll(t, 20*time.Second, "/readyz 200 once Redis is up", func() bool {
		code, _ := get("/readyz")
		return code == 200
	})
	if code, what := ask(); code != 200 || what != "answer" {
		t.Errorf("POST /api/bot/ask once started = %d %q, want 200 answer", code, what)
	}
	s, _ := dialShopper(t, k, "")
	s.ws.Close()
}
