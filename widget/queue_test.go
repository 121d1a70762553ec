package widget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/widget"
	"github.com/redis/go-redis/v9"
)

func TestQueuePosition(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng, desk: func(c *handoff.DeskConfig) { c.ManualOnly = true }})
		e.online(t, "alice", handoff.GroupPresale)
		e.online(t, "carol", handoff.GroupAftersale)
		// Each shopper hands off alone, so that the frames read are its own hand-off's
		// (TestQueuePositions has shoppers wait connected together).
		// queued hands off a new shopper, returns its queue frame once the transfer
		// message is in too, and disconnects it.
		queued := func(name string, handoffFrame bool) (*shopper, frame) {
			t.Helper()
			sh := e.connect(t, "")
			last := int64(4) // shopper, bot, handoff, transfer message
			if handoffFrame {
				send(t, sh.c, msg{Type: "handoff", ID: "h1"})
				last = 2 // handoff, transfer message
			} else {
				sh.say(t, "r1", askReturn)
			}
			q, _ := find(readUntil(t, sh.c, name+"'s queue frame and transfer message", all(isSeq(last), isType("queue"))), isType("queue"))
			sh.c.Close()
			e.waitIdle(t)
			return sh, q
		}
		a, q := queued("a", false)
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
		// Someone in another group does not count.
		_, q = queued("p", true)
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
		b, q := queued("b", false)
		checkFields(t, q, map[string]any{"type": "queue", "position": 2, "eta_s": 120})

		// Both come back, and are told their places again.
		a = e.resume(t, a, 4)
		q, _ = find(readUntil(t, a.c, "a's queue frame", isType("queue")), isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 60})
		b = e.resume(t, b, 4)
		q, _ = find(readUntil(t, b.c, "b's queue frame", isType("queue")), isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 2, "eta_s": 120})

		if _, err := e.desk.Claim(ctx, a.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		// a waited a few milliseconds: the estimate per chat is its floor, 10 s.
		// Position reads the queue and the recent waits one after the other, so a
		// wake-up that lands in the middle of the claim may show a mixed estimate
		// first; the last word is position 1 in 10 s.
		fs := readUntil(t, b.c, "b's queue frame after a was claimed", func(f frame) bool {
			return f.str("type") == "queue" && f.num("position") == 1 && f.num("eta_s") == 10
		})
		for _, f := range fs {
			if f.str("type") == "queue" && f.num("position") != 1 && f.num("position") != 2 {
				t.Errorf("b got %v after a was claimed, want position 1 or 2", f)
			}
		}
		if got := logSeqs(fs); len(got) != 0 {
			t.Errorf("b got log frames %v for a's claim", got)
		}
		readUntil(t, a.c, "a's active status", isType("status"))
		if f, _ := find(a.barrier(t), isType("queue")); f != nil {
			t.Errorf("a got a queue frame %v after its active status", f)
		}
	})
}

// TestQueueFrameOnEveryHandoff: a conversation handed off a second time is told its
// queue position again, even when position and wait are those of its first hand-off.
func TestQueueFrameOnEveryHandoff(t *testing.T) {
	ctx := context.Background()
	// With a default wait of 10 s, the estimate before and after a claim is the same.
	// No reopen window: each round is a new hand-off from the bot.
	e := newEnv(t, setup{desk: func(c *handoff.DeskConfig) { c.DefaultWait, c.ReopenWindow, c.ManualOnly = 10*time.Second, -1, true }})
	e.online(t, "alice", handoff.GroupPresale)
	sh := e.connect(t, "")
	for round := range 3 {
		q, _ := find(sh.handOff(t, fmt.Sprintf("h%d", round)), isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1, "eta_s": 10})
		if _, err := e.desk.Claim(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		if _, err := e.desk.Resolve(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		readUntil(t, sh.c, "the resolved status", func(f frame) bool { return f.str("status") == "resolved" })
	}
}

// placeCounter counts the reads of queue places.
type placeCounter struct {
	handoff.Conversations
	n atomic.Int64
}

func (p *placeCounter) Place(ctx context.Context, g handoff.Group, id string) (int, int64, error) {
	p.n.Add(1)
	return p.Conversations.Place(ctx, g, id)
}

// TestQueuePositions: waiting shoppers are told their new place when a chat ahead of them
// is claimed, from the queue's events: each reads its place once, when it joins.
func TestQueuePositions(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		pc := new(placeCounter)
		e := newEnv(t, setup{engine: eng, wrap: func(c handoff.Conversations) handoff.Conversations { pc.Conversations = c; return pc }})
		var shoppers []*shopper
		for i := range 4 {
			sh := e.connect(t, "")
			if q, _ := find(sh.handOff(t, "h1"), isType("queue")); q.num("position") != int64(i+1) {
				t.Fatalf("shopper %d's queue frame = %v", i, q)
			}
			shoppers = append(shoppers, sh)
		}
		reads := pc.n.Load()
		if _, err := e.desk.Claim(ctx, shoppers[0].conv, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.desk.Claim(ctx, shoppers[2].conv, "alice"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, shoppers[1].c, "place 1", func(f frame) bool { return f.str("type") == "queue" && f.num("position") == 1 })
		readUntil(t, shoppers[3].c, "place 3, then 2", func(f frame) bool { return f.str("type") == "queue" && f.num("position") == 3 })
		readUntil(t, shoppers[3].c, "place 2", func(f frame) bool { return f.str("type") == "queue" && f.num("position") == 2 })
		if n := pc.n.Load() - reads; n != 0 {
			t.Errorf("the gateway read places %d times after the claims; want none: events carry the moves", n)
		}
	})
}

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
func (w *waitingRoom) commands(tb testing.TB) int64 { return redisCommands(tb, w.rdb) }

// redisCommands returns how many commands the Redis of rdb has processed.
func redisCommands(tb testing.TB, rdb *redis.Client) int64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "stats").Result()
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

// TestBotWhileQueued: a shopper waiting in the pre-sale queue who asks what the bot
// answers gets the answer and stays in the queue; one who then raises an after-sales
// case is moved to the after-sales queue, told by a handoff frame of that group and
// their place there.
func TestBotWhileQueued(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		sh.handOff(t, "h1") // seqs 1, 2

		sh.say(t, "q1", askInvoice)
		fs := readUntil(t, sh.c, "the bot's answer while queued", isMessageFrom("bot"))
		answer, _ := find(fs, isMessageFrom("bot"))
		checkFields(t, answer, map[string]any{
			"type": "message", "seq": 4, "from": "bot", "text": invoiceArticle.Answer,
			"article": articleField(invoiceArticle), "ts": nil,
		})
		fs = sh.barrier(t)
		if f, _ := find(fs, func(f frame) bool { return isType("status")(f) || isType("handoff")(f) }); f != nil {
			t.Errorf("the answer while queued changed the chat: %v", f)
		}
		if c, err := e.desk.Conversation(context.Background(), sh.conv); err != nil || c.Status != handoff.StatusQueued || c.Group != handoff.GroupPresale {
			t.Errorf("after the answer: %+v, %v; want it queued for pre-sale", c, err)
		}

		sh.say(t, "q2", askReturn)
		fs = readUntil(t, sh.c, "the move to after-sales and its queue frame", all(isType("handoff"), isType("queue")))
		h, _ := find(fs, isType("handoff"))
		checkFields(t, h, map[string]any{"type": "handoff", "seq": nil, "reason": "after_sales", "group": "aftersale", "ts": nil})
		q, _ := find(fs, isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1})
		if c, err := e.desk.Conversation(context.Background(), sh.conv); err != nil || c.Status != handoff.StatusQueued || c.Group != handoff.GroupAftersale {
			t.Errorf("after the after-sales case: %+v, %v; want it queued for after-sales", c, err)
		}
	})
}
