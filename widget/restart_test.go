package widget_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/widget"
	"github.com/redis/go-redis/v9"
)

// Traffic of TestRedisRestartDuringTraffic.
const (
	rsShoppers = 6                      // shoppers, half on each node
	rsEvery    = 100 * time.Millisecond // between one shopper's messages
	rsOutage   = 5 * time.Second
	rsWait     = 20 * time.Second // bound of every wait for the traffic
)

// rsShopper is one shopper's socket with the answer to each frame id it sent.
type rsShopper struct {
	*shopper
	node int

	wmu sync.Mutex // one writer at a time

	mu      sync.Mutex        // guards the fields below
	answers map[string]string // frame id → "ack" or the error code
	sent    []string          // message ids, in order
	frames  []frame           // every frame read
	readErr error             // why reading stopped
}

func (s *rsShopper) answer(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answers[id]
}

// read reads frames until the socket ends.
func (s *rsShopper) read() {
	for {
		s.c.SetReadDeadline(time.Now().Add(time.Minute))
		var f frame
		if err := s.c.ReadJSON(&f); err != nil {
			s.mu.Lock()
			s.readErr = err
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		s.frames = append(s.frames, f)
		switch {
		case f.str("type") == "ack":
			s.answers[f.str("id")] = "ack"
		case f.str("type") == "error" && f.str("id") != "":
			s.answers[f.str("id")] = f.str("code")
		}
		s.mu.Unlock()
	}
}

func (s *rsShopper) write(v any) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.c.SetWriteDeadline(time.Now().Add(frameWait))
	return s.c.WriteJSON(v)
}

// TestRedisRestartDuringTraffic stops redis-server for 5 s while shoppers on two gateway
// nodes write and ask for people, and starts it again (AOF keeps the data). Every
// message sent meanwhile is acknowledged or refused with an error frame naming it, on
// the same socket: none is silently dropped; resent as the widget does, each is stored
// exactly once. A hand-off asked for during the outage is refused the same way and goes
// through when resent. The nodes reconnect on their own: afterwards an agent's change
// made on one node reaches a shopper on the other at once (not by the 1-minute poll),
// and every chat handed off is in the queue, once.
func TestRedisRestartDuringTraffic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := srv.Prefix(t)
	shared := engine{name: "redis", open: func(t *testing.T) desktest.Options {
		return desktest.Options{Engine: desktest.Redis, Server: srv, Prefix: prefix, Client: func(addr string) *redis.Client {
			return redis.NewClient(&redis.Options{
				Addr: addr, DialTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond,
				WriteTimeout: 500 * time.Millisecond, PoolTimeout: time.Second, MaxRetries: 1,
			})
		}}
	}}
	var nodes []*env
	for range 2 {
		e := newEnv(t, setup{
			engine: shared,
			desk:   func(c *handoff.DeskConfig) { c.Now, c.SweepInterval = time.Now, 100*time.Millisecond },
			gateway: func(c *widget.Config) {
				c.PollInterval, c.RateBurst, c.RateEvery = time.Minute, 100, time.Millisecond
			},
		})
		nodes = append(nodes, e)
	}

	var shoppers []*rsShopper
	for i := range rsShoppers {
		e := nodes[i%2]
		s := &rsShopper{shopper: e.connect(t, ""), node: i % 2, answers: map[string]string{}}
		go s.read()
		shoppers = append(shoppers, s)
	}
	// The first half ask for a person before the outage, the others during it.
	early, late := shoppers[:rsShoppers/2], shoppers[rsShoppers/2:]
	for _, s := range early {
		if err := s.write(msg{Type: "handoff", ID: "h1"}); err != nil {
			t.Fatal(err)
		}
	}
	queued := func(s *rsShopper) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, i := find(s.frames, isType("queue"))
		return i >= 0
	}
	for _, s := range early {
		timetest.Poll(t, frameWait, "the early shoppers' queue frames", func() bool { return queued(s) })
	}

	// The traffic: every shopper writes every rsEvery until stop.
	stop := make(chan struct{})
	var traffic sync.WaitGroup
	for i, s := range shoppers {
		traffic.Go(func() {
			tick := time.NewTicker(rsEvery)
			defer tick.Stop()
			for n := 0; ; n++ {
				id := fmt.Sprintf("s%d-%d", i, n)
				s.mu.Lock()
				s.sent = append(s.sent, id)
				s.mu.Unlock()
				if err := s.write(msg{Type: "message", ID: id, Text: fmt.Sprintf("第 %d 条：还在吗", n)}); err != nil {
					t.Errorf("shopper %d: writing %s: %v", i, id, err)
					return
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		})
	}
	acked := func(s *rsShopper) int {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := 0
		for _, a := range s.answers {
			if a == "ack" {
				n++
			}
		}
		return n
	}
	for _, s := range shoppers {
		timetest.Poll(t, frameWait, "traffic before the outage", func() bool { return acked(s) >= 2 })
	}

	srv.Stop()
	down := time.Now()
	for _, s := range late {
		if err := s.write(msg{Type: "handoff", ID: "h1"}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(rsOutage) // keeps Redis down while the traffic goes on
	srv.Restart()
	t.Logf("redis was down for %v", time.Since(down))
	before := make([]int, len(shoppers))
	for i, s := range shoppers {
		before[i] = acked(s)
	}
	deadline := time.Now().Add(rsWait)
	for i, s := range shoppers {
		for acked(s) < before[i]+3 {
			if time.Now().After(deadline) {
				t.Fatalf("shopper %d: no traffic acknowledged after the restart", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	close(stop)
	traffic.Wait()

	// Every message has an answer on its socket: none was silently dropped.
	refused := 0
	for i, s := range shoppers {
		for _, id := range s.sent {
			for s.answer(id) == "" {
				if time.Now().After(deadline) {
					s.mu.Lock()
					err := s.readErr
					s.mu.Unlock()
					t.Fatalf("shopper %d: message %s got neither an ack nor an error (socket: %v)", i, id, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			switch a := s.answer(id); a {
			case "ack":
			case "unavailable":
				refused++
			default:
				t.Errorf("shopper %d: message %s answered %q", i, id, a)
			}
		}
		if a := s.answer("h1"); slices.Contains(late, s) && a != "unavailable" {
			t.Errorf("shopper %d: a hand-off during the outage answered %q, want unavailable", i, a)
		}
	}
	if refused == 0 {
		t.Error("no message was refused: the outage did not happen during the traffic")
	}
	// The widget resends what was refused, with the same id, and the late shoppers ask
	// for a person again.
	for _, s := range shoppers {
		for _, id := range s.sent {
			for s.answer(id) != "ack" {
				if time.Now().After(deadline) {
					t.Fatalf("resent %s never acknowledged", id)
				}
				s.mu.Lock()
				delete(s.answers, id)
				s.mu.Unlock()
				if err := s.write(msg{Type: "message", ID: id, Text: "重发"}); err != nil {
					t.Fatal(err)
				}
				for s.answer(id) == "" && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}
	}
	for _, s := range late {
		if err := s.write(msg{Type: "handoff", ID: "h2"}); err != nil {
			t.Fatal(err)
		}
	}

	// The nodes took up their subscriptions again: a claim on node 0 reaches a shopper
	// of node 1 without waiting for its poll.
	target := shoppers[1]
	claimed := time.Now()
	if _, err := nodes[0].desk.Claim(ctx, target.conv, "alice"); err != nil {
		t.Fatalf("Claim after the restart: %v", err)
	}
	timetest.Poll(t, frameWait, "the claim to reach node 1's shopper", func() bool {
		target.mu.Lock()
		defer target.mu.Unlock()
		_, i := find(target.frames, func(f frame) bool { return f.str("type") == "status" && f.str("status") == "active" })
		return i >= 0
	})
	t.Logf("a change on node 0 reached node 1's shopper in %v", time.Since(claimed))

	// Counted from Redis: each message stored once, each chat handed off once and
	// waiting (but the one claimed).
	timetest.Poll(t, frameWait, "the late hand-offs", func() bool {
		w, err := nodes[1].desk.Waiting(ctx, "")
		return err == nil && len(w) == rsShoppers-1
	})
	waiting, err := nodes[1].desk.Waiting(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range shoppers {
		log := nodes[0].logOf(t, s.conv)
		count := map[string]int{}
		handoffs := 0
		for _, m := range log {
			if m.From == handoff.FromShopper {
				count[m.ID]++
			}
			if m.Kind == handoff.KindHandoff {
				handoffs++
			}
		}
		for _, id := range s.sent {
			if count[id] != 1 {
				t.Errorf("shopper %d: message %s stored %d times", i, id, count[id])
			}
		}
		if len(count) != len(s.sent) {
			t.Errorf("shopper %d: %d messages stored, %d sent", i, len(count), len(s.sent))
		}
		inQueue := slices.ContainsFunc(waiting, func(c handoff.Conversation) bool { return c.ID == s.conv })
		if handoffs != 1 || inQueue == (s == target) {
			t.Errorf("shopper %d: %d hand-offs, in the queue: %v", i, handoffs, inQueue)
		}
	}
	t.Logf("%d messages refused during the outage, all stored once after the resend", refused)
	for _, s := range shoppers {
		s.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	}
}
