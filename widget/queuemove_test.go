package widget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/widget"
	"github.com/redis/go-redis/v9"
)

// A queue move — an agent takes the chat at the front — must tell every other waiting
// shopper their new place without reading the queue for each of them: the move's event
// carries the place that left, and each socket works out its own.

// waitingRoom is a gateway on Redis with n shoppers waiting in one queue, each with a
// socket whose queue frames are counted.
type waitingRoom struct {
	desk    *handoff.Desk
	rdb     *redis.Client // a client of its own, for INFO
	url     string
	mu      sync.Mutex     // guards places
	places  map[string]int // conversation → last position told
	convs   []string       // in queue order
	sockets []*websocket.Conn
	cond    *sync.Cond
}

func newWaitingRoom(tb testing.TB, n int) *waitingRoom {
	tb.Helper()
	rig, bt := openBusyDesk(tb, func(c *handoff.DeskConfig) { c.SweepInterval, c.QueueTimeout = time.Hour, -1 })
	gw, err := widget.New(widget.Config{Desk: rig.Desk, Bot: bt, PollInterval: time.Hour, PingInterval: time.Hour, PongWait: 2 * time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(gw)
	tb.Cleanup(hs.Close)
	rdb := redis.NewClient(&redis.Options{Addr: rig.Server.Addr()})
	tb.Cleanup(func() { rdb.Close() })
	w := &waitingRoom{desk: rig.Desk, rdb: rdb, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws/shopper", places: map[string]int{}}
	w.cond = sync.NewCond(&w.mu)
	for i := range n {
		w.join(tb, i+1)
	}
	tb.Cleanup(func() {
		for _, c := range w.sockets {
			c.Close()
		}
	})
	return w
}

// join connects a shopper who asks for a person and waits for their place, want.
func (w *waitingRoom) join(tb testing.TB, want int) {
	tb.Helper()
	c, _, err := websocket.DefaultDialer.Dial(w.url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	var f struct {
		Type, Conversation string
		Position           int
	}
	if err := c.ReadJSON(&f); err != nil || f.Type != "welcome" {
		tb.Fatalf("welcome: %+v, %v", f, err)
	}
	conv := f.Conversation
	if err := c.WriteJSON(map[string]string{"type": "handoff", "id": "h1"}); err != nil {
		tb.Fatal(err)
	}
	w.mu.Lock()
	w.convs = append(w.convs, conv)
	w.sockets = append(w.sockets, c)
	w.mu.Unlock()
	go func() {
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			var q struct {
				Type     string
				Position int
			}
			if json.Unmarshal(data, &q) == nil && q.Type == "queue" {
				w.mu.Lock()
				w.places[conv] = q.Position
				w.cond.Broadcast()
				w.mu.Unlock()
			}
		}
	}()
	w.await(tb, map[string]int{conv: want})
}

// await waits until every conversation of want was told its place.
func (w *waitingRoom) await(tb testing.TB, want map[string]int) {
	tb.Helper()
	timer := time.AfterFunc(30*time.Second, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(30 * time.Second)
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		missing := 0
		for c, p := range want {
			if w.places[c] != p {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d shoppers were not told their place within 30 s", missing)
		}
		w.cond.Wait()
	}
}

// commands returns how many commands Redis has processed.
func (w *waitingRoom) commands(tb testing.TB) int64 {
	tb.Helper()
	info, err := w.rdb.Info(context.Background(), "stats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	tb.Fatal("no total_commands_processed in INFO")
	return 0
}

// move claims the chat at the front and returns how long until every other waiting
// shopper was told their new place, and how many Redis commands that took in all.
func (w *waitingRoom) move(tb testing.TB, agent string) (time.Duration, int64) {
	tb.Helper()
	w.mu.Lock()
	head, rest := w.convs[0], append([]string(nil), w.convs[1:]...)
	w.convs = rest
	w.mu.Unlock()
	want := make(map[string]int, len(rest))
	for i, c := range rest {
		want[c] = i + 1
	}
	before := w.commands(tb)
	start := time.Now()
	if _, err := w.desk.Claim(context.Background(), head, agent); err != nil {
		tb.Fatal(err)
	}
	w.await(tb, want)
	took := time.Since(start)
	return took, w.commands(tb) - before - 1 // less the first INFO
}

// TestQueueMoveCost: the Redis commands it takes to tell every waiting shopper their
// new place after a claim do not grow with the queue.
func TestQueueMoveCost(t *testing.T) {
	cost := map[int]int64{}
	for _, n := range []int{10, 60} {
		w := newWaitingRoom(t, n)
		w.move(t, "alice") // the first claim reads the waits once per node
		_, cmds := w.move(t, "alice")
		cost[n] = cmds
		t.Logf("%d waiting: %d Redis commands for a claim and %d new places", n, cmds, n-2)
	}
	if cost[60] > cost[10]+5 {
		t.Errorf("a claim with 60 waiting cost %d Redis commands, with 10 waiting %d: the work per waiting shopper grows with the queue", cost[60], cost[10])
	}
}

// BenchmarkQueueMove: with 1,000 shoppers waiting on Redis, an agent takes the chat at
// the front; it reports how long until every other shopper's socket was told its new
// place (p50 and the worst), and the Redis commands per waiting shopper.
func BenchmarkQueueMove(b *testing.B) {
	const waiting = 1000
	w := newWaitingRoom(b, waiting+b.N)
	var (
		worst, sum time.Duration
		cmds       int64
	)
	b.ResetTimer()
	for i := range b.N {
		took, n := w.move(b, fmt.Sprint("agent", i))
		sum += took
		worst = max(worst, took)
		cmds += n
	}
	b.StopTimer()
	per := float64(cmds) / float64(b.N) / float64(waiting)
	b.ReportMetric(float64(sum.Milliseconds())/float64(b.N), "ms-to-all")
	b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
	b.ReportMetric(per, "cmds/waiting-shopper")
}
