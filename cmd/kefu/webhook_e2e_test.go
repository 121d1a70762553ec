package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/timetest"
)

// hookReceiver is a webhook receiver that keeps what it got with a valid signature.
type hookReceiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	got    []hookHit
	// down answers 503 and keeps the delivery ids refused.
	down    bool
	refused []string
}

type hookHit struct {
	Event, Delivery string
	Data            map[string]any
}

func newHookReceiver(t *testing.T, secret string) *hookReceiver {
	r := &hookReceiver{secret: secret}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		m := hmac.New(sha256.New, []byte(r.secret))
		m.Write(raw)
		if req.Header.Get("X-Kefu-Signature") != "sha256="+hex.EncodeToString(m.Sum(nil)) {
			t.Errorf("a delivery with a bad signature: %s", raw)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var body struct {
			Event string         `json:"event"`
			Data  map[string]any `json:"data"`
		}
		json.Unmarshal(raw, &body)
		r.mu.Lock()
		down := r.down
		if down {
			r.refused = append(r.refused, req.Header.Get("X-Kefu-Delivery"))
		}
		r.mu.Unlock()
		if down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if body.Event != req.Header.Get("X-Kefu-Event") {
			t.Errorf("body event %q, header %q", body.Event, req.Header.Get("X-Kefu-Event"))
		}
		r.mu.Lock()
		r.got = append(r.got, hookHit{Event: body.Event, Delivery: req.Header.Get("X-Kefu-Delivery"), Data: body.Data})
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, h := range r.got {
		out = append(out, h.Event)
	}
	return out
}

// TestWebhooksTwoNodes: an admin registers a webhook on one node of two; the hand-off
// made on one node and the claim made on the other each reach the receiver once,
// signed; the list hides the secret; 测试 sends a ping; the delivery log shows them;
// a deleted webhook is gone.
func TestWebhooksTwoNodes(t *testing.T) {
	t.Parallel() // waits mostly on servers and timers: it overlaps the rest
	_, env := redisEnv(t)
	env = append(env, "KEFU_WEBHOOK_ALLOW_PRIVATE=1")
	nodeA := startKefu(t, "", env...)
	nodeB := startKefu(t, "", env...)
	addUser(t, env, "bob", "agent", "presale", "bob-secret")
	addUser(t, env, "root", "admin", "presale", "root-secret")
	admin := login(t, nodeA, "root", "root-secret")
	rcv := newHookReceiver(t, "hook-secret-1")

	var added struct{ ID, Secret string }
	if code := admin.do("POST", "/api/webhooks", map[string]any{"url": rcv.URL + "/kefu", "events": []string{"conversation.handed_off", "conversation.assigned"}, "secret": "hook-secret-1"}, &added); code != 201 || added.ID == "" {
		t.Fatalf("POST /api/webhooks: %d %+v", code, added)
	}
	if code := admin.do("POST", "/api/webhooks", map[string]any{"url": "ftp://x", "events": []string{"conversation.assigned"}}, nil); code != 400 {
		t.Errorf("a bad URL: %d, want 400", code)
	}
	bob := login(t, nodeB, "bob", "bob-secret")
	if code := bob.do("GET", "/api/webhooks", nil, nil); code != 403 {
		t.Errorf("an agent lists the webhooks: %d, want 403", code)
	}

	s, _ := dialShopper(t, nodeA, "")
	s.send(map[string]any{"type": "handoff", "id": "h1"})
	s.until("handoff", isType("handoff"))
	bob.waitQueued(s.conv)
	if code := bob.do("POST", "/api/conversations/"+s.conv+"/claim", nil, nil); code != 200 {
		t.Fatalf("claim: %d", code)
	}
	timetest.Poll(t, 10*time.Second, "the hand-off and the claim delivered", func() bool { return len(rcv.events()) >= 2 })

	var list struct {
		Webhooks []struct {
			ID, URL    string
			SecretHint string `json:"secret_hint"`
		}
	}
	if code := admin.do("GET", "/api/webhooks", nil, &list); code != 200 || len(list.Webhooks) != 1 || list.Webhooks[0].SecretHint != "hook…" {
		t.Errorf("GET /api/webhooks: %d %+v", code, list)
	}
	var ping struct{ Delivery string }
	if code := admin.do("POST", "/api/webhooks/"+added.ID+"/test", nil, &ping); code != 202 || ping.Delivery == "" {
		t.Errorf("test: %d %+v", code, ping)
	}
	timetest.Poll(t, 10*time.Second, "the ping delivered", func() bool { return len(rcv.events()) >= 3 })
	// Each once, whichever node delivered it (the two nodes take from one queue).
	got := rcv.events()
	slices.Sort(got)
	if strings.Join(got, " ") != "conversation.assigned conversation.handed_off ping" {
		t.Errorf("delivered %q, want each once", got)
	}
	rcv.mu.Lock()
	for _, h := range rcv.got {
		if d := h.Data; h.Event == "conversation.assigned" && (d["conversation"] != s.conv || d["agent"] != "bob" || d["group"] != "presale") {
			t.Errorf("assigned data = %v", d)
		}
	}
	rcv.mu.Unlock()
	var log struct {
		Deliveries []struct{ Event, Result, Delivery string }
	}
	timetest.Poll(t, 10*time.Second, "the delivery log", func() bool {
		admin.do("GET", "/api/webhooks/"+added.ID+"/deliveries", nil, &log)
		return len(log.Deliveries) == 3
	})
	if d := log.Deliveries[0]; d.Event != "ping" || d.Result != "ok" || d.Delivery != ping.Delivery {
		t.Errorf("log = %+v", log.Deliveries)
	}
	// The node that delivered the ping counted it.
	if n := metricValue(t, nodeA, `kefu_webhook_deliveries_total{event="ping",result="ok"}`) +
		metricValue(t, nodeB, `kefu_webhook_deliveries_total{event="ping",result="ok"}`); n != 1 {
		t.Errorf("pings counted on both nodes: %v, want 1", n)
	}
	if code := admin.do("DELETE", "/api/webhooks/"+added.ID, nil, nil); code != 204 {
		t.Errorf("DELETE: %d", code)
	}
	if code := admin.do("GET", "/api/webhooks/"+added.ID+"/deliveries", nil, nil); code != 404 {
		t.Errorf("the log of a deleted webhook: %d, want 404", code)
	}
}

// TestWebhooksSurviveRestart: with the receiver down (503), a hand-off's delivery is
// refused; kefu stops and starts again on its data directory; once the receiver is back
// it gets the hand-off, under the delivery id it refused.
func TestWebhooksSurviveRestart(t *testing.T) {
	env := []string{"KEFU_DATA_DIR=" + t.TempDir(), "KEFU_WEBHOOK_ALLOW_PRIVATE=1", "KEFU_WEBHOOK_RETRY=100ms"}
	k := startKefu(t, "", env...)
	pw := k.adminPassword()
	admin := login(t, k, "admin", pw)
	rcv := newHookReceiver(t, "restart-secret")
	rcv.mu.Lock()
	rcv.down = true
	rcv.mu.Unlock()
	if code := admin.do("POST", "/api/webhooks", map[string]any{"url": rcv.URL, "events": []string{"conversation.handed_off"}, "secret": "restart-secret"}, nil); code != 201 {
		t.Fatalf("POST /api/webhooks: %d", code)
	}
	s, _ := dialShopper(t, k, "")
	s.send(map[string]any{"type": "handoff", "id": "h1"})
	s.until("handoff", isType("handoff"))
	refused := func() []string {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return slices.Clone(rcv.refused)
	}
	timetest.Poll(t, 10*time.Second, "a refused attempt", func() bool { return len(refused()) > 0 })
	k.stop()

	k = startKefu(t, "", env...)
	rcv.mu.Lock()
	rcv.down = false
	rcv.mu.Unlock()
	timetest.Poll(t, 10*time.Second, "the hand-off delivered after the restart", func() bool { return len(rcv.events()) > 0 })
	rcv.mu.Lock()
	got := rcv.got
	rcv.mu.Unlock()
	if len(got) != 1 || got[0].Event != "conversation.handed_off" || got[0].Delivery != refused()[0] || got[0].Data["conversation"] != s.conv {
		t.Errorf("delivered %+v, want the hand-off of %s as delivery %s", got, s.conv, refused()[0])
	}
}

// metricValue reads a series of p's /metrics; 0 when it is absent.
func metricValue(t *testing.T, p *proc, series string) float64 {
	t.Helper()
	resp, err := http.Get(p.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	return 0
}
