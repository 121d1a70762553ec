package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/boltdb"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/webhook"
	"github.com/kefu-im/kefu/internal/webhook/boltstore"
	"github.com/kefu-im/kefu/internal/webhook/redisstore"
	"github.com/redis/go-redis/v9"
)

// engine opens stores of one engine: open again returns a store on the same data, as a
// restarted node (bolt: the file closed and opened again) or another node (Redis).
type engine struct {
	name string
	open func(t *testing.T) (store webhook.Store, reopen func() webhook.Store)
}

var engines = []engine{
	{"bolt", func(t *testing.T) (webhook.Store, func() webhook.Store) {
		dir := t.TempDir()
		closeDB := func() error { return nil }
		open := func() webhook.Store {
			closeDB()
			db, err := boltdb.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			closeDB = db.Close
			s, err := boltstore.New(db)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		t.Cleanup(func() { closeDB() })
		return open(), open
	}},
	{"redis", func(t *testing.T) (webhook.Store, func() webhook.Store) {
		srv := redistest.Start(t)
		prefix := srv.Prefix(t)
		open := func() webhook.Store {
			c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
			t.Cleanup(func() { c.Close() })
			s, err := redisstore.New(c, prefix)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(), open
	}},
}

// receiver is a real HTTP endpoint that checks signatures and can be down (503).
type receiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	down   bool
	got    []hit
}

type hit struct {
	status   int
	event    string
	delivery string
	signed   bool
	body     webhook.Payload
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{secret: secret}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		m := hmac.New(sha256.New, []byte(r.secret))
		m.Write(raw)
		h := hit{event: req.Header.Get("X-Kefu-Event"), delivery: req.Header.Get("X-Kefu-Delivery"),
			signed: req.Header.Get("X-Kefu-Signature") == "sha256="+hex.EncodeToString(m.Sum(nil))}
		json.Unmarshal(raw, &h.body)
		r.mu.Lock()
		defer r.mu.Unlock()
		h.status = http.StatusNoContent
		if r.down {
			h.status = http.StatusServiceUnavailable
		}
		r.got = append(r.got, h)
		w.WriteHeader(h.status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

func (r *receiver) hits() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.got...)
}

// delivered returns the hits answered 2xx.
func (r *receiver) delivered() []hit {
	var out []hit
	for _, h := range r.hits() {
		if h.status < 300 {
			out = append(out, h)
		}
	}
	return out
}

// start runs a service on store until the test ends or stop is called.
func start(t *testing.T, store webhook.Store, mod func(*webhook.Config)) (*webhook.Service, func()) {
	t.Helper()
	cfg := webhook.Config{
		Store: store, AllowPrivate: true, Poll: 10 * time.Millisecond,
		Backoff: webhook.Backoff{Base: 20 * time.Millisecond, Max: 80 * time.Millisecond},
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := webhook.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return s, sync.OnceFunc(stop)
}

// TestSignedDelivery: an event reaches the endpoints subscribed to it, signed with
// their secret, with its headers; others do not get it; the log shows it.
func TestSignedDelivery(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			store, _ := e.open(t)
			s, _ := start(t, store, nil)
			ctx := context.Background()
			rcv := newReceiver(t, "s3cret-value")
			ep, err := s.Add(ctx, rcv.URL+"/hook", []string{webhook.EventResolved, webhook.EventRated}, "s3cret-value", "admin")
			if err != nil {
				t.Fatal(err)
			}
			other := newReceiver(t, "other-secret")
			if _, err := s.Add(ctx, other.URL, []string{webhook.EventTicketNew}, "other-secret", "admin"); err != nil {
				t.Fatal(err)
			}
			s.Notify(ctx, webhook.EventResolved, map[string]string{"conversation": "c1"})
			timetest.Poll(t, 5*time.Second, "the delivery", func() bool { return len(rcv.delivered()) == 1 })
			h := rcv.delivered()[0]
			data, _ := h.body.Data.(map[string]any)
			if !h.signed || h.event != webhook.EventResolved || !strings.HasPrefix(h.delivery, "dlv_") ||
				h.body.Event != webhook.EventResolved || !strings.HasPrefix(h.body.ID, "evt_") || data["conversation"] != "c1" {
				t.Errorf("delivery = %+v", h)
			}
			if n := len(other.hits()); n != 0 {
				t.Errorf("an endpoint not subscribed got %d deliveries", n)
			}
			// A wrong secret is no valid signature.
			rcv.mu.Lock()
			rcv.secret = "another"
			rcv.mu.Unlock()
			id, err := s.Test(ctx, ep.ID, "admin")
			if err != nil {
				t.Fatal(err)
			}
			timetest.Poll(t, 5*time.Second, "the ping", func() bool { return len(rcv.delivered()) == 2 })
			if p := rcv.delivered()[1]; p.signed || p.event != webhook.EventPing || p.delivery != id {
				t.Errorf("ping = %+v, want unsigned under another secret, delivery %s", p, id)
			}
			var log []webhook.Attempt
			timetest.Poll(t, 5*time.Second, "the log of both", func() bool {
				log, err = s.Attempts(ctx, ep.ID)
				return err != nil || len(log) == 2
			})
			if err != nil || len(log) != 2 || log[0].Event != webhook.EventPing || log[1].Status != http.StatusNoContent || log[1].Result != "ok" {
				t.Errorf("log = %+v, %v", log, err)
			}
		})
	}
}

// TestRetryAcrossRestart: a receiver down (503) gets every event once it is back, with
// the delivery id of the failed attempts, although the node was restarted in between.
func TestRetryAcrossRestart(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			store, reopen := e.open(t)
			s, stop := start(t, store, nil)
			ctx := context.Background()
			rcv := newReceiver(t, "s3cret-value")
			rcv.setDown(true)
			ep, err := s.Add(ctx, rcv.URL, webhook.Events, "s3cret-value", "admin")
			if err != nil {
				t.Fatal(err)
			}
			events := []string{webhook.EventHandedOff, webhook.EventAssigned, webhook.EventTicketNew}
			for i, ev := range events {
				s.Notify(ctx, ev, map[string]int{"n": i})
			}
			refused := func() map[string]string {
				out := map[string]string{}
				for _, h := range rcv.hits() {
					if h.status == http.StatusServiceUnavailable {
						out[h.delivery] = h.event
					}
				}
				return out
			}
			timetest.Poll(t, 5*time.Second, "an attempt of every event, refused", func() bool { return len(refused()) == len(events) })
			stop()
			s2, _ := start(t, reopen(), nil)
			rcv.setDown(false)
			timetest.Poll(t, 10*time.Second, "every event delivered", func() bool { return len(rcv.delivered()) >= len(events) })
			got := map[string]string{}
			for _, h := range rcv.delivered() {
				if !h.signed {
					t.Errorf("unsigned delivery %+v", h)
				}
				got[h.delivery] = h.event
			}
			if want := refused(); len(got) != len(events) || !mapsEqual(got, want) {
				t.Errorf("delivered %v, want the ids refused before: %v", got, want)
			}
			var log []webhook.Attempt
			timetest.Poll(t, 5*time.Second, "the log", func() bool {
				log, err = s2.Attempts(ctx, ep.ID)
				return err != nil || len(log) > 0 && log[0].Result == "ok" && log[1].Result == "ok" && log[2].Result == "ok"
			})
			if err != nil || len(log) < 2*len(events) || log[0].Result != "ok" || log[len(log)-1].Result != "retry" || log[len(log)-1].Status != 503 {
				t.Errorf("log = %+v, %v", log, err)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestGiveUp: a delivery still failing after the retry period is marked failed and
// leaves the queue.
func TestGiveUp(t *testing.T) {
	store, _ := engines[0].open(t)
	s, _ := start(t, store, func(c *webhook.Config) { c.Backoff.GiveUp = 100 * time.Millisecond })
	ctx := context.Background()
	rcv := newReceiver(t, "s3cret-value")
	rcv.setDown(true)
	ep, err := s.Add(ctx, rcv.URL, []string{webhook.EventLeft}, "s3cret-value", "admin")
	if err != nil {
		t.Fatal(err)
	}
	s.Notify(ctx, webhook.EventLeft, map[string]string{"ticket": "AS-1"})
	timetest.Poll(t, 5*time.Second, "the delivery given up", func() bool {
		log, _ := s.Attempts(ctx, ep.ID)
		return len(log) > 0 && log[0].Result == "failed"
	})
	n := len(rcv.hits())
	if due, err := store.Due(ctx, time.Now().Add(time.Hour), time.Minute, 10); err != nil || len(due) != 0 {
		t.Errorf("queue after giving up: %+v, %v", due, err)
	}
	if n < 2 {
		t.Errorf("%d attempts before giving up, want retries", n)
	}
}

// TestTakeOver: deliveries a Redis node took and never finished (it died) are taken over
// by another node once the lease ran out.
func TestTakeOver(t *testing.T) {
	store, reopen := engines[1].open(t)
	ctx := context.Background()
	rcv := newReceiver(t, "s3cret-value")
	// The dead node queued two events and took them, never to finish.
	dead, stop := start(t, store, func(c *webhook.Config) { c.Poll = time.Hour })
	stop()
	if _, err := dead.Add(ctx, rcv.URL, []string{webhook.EventAssigned}, "s3cret-value", "admin"); err != nil {
		t.Fatal(err)
	}
	dead.Notify(ctx, webhook.EventAssigned, map[string]int{"n": 1})
	dead.Notify(ctx, webhook.EventAssigned, map[string]int{"n": 2})
	if taken, err := store.Due(ctx, time.Now(), time.Hour, 10); err != nil || len(taken) != 2 {
		t.Fatalf("the dead node took %d, %v", len(taken), err)
	}
	start(t, reopen(), func(c *webhook.Config) { c.Lease = 50 * time.Millisecond })
	timetest.Poll(t, 5*time.Second, "both taken over and delivered", func() bool { return len(rcv.delivered()) == 2 })
}

// TestPrivateAddresses: without AllowPrivate, a URL on a loopback, private or
// link-local address is refused at registration, and an endpoint whose name resolves to
// one later is refused at delivery.
func TestPrivateAddresses(t *testing.T) {
	store, _ := engines[0].open(t)
	s, _ := start(t, store, func(c *webhook.Config) { c.AllowPrivate = false })
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1:8080/x", "http://localhost/x", "http://10.1.2.3/", "http://169.254.169.254/latest", "http://[::1]/", "http://192.168.1.1/"} {
		if _, err := s.Add(ctx, u, []string{webhook.EventResolved}, "s3cret-value", "admin"); !errors.Is(err, webhook.ErrPrivateAddress) {
			t.Errorf("Add(%s) = %v, want ErrPrivateAddress", u, err)
		}
	}
	for _, u := range []string{"ftp://example.com/", "/relative", "http://user:pw@example.com/"} {
		if _, err := s.Add(ctx, u, []string{webhook.EventResolved}, "s3cret-value", "admin"); !errors.Is(err, webhook.ErrBadURL) {
			t.Errorf("Add(%s) = %v, want ErrBadURL", u, err)
		}
	}
	// Stored as if its name had resolved to a public address at registration.
	rcv := newReceiver(t, "s3cret-value")
	ep := webhook.Endpoint{ID: "wh_rebound", URL: rcv.URL, Events: []string{webhook.EventResolved}, Secret: "s3cret-value", CreatedAt: time.Now()}
	if err := store.AddEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	s.Notify(ctx, webhook.EventResolved, map[string]string{"conversation": "c1"})
	timetest.Poll(t, 5*time.Second, "the attempt refused", func() bool {
		log, _ := s.Attempts(ctx, ep.ID)
		return len(log) > 0
	})
	log, _ := s.Attempts(ctx, ep.ID)
	if log[0].Result != "retry" || !strings.Contains(log[0].Error, webhook.ErrPrivateAddress.Error()) {
		t.Errorf("log = %+v", log)
	}
	if n := len(rcv.hits()); n != 0 {
		t.Errorf("the private receiver got %d requests", n)
	}
}

// TestReceiverBackOnItsPort: while nothing listens on the receiver's port the attempts
// fail (connection refused) and are retried; once it listens again it gets the event
// under the same delivery id.
func TestReceiverBackOnItsPort(t *testing.T) {
	store, _ := engines[0].open(t)
	s, _ := start(t, store, nil)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ep, err := s.Add(ctx, "http://"+addr+"/hook", []string{webhook.EventAssigned}, "s3cret-value", "admin")
	if err != nil {
		t.Fatal(err)
	}
	s.Notify(ctx, webhook.EventAssigned, map[string]string{"conversation": "c1"})
	var refused webhook.Attempt
	timetest.Poll(t, 5*time.Second, "attempts refused by the closed port", func() bool {
		log, _ := s.Attempts(ctx, ep.ID)
		if len(log) < 2 {
			return false
		}
		refused = log[len(log)-1]
		return true
	})
	if refused.Result != "retry" || refused.Status != 0 || !strings.Contains(refused.Error, "refused") {
		t.Errorf("first attempt = %+v, want a retry after connection refused", refused)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	// A receiver's handler, served on the port the endpoint names.
	back := newReceiver(t, "s3cret-value")
	srv := httptest.NewUnstartedServer(back.Config.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	timetest.Poll(t, 5*time.Second, "the event delivered once the port listens", func() bool { return len(back.delivered()) == 1 })
	if h := back.delivered()[0]; h.delivery != refused.Delivery || !h.signed {
		t.Errorf("delivered %+v, want delivery %s signed", h, refused.Delivery)
	}
}
