package handoff

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff/redistest"
	"github.com/redis/go-redis/v9"
)

// engine makes a fresh, empty Store for one test.
type engine struct {
	name string
	new  func(t *testing.T) Store
}

// engines returns both storage engines; every Store test runs on each.
func engines() []engine {
	return []engine{
		{"memory", func(t *testing.T) Store { return NewMemoryStore(nil) }},
		{"redis", func(t *testing.T) Store {
			srv := redistest.Start(t)
			return newRedisTestStore(t, srv.Addr(), srv.Prefix(t))
		}},
	}
}

func newRedisTestStore(t *testing.T, addr, prefix string) *RedisStore {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	s, err := NewRedisStore(RedisConfig{Client: rdb, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runStore starts the store's event loop for the test's lifetime.
func runStore(t *testing.T, s Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func newConv(t *testing.T, s Store, id string) Conversation {
	t.Helper()
	c := Conversation{ID: id, TokenHash: hashToken("tok-" + id), Epoch: "e1", Status: StatusBot, CreatedAt: time.UnixMilli(1_700_000_000_000)}
	if err := s.Create(context.Background(), c); err != nil {
		t.Fatalf("Create(%q): %v", id, err)
	}
	return c
}

func msg(id, text string) Message {
	return Message{ID: id, Kind: KindMessage, From: FromShopper, Text: text}
}

func TestStore(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			t.Run("create and read", func(t *testing.T) { testCreate(t, e.new(t)) })
			t.Run("append and dedup", func(t *testing.T) { testAppend(t, e.new(t)) })
			t.Run("transitions", func(t *testing.T) { testTransitions(t, e.new(t)) })
			t.Run("waiting and owned", func(t *testing.T) { testIndexes(t, e.new(t)) })
			t.Run("events", func(t *testing.T) { testEvents(t, e.new(t)) })
		})
	}
}

func testCreate(t *testing.T, s Store) {
	ctx := context.Background()
	want := newConv(t, s, "c1")
	got, err := s.Conversation(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.TokenHash != want.TokenHash || got.Epoch != "e1" || got.Status != StatusBot || got.Seq != 0 || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("Conversation = %+v, want %+v", got, want)
	}
	if err := s.Create(ctx, want); err == nil {
		t.Error("Create of an existing id succeeded")
	}
	if _, err := s.Conversation(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Conversation(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Messages(ctx, "nope", 0, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Messages(unknown) error = %v, want ErrNotFound", err)
	}
	if _, _, err := s.Append(ctx, "nope", msg("m", "x")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Append(unknown) error = %v, want ErrNotFound", err)
	}
}

func testAppend(t *testing.T, s Store) {
	ctx := context.Background()
	newConv(t, s, "c1")
	for i := 1; i <= 5; i++ {
		m, dup, err := s.Append(ctx, "c1", msg(fmt.Sprint("m", i), fmt.Sprint("text ", i)))
		if err != nil || dup || m.Seq != int64(i) || m.TS == 0 {
			t.Fatalf("Append #%d = %+v, dup %v, err %v", i, m, dup, err)
		}
	}
	again, dup, err := s.Append(ctx, "c1", msg("m3", "changed"))
	if err != nil || !dup || again.Seq != 3 || again.Text != "text 3" {
		t.Fatalf("re-Append(m3) = %+v, dup %v, err %v; want the first record, dup", again, dup, err)
	}
	all, err := s.Messages(ctx, "c1", 0, 0)
	if err != nil || len(all) != 5 {
		t.Fatalf("Messages = %d records, err %v; want 5", len(all), err)
	}
	for i, m := range all {
		if m.Seq != int64(i+1) || m.ID != fmt.Sprint("m", i+1) || m.From != FromShopper {
			t.Errorf("record %d = %+v", i, m)
		}
	}
	page, _ := s.Messages(ctx, "c1", 2, 2)
	if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
		t.Errorf("Messages(after 2, limit 2) = %+v, want seq 3 and 4", page)
	}
	if rest, _ := s.Messages(ctx, "c1", 5, 0); len(rest) != 0 {
		t.Errorf("Messages(after last) = %+v, want none", rest)
	}
	c, _ := s.Conversation(ctx, "c1")
	if c.Seq != 5 {
		t.Errorf("Seq = %d, want 5", c.Seq)
	}
	if _, _, err := s.Append(ctx, "c1", Message{Kind: KindMessage, Text: "no id"}); err == nil {
		t.Error("Append without an id succeeded")
	}
}

func testTransitions(t *testing.T, s Store) {
	ctx := context.Background()
	newConv(t, s, "c1")
	hand := Transition{From: []string{StatusBot}, To: StatusQueued, Group: GroupAftersale, Reason: "after_sales", Intent: "aftersale",
		Context: &Context{Reason: "after_sales", Intent: "aftersale", Confidence: 0.8, Hits: []Candidate{{ID: "a", Title: "A", Category: "aftersale", Score: 1.5}}}}
	if _, _, err := s.Apply(ctx, "c1", hand, Message{ID: "h1", Kind: KindHandoff, Reason: "after_sales", Group: GroupAftersale}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Conversation(ctx, "c1")
	if c.Status != StatusQueued || c.Group != GroupAftersale || c.Reason != "after_sales" || c.EnqueuedAt.IsZero() ||
		c.Context == nil || len(c.Context.Hits) != 1 || c.Context.Hits[0].Score != 1.5 {
		t.Fatalf("after hand-off: %+v (context %+v)", c, c.Context)
	}
	if _, _, err := s.Apply(ctx, "c1", hand, Message{ID: "h2", Kind: KindHandoff}); !errors.Is(err, ErrWrongStatus) {
		t.Errorf("second hand-off error = %v, want ErrWrongStatus", err)
	}

	claim := func(agent, key string) error {
		_, _, err := s.Apply(ctx, "c1", Transition{From: []string{StatusQueued}, To: StatusActive, Agent: agent}, Message{ID: key, Kind: KindStatus, Status: StatusActive})
		return err
	}
	if err := claim("alice", "claim-a"); err != nil {
		t.Fatal(err)
	}
	if err := claim("bob", "claim-b"); !errors.Is(err, ErrAlreadyClaimed) {
		t.Errorf("second claim error = %v, want ErrAlreadyClaimed", err)
	}
	if err := claim("alice", "claim-a"); err != nil {
		t.Errorf("retried claim (same record id) error = %v, want success", err)
	}
	c, _ = s.Conversation(ctx, "c1")
	if c.Status != StatusActive || c.Agent != "alice" || c.ClaimedAt.IsZero() {
		t.Fatalf("after claim: %+v", c)
	}
	guard := Transition{From: []string{StatusActive}, Owner: "bob"}
	if _, _, err := s.Apply(ctx, "c1", guard, Message{ID: "r-bob", Kind: KindMessage, From: FromAgent}); !errors.Is(err, ErrNotOwner) {
		t.Errorf("non-owner reply error = %v, want ErrNotOwner", err)
	}
	resolve := Transition{From: []string{StatusActive}, To: StatusResolved, Owner: "alice"}
	if _, _, err := s.Apply(ctx, "c1", resolve, Message{ID: "res", Kind: KindStatus, Status: StatusResolved}); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Conversation(ctx, "c1")
	reply := Transition{From: []string{StatusActive}, Owner: "alice"}
	if _, _, err := s.Apply(ctx, "c1", reply, Message{ID: "late", Kind: KindMessage, From: FromAgent, Text: "hi"}); !errors.Is(err, ErrResolved) {
		t.Errorf("reply to resolved error = %v, want ErrResolved", err)
	}
	after, _ := s.Conversation(ctx, "c1")
	if after.Seq != before.Seq || after.Status != StatusResolved {
		t.Errorf("refused reply changed the conversation: seq %d → %d, status %s", before.Seq, after.Seq, after.Status)
	}
	newConv(t, s, "c2")
	if _, _, err := s.Apply(ctx, "c2", Transition{From: []string{StatusQueued}, To: StatusActive, Agent: "x"}, Message{ID: "k", Kind: KindStatus}); !errors.Is(err, ErrNotQueued) {
		t.Errorf("claim of a bot conversation error = %v, want ErrNotQueued", err)
	}
}

// queue creates a conversation and queues it in group the way the desk does: the routing
// change, the conversation's status, then FinishRoute. since orders the queue.
func queue(t *testing.T, s Store, id string, group string, since time.Time) {
	t.Helper()
	ctx := context.Background()
	newConv(t, s, id)
	r := &Route{Group: group, Score: since.UnixMilli(), Since: since, Key: "handoff:" + id}
	op, err := s.Reroute(ctx, RouteChange{Conv: id, Next: r, Op: RouteOp{Kind: opHandoff, Enter: true, At: since}})
	if err != nil {
		t.Fatalf("Reroute(%s into %s): %v", id, group, err)
	}
	if _, _, err := s.Apply(ctx, id, Transition{From: []string{StatusBot}, To: StatusQueued, Group: group, Since: since}, Message{ID: "h", Kind: KindHandoff}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRoute(ctx, op); err != nil {
		t.Fatal(err)
	}
}

// claimIn gives a waiting conversation to agent the way the desk does.
func claimIn(t *testing.T, s Store, id, agent string, limit int) error {
	t.Helper()
	ctx := context.Background()
	st, err := s.RouteState(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	next := *st.Route
	next.Agent = agent
	op, err := s.Reroute(ctx, RouteChange{Conv: id, Rev: st.Rev, Prev: st.Route, Next: &next, Cap: limit, Op: RouteOp{Kind: opClaim, Agent: agent, To: agent, At: time.Now()}})
	if err != nil {
		return err
	}
	if _, _, err := s.Apply(ctx, id, Transition{From: []string{StatusQueued}, To: StatusActive, Agent: agent}, Message{ID: fmt.Sprint("claim:", op.Rev), Kind: KindStatus}); err != nil {
		t.Fatal(err)
	}
	return s.FinishRoute(ctx, op)
}

func testIndexes(t *testing.T, s Store) {
	ctx := context.Background()
	t0 := time.UnixMilli(1_700_000_000_000)
	queue(t, s, "a", GroupPresale, t0)
	queue(t, s, "b", GroupAftersale, t0.Add(time.Second))
	w, err := s.Waiting(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 2 || w[0].ID != "a" || w[1].ID != "b" {
		t.Fatalf("Waiting = %v, want a, b", ids(w))
	}
	if err := claimIn(t, s, "a", "alice", 20); err != nil {
		t.Fatal(err)
	}
	own, err := s.Owned(ctx, "alice")
	if err != nil || len(own) != 1 || own[0].ID != "a" {
		t.Fatalf("Owned = %v, err %v; want a", ids(own), err)
	}
	if n, err := s.Load(ctx, "alice"); err != nil || n != 1 {
		t.Errorf("Load(alice) = %d, %v; want 1", n, err)
	}
	w, _ = s.Waiting(ctx)
	if len(w) != 1 || w[0].ID != "b" {
		t.Errorf("Waiting after claim = %v, want b", ids(w))
	}
	for i := range maxRecentWaits + 5 {
		s.RecordWait(ctx, time.Duration(i)*time.Second)
	}
	waits, err := s.RecentWaits(ctx)
	if err != nil || len(waits) != maxRecentWaits || waits[0] != time.Duration(maxRecentWaits+4)*time.Second {
		t.Errorf("RecentWaits = %d entries starting %v, err %v", len(waits), waits[:1], err)
	}
}

func ids(cs []Conversation) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func testEvents(t *testing.T, s Store) {
	runStore(t, s)
	one := s.Subscribe("c1")
	defer one.Close()
	all := s.Subscribe("")
	defer all.Close()
	// The Redis engine announces its subscription with a resync; wait for it so the
	// publishes below are not lost before the subscription is live.
	if _, ok := s.(*RedisStore); ok {
		waitEvent(t, all, func(e Event) bool { return e.Type == EventResync })
		waitEvent(t, one, func(e Event) bool { return e.Type == EventResync })
	}
	ctx := context.Background()
	s.Publish(ctx, Event{Type: EventMessage, Conv: "c2", Seq: 7})
	s.Publish(ctx, Event{Type: EventMessage, Conv: "c1", Seq: 3})
	s.Publish(ctx, Event{Type: EventQueue})
	got := waitEvent(t, one, func(Event) bool { return true })
	if got != (Event{Type: EventMessage, Conv: "c1", Seq: 3}) {
		t.Errorf("conversation subscriber got %+v first, want c1's message (c2's is not for it)", got)
	}
	waitEvent(t, one, func(e Event) bool { return e.Type == EventQueue })
	waitEvent(t, all, func(e Event) bool { return e.Conv == "c2" && e.Seq == 7 })
	waitEvent(t, all, func(e Event) bool { return e.Conv == "c1" })
}

func waitEvent(t *testing.T, s *Subscription, ok func(Event) bool) Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-s.C:
			if ok(e) {
				return e
			}
		case <-deadline:
			t.Fatal("no matching event within 5 s")
			return Event{}
		}
	}
}
