package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff/redistest"
	"github.com/redis/go-redis/v9"
)

// ctClock is the clock the desk and console tests give to stores and desks. Every reading
// moves it on by a millisecond, so that stored times are distinct and ordered even at the
// Redis engine's millisecond precision; Advance moves it on further.
type ctClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func ctNewClock() *ctClock { return &ctClock{t: time.Now().Truncate(time.Millisecond)} }

func (c *ctClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *ctClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ctEngines are the two Store engines every desk and console test runs on. open returns
// a fresh, empty store whose Run is delivering events, stopped when the test ends.
var ctEngines = []struct {
	name string
	open func(t *testing.T, now func() time.Time) Store
}{
	{"memory", func(t *testing.T, now func() time.Time) Store {
		s := NewMemoryStore(now)
		ctRun(t, s, nil)
		return s
	}},
	{"redis", func(t *testing.T, now func() time.Time) Store {
		s, _ := ctRedisStore(t, now)
		return s
	}},
}

// ctRedisStore starts a redis-server for the test and returns a RedisStore on it, with a
// key prefix of its own, and the server for fault tests.
func ctRedisStore(t *testing.T, now func() time.Time) (*RedisStore, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	s, err := NewRedisStore(RedisConfig{Client: rdb, Prefix: srv.Prefix(t), Now: now})
	if err != nil {
		t.Fatalf("NewRedisStore: %v", err)
	}
	// RedisStore.Run does not notice the end of its context while it waits for a
	// message, so closing the client is what makes it return.
	ctRun(t, s, func() { rdb.Close() })
	return s, srv
}

// ctRun runs s.Run until the test ends, and returns once events published on s reach its
// subscribers (for Redis: once Run has subscribed to the channel). At the end of the test
// it cancels Run's context, calls unblock if set, and waits for Run to return.
func ctRun(t *testing.T, s Store, unblock func()) {
	t.Helper()
	sub := s.Subscribe("")
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		if unblock != nil {
			unblock()
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return within 10s of its context's end")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := s.Publish(ctx, Event{Type: EventResync}); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		select {
		case <-sub.C:
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no event came through Run within 10s")
		}
	}
}

// ctNewDesk returns a desk on store with the clock.
func ctNewDesk(t *testing.T, store Store, clock *ctClock) *Desk {
	t.Helper()
	d, err := NewDesk(DeskConfig{Store: store, Staff: newTestStaff(), Now: clock.Now})
	if err != nil {
		t.Fatalf("NewDesk: %v", err)
	}
	return d
}

// ctContext is the hand-off packet of ctQueue.
func ctContext() *Context {
	return &Context{
		Reason: "after_sales", Intent: "aftersale", Confidence: 0.42, Question: "我要退货",
		Hits: []Candidate{
			{ID: "return-policy", Title: "七天无理由退货", Category: "aftersale", Score: 3.25},
			{ID: "refund-time", Title: "退款多久到账", Category: "aftersale", Score: 1.5},
		},
	}
}

// ctQueue starts a conversation in which the shopper asks to return an item, hands it to
// group's queue and returns it.
func ctQueue(t *testing.T, d *Desk, group string) Conversation {
	t.Helper()
	ctx := context.Background()
	c, _, err := d.Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, _, err := d.Append(ctx, c.ID, Message{ID: "m1", Kind: KindMessage, From: FromShopper, Text: "我要退货"}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	h := HandoffRequest{Key: "m1", Reason: "after_sales", Group: group, Intent: "aftersale", Context: ctContext()}
	if err := d.Handoff(ctx, c.ID, h); err != nil {
		t.Fatalf("Handoff: %v", err)
	}
	c, err = d.Conversation(ctx, c.ID)
	if err != nil {
		t.Fatalf("Conversation: %v", err)
	}
	if c.Status != StatusQueued {
		t.Fatalf("status after Handoff = %q, want %q", c.Status, StatusQueued)
	}
	return c
}

// ctLog returns the conversation's whole log.
func ctLog(t *testing.T, d *Desk, id string) []Message {
	t.Helper()
	ms, err := d.Messages(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatalf("Messages(%q): %v", id, err)
	}
	return ms
}

// ctCount counts the records of log that are status changes to status.
func ctCount(log []Message, status string) int {
	n := 0
	for _, m := range log {
		if m.Kind == KindStatus && m.Status == status {
			n++
		}
	}
	return n
}

func ctIDs(cs []Conversation) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func TestDeskClaimRace(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := ctNewClock()
			d := ctNewDesk(t, e.open(t, clock.Now), clock)
			c := ctQueue(t, d, GroupAftersale)

			const agents = 20
			errs := make([]error, agents)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range agents {
				wg.Go(func() {
					<-start
					_, errs[i] = d.Claim(ctx, c.ID, fmt.Sprintf("agent%02d", i))
				})
			}
			close(start)
			wg.Wait()

			winner := ""
			for i, err := range errs {
				switch {
				case err == nil && winner != "":
					t.Errorf("agent%02d claimed too, after %s", i, winner)
				case err == nil:
					winner = fmt.Sprintf("agent%02d", i)
				case !errors.Is(err, ErrAlreadyClaimed):
					t.Errorf("agent%02d: Claim error = %v, want ErrAlreadyClaimed", i, err)
				}
			}
			if winner == "" {
				t.Fatal("no agent claimed the conversation")
			}
			got, err := d.Conversation(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != StatusActive || got.Agent != winner {
				t.Errorf("conversation is %s with %q, want active with %q", got.Status, got.Agent, winner)
			}
			if n := ctCount(ctLog(t, d, c.ID), StatusActive); n != 1 {
				t.Errorf("log has %d status-active records, want 1", n)
			}
			for i := range agents {
				name := fmt.Sprintf("agent%02d", i)
				owned, err := d.Owned(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				want := 0
				if name == winner {
					want = 1
				}
				if len(owned) != want {
					t.Errorf("Owned(%s) = %v, want %d conversations", name, ctIDs(owned), want)
				}
			}
			if w, _ := d.Waiting(ctx, ""); len(w) != 0 {
				t.Errorf("Waiting after the claim = %v, want none", ctIDs(w))
			}
		})
	}
}

func TestDeskClaimManyRace(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := ctNewClock()
			d := ctNewDesk(t, e.open(t, clock.Now), clock)
			const convs, agents = 50, 10
			ids := make([]string, convs)
			for i := range ids {
				ids[i] = ctQueue(t, d, GroupPresale).ID
			}

			// won[a][i] says whether agent a's claim of conversation i succeeded.
			won := make([][]bool, agents)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for a := range agents {
				won[a] = make([]bool, convs)
				wg.Go(func() {
					<-start
					for i, id := range ids {
						_, err := d.Claim(ctx, id, fmt.Sprintf("agent%d", a))
						switch {
						case err == nil:
							won[a][i] = true
						case errors.Is(err, ErrAtCapacity):
							// A fast agent fills up (20 chats by default); the others
							// take the rest.
						case !errors.Is(err, ErrAlreadyClaimed):
							t.Errorf("agent%d claiming %d: %v", a, i, err)
						}
					}
				})
			}
			close(start)
			wg.Wait()

			owner := make(map[string]string) // conversation id -> agent, from Owned
			for a := range agents {
				name := fmt.Sprintf("agent%d", a)
				owned, err := d.Owned(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				if len(owned) > d.maxChats {
					t.Errorf("%s owns %d conversations, more than the limit %d", name, len(owned), d.maxChats)
				}
				for _, c := range owned {
					if prev, ok := owner[c.ID]; ok {
						t.Errorf("%s is owned by both %s and %s", c.ID, prev, name)
					}
					owner[c.ID] = name
				}
			}
			if len(owner) != convs {
				t.Errorf("Owned lists add up to %d conversations, want %d", len(owner), convs)
			}
			for i, id := range ids {
				var winners []string
				for a := range agents {
					if won[a][i] {
						winners = append(winners, fmt.Sprintf("agent%d", a))
					}
				}
				c, err := d.Conversation(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if len(winners) != 1 || c.Status != StatusActive || c.Agent != winners[0] || owner[id] != winners[0] {
					t.Errorf("conversation %d: claims won by %v; status %s, agent %q, Owned by %q",
						i, winners, c.Status, c.Agent, owner[id])
				}
				if n := ctCount(ctLog(t, d, id), StatusActive); n != 1 {
					t.Errorf("conversation %d: %d status-active records, want 1", i, n)
				}
			}
		})
	}
}

func TestDeskPosition(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := ctNewClock()
			d := ctNewDesk(t, e.open(t, clock.Now), clock)
			first := ctQueue(t, d, GroupAftersale)
			other := ctQueue(t, d, GroupPresale)
			second := ctQueue(t, d, GroupAftersale)

			for _, tc := range []struct {
				name string
				id   string
				want int
			}{
				{"first", first.ID, 1}, {"second", second.ID, 2}, {"other group", other.ID, 1},
			} {
				pos, eta, err := d.Position(ctx, tc.id)
				if err != nil || pos != tc.want || eta <= 0 {
					t.Errorf("Position(%s) = %d, %v, %v; want %d, > 0, nil", tc.name, pos, eta, err, tc.want)
				}
			}

			if _, err := d.Claim(ctx, first.ID, "alice"); err != nil {
				t.Fatalf("Claim: %v", err)
			}
			if pos, eta, err := d.Position(ctx, second.ID); err != nil || pos != 1 || eta <= 0 {
				t.Errorf("Position(second) after the first was claimed = %d, %v, %v; want 1, > 0, nil", pos, eta, err)
			}
			if _, _, err := d.Position(ctx, first.ID); !errors.Is(err, ErrNotQueued) {
				t.Errorf("Position(claimed) error = %v, want ErrNotQueued", err)
			}
		})
	}
}

func TestDeskHandoffTwice(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := ctNewClock()
			d := ctNewDesk(t, e.open(t, clock.Now), clock)
			c := ctQueue(t, d, GroupAftersale)
			before := ctLog(t, d, c.ID)

			again := HandoffRequest{Key: "m2", Reason: "requested", Group: GroupPresale, Intent: "presale"}
			if err := d.Handoff(ctx, c.ID, again); !errors.Is(err, ErrWrongStatus) {
				t.Errorf("Handoff of a queued conversation: error = %v, want ErrWrongStatus", err)
			}
			// The same key again is a retry of the hand-off that went through.
			retry := HandoffRequest{Key: "m1", Reason: "after_sales", Group: GroupAftersale, Intent: "aftersale", Context: ctContext()}
			if err := d.Handoff(ctx, c.ID, retry); err != nil {
				t.Errorf("retried Handoff: %v", err)
			}
			if after := ctLog(t, d, c.ID); len(after) != len(before) {
				t.Errorf("log grew from %d to %d records", len(before), len(after))
			}
			got, err := d.Conversation(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != StatusQueued || got.Group != GroupAftersale || !got.EnqueuedAt.Equal(c.EnqueuedAt) {
				t.Errorf("conversation now %s in %s since %v, want unchanged (queued in aftersale since %v)",
					got.Status, got.Group, got.EnqueuedAt, c.EnqueuedAt)
			}

			if _, err := d.Claim(ctx, c.ID, "alice"); err != nil {
				t.Fatal(err)
			}
			if err := d.Handoff(ctx, c.ID, HandoffRequest{Key: "m3", Group: GroupAftersale}); !errors.Is(err, ErrWrongStatus) {
				t.Errorf("Handoff of an active conversation: error = %v, want ErrWrongStatus", err)
			}
			if w, err := d.Waiting(ctx, ""); err != nil || len(w) != 0 {
				t.Errorf("Waiting = %v, %v; want none", ctIDs(w), err)
			}
		})
	}
}

func TestDeskOpen(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := ctNewClock()
			d := ctNewDesk(t, e.open(t, clock.Now), clock)
			c, token, err := d.Start(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := d.Open(ctx, c.ID, token); err != nil || got.ID != c.ID {
				t.Fatalf("Open with the right token = %q, %v", got.ID, err)
			}
			for _, tc := range []struct{ name, id, token string }{
				{"wrong token", c.ID, token + "x"},
				{"unknown id", "c_unknown", token},
				{"no token", c.ID, ""},
			} {
				if _, err := d.Open(ctx, tc.id, tc.token); !errors.Is(err, ErrBadToken) {
					t.Errorf("Open with %s: error = %v, want ErrBadToken", tc.name, err)
				}
			}
		})
	}
}

// ctInterleavingStore reads the queue and the new owner's conversations right after each
// routing write: it plays another console refreshing its lists between the desk's
// routing write and its conversation write.
type ctInterleavingStore struct {
	Store
}

func (s ctInterleavingStore) Reroute(ctx context.Context, ch RouteChange) (RouteOp, error) {
	op, err := s.Store.Reroute(ctx, ch)
	s.Store.Waiting(ctx)
	if ch.Next != nil && ch.Next.Agent != "" {
		s.Store.Owned(ctx, ch.Next.Agent)
	}
	return op, err
}

// TestDeskIndexReader checks that a reader of the queue or of an agent's conversations
// that runs in the middle of a hand-off or claim does not make the conversation vanish
// from the index.
func TestDeskIndexReader(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := ctNewClock()
			d := ctNewDesk(t, ctInterleavingStore{e.open(t, clock.Now)}, clock)
			c := ctQueue(t, d, GroupAftersale)
			if w, err := d.Waiting(ctx, GroupAftersale); err != nil || !slices.Contains(ctIDs(w), c.ID) {
				t.Errorf("Waiting = %v, %v; want it to list the queued %s", ctIDs(w), err, c.ID)
			}
			if _, err := d.Claim(ctx, c.ID, "alice"); err != nil {
				t.Fatal(err)
			}
			if o, err := d.Owned(ctx, "alice"); err != nil || !slices.Contains(ctIDs(o), c.ID) {
				t.Errorf("Owned(alice) = %v, %v; want it to list the claimed %s", ctIDs(o), err, c.ID)
			}
		})
	}
}

// TestDeskRedisRestart stops Redis under a queued conversation and starts it again: calls
// fail while it is down, and everything is back (from the AOF) after.
func TestDeskRedisRestart(t *testing.T) {
	clock := ctNewClock()
	store, srv := ctRedisStore(t, clock.Now)
	d := ctNewDesk(t, store, clock)
	ctx := context.Background()
	c := ctQueue(t, d, GroupAftersale)
	if _, _, err := d.Append(ctx, c.ID, Message{ID: "m2", Kind: KindMessage, From: FromShopper, Text: "订单号 20240101"}); err != nil {
		t.Fatal(err)
	}
	before := ctLog(t, d, c.ID)

	srv.Stop()
	for _, call := range []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"Waiting", func(ctx context.Context) error { _, err := d.Waiting(ctx, ""); return err }},
		{"Claim", func(ctx context.Context) error { _, err := d.Claim(ctx, c.ID, "alice"); return err }},
		{"Reply", func(ctx context.Context) error { _, err := d.Reply(ctx, c.ID, "alice", "r1", "您好"); return err }},
	} {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		errc := make(chan error, 1)
		go func() { errc <- call.do(ctx) }()
		select {
		case err := <-errc:
			if err == nil {
				t.Errorf("%s with Redis down: no error", call.name)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s with Redis down still running after 10s", call.name)
		}
		cancel()
	}

	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for d.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no answer from Redis within 10s of the restart")
		}
	}
	got, err := d.Conversation(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusQueued || got.Group != GroupAftersale || got.Seq != int64(len(before)) || got.Context == nil || len(got.Context.Hits) != 2 {
		t.Errorf("after the restart the conversation is %+v", got)
	}
	after := ctLog(t, d, c.ID)
	if len(after) != len(before) {
		t.Fatalf("log has %d records after the restart, %d before", len(after), len(before))
	}
	for i := range after {
		if !ctSameMessage(after[i], before[i]) {
			t.Errorf("record %d after the restart = %+v, before %+v", i+1, after[i], before[i])
		}
	}
	if w, err := d.Waiting(ctx, GroupAftersale); err != nil || !slices.Equal(ctIDs(w), []string{c.ID}) {
		t.Errorf("Waiting after the restart = %v, %v; want [%s]", ctIDs(w), err, c.ID)
	}
	claimed, err := d.Claim(ctx, c.ID, "alice")
	if err != nil || claimed.Status != StatusActive || claimed.Agent != "alice" {
		t.Fatalf("Claim after the restart = %s with %q, %v", claimed.Status, claimed.Agent, err)
	}
	if n := ctCount(ctLog(t, d, c.ID), StatusActive); n != 1 {
		t.Errorf("log has %d status-active records, want 1", n)
	}
}

// ctSameMessage compares the fields of two records that can be compared with ==.
func ctSameMessage(a, b Message) bool {
	return a.Seq == b.Seq && a.Kind == b.Kind && a.From == b.From && a.ID == b.ID && a.Text == b.Text &&
		a.Agent == b.Agent && a.Reason == b.Reason && a.Group == b.Group && a.Status == b.Status && a.TS == b.TS
}
