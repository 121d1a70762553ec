package handoff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// Traffic of TestRedisRestartDuringRouting.
const (
	rrCap       = 4 // every agent's limit
	rrAuto      = 4 // agents online, given chats by automatic assignment
	rrClaimers  = 4 // agents without presence, who claim from the queue
	rrHandoffs  = 3 // goroutines handing chats off
	rrOutage    = 5 * time.Second
	rrPhaseWait = 30 * time.Second // bound of every wait for progress
)

// rrCall is one desk call made by the traffic of the restart test.
type rrCall struct {
	kind        string // start, handoff, claim, resolve, assign, heartbeat
	conv, agent string
	start, end  time.Time
	err         error
}

// rrCalls records the calls of the traffic goroutines.
type rrCalls struct {
	mu      sync.Mutex // guards calls and started
	calls   []rrCall
	started []string // conversations whose Start succeeded
}

// begun records that conversation id was started.
func (r *rrCalls) begun(id string) {
	r.mu.Lock()
	r.started = append(r.started, id)
	r.mu.Unlock()
}

// do runs f as a call of kind and records it.
func (r *rrCalls) do(kind, conv, agent string, f func() error) error {
	start := time.Now()
	err := f()
	r.mu.Lock()
	r.calls = append(r.calls, rrCall{kind: kind, conv: conv, agent: agent, start: start, end: time.Now(), err: err})
	r.mu.Unlock()
	return err
}

// snapshot returns the calls recorded so far.
func (r *rrCalls) snapshot() []rrCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// startedIDs returns the conversations started so far.
func (r *rrCalls) startedIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.started)
}

// succeededSince counts the successful calls of kind that started after t.
func (r *rrCalls) succeededSince(kind string, t time.Time) int {
	n := 0
	for _, c := range r.snapshot() {
		if c.kind == kind && c.err == nil && c.start.After(t) {
			n++
		}
	}
	return n
}

// lineCounter counts the log lines that contain a phrase.
type lineCounter struct {
	phrase []byte
	n      atomic.Int64
}

func (w *lineCounter) Write(p []byte) (int, error) {
	if bytes.Contains(p, w.phrase) {
		w.n.Add(1)
	}
	return len(p), nil
}

// rrPoll waits up to rrPhaseWait for ok.
func rrPoll(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(rrPhaseWait)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, rrPhaseWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRedisRestartDuringRouting stops redis-server for 5 s in the middle of hand-offs,
// claims, resolves and automatic assignments running in goroutines, and starts it again
// (the AOF keeps the data). Every call made while Redis was down must fail, none
// silently succeed. Afterwards, without any reconnect by hand, the desk's Run loop
// finishes what the outage left half done and assigns again, and the store, counted
// from Redis, has lost no chat: every hand-off that succeeded is waiting, owned or
// resolved, exactly once, no chat has two owners and no agent is over their limit.
func TestRedisRestartDuringRouting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{
		Addr: srv.Addr(), DialTimeout: 250 * time.Millisecond, ReadTimeout: time.Second,
		WriteTimeout: time.Second, PoolTimeout: time.Second,
	})
	t.Cleanup(func() { rdb.Close() })
	// The clock can be moved on, so that the sweep takes up the changes the outage left
	// pending without the test waiting pendingAfter.
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	store, err := NewRedisStore(RedisConfig{Client: rdb, Prefix: srv.Prefix(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ctRun(t, store, func() { rdb.Close() })
	sweepWarnings := &lineCounter{phrase: []byte("sweeping the desk")}
	staff := newTestStaff()
	d, err := NewDesk(DeskConfig{Store: store, Staff: staff, Now: now, MaxChats: rrCap, SweepInterval: 50 * time.Millisecond, Logger: zerolog.New(sweepWarnings)})
	if err != nil {
		t.Fatal(err)
	}
	// manual hands off without assigning, so that only d's Run assigns what it queues.
	manual, err := NewDesk(DeskConfig{Store: store, Staff: staff, Now: now, MaxChats: rrCap, ManualOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- d.Run(runCtx) }()
	t.Cleanup(func() {
		stopRun()
		if err := <-runDone; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	var autos, claimers []string
	for i := range rrAuto {
		autos = append(autos, fmt.Sprintf("auto%d", i))
	}
	for i := range rrClaimers {
		claimers = append(claimers, fmt.Sprintf("claimer%d", i))
	}
	for _, a := range append(slices.Clone(autos), append(claimers, "late")...) {
		rtUser(t, d, a, GroupPresale, 0)
	}
	for _, a := range autos {
		rtBeat(t, d, a, PresenceOnline)
	}

	// The traffic: goroutines that run until stop is closed, each pausing a little
	// between calls, as shoppers and agents do.
	calls := &rrCalls{}
	stop := make(chan struct{})
	pause := func(d time.Duration) bool {
		select {
		case <-stop:
			return false
		case <-time.After(d):
			return true
		}
	}
	var traffic sync.WaitGroup
	var maxLoad atomic.Int64
	// Shoppers: start a conversation, write, ask for a person; a hand-off that fails is
	// asked for again with the same key, as the widget does.
	fresh := make(chan string, 64)
	traffic.Go(func() {
		for pause(2 * time.Millisecond) {
			var c Conversation
			err := calls.do("start", "", "", func() error {
				var err error
				if c, _, err = d.Start(ctx); err != nil {
					return err
				}
				calls.begun(c.ID)
				_, _, err = d.Append(ctx, c.ID, Message{ID: "m1", Kind: KindMessage, From: FromShopper, Text: "转人工"})
				return err
			})
			if err != nil {
				continue
			}
			select {
			case fresh <- c.ID:
			case <-stop:
				return
			}
		}
	})
	for range rrHandoffs {
		traffic.Go(func() {
			conv := ""
			for pause(10 * time.Millisecond) {
				if conv == "" {
					select {
					case conv = <-fresh:
					case <-stop:
						return
					}
				}
				err := calls.do("handoff", conv, "", func() error {
					return d.Handoff(ctx, conv, HandoffRequest{Key: "m1", Reason: "requested", Group: GroupPresale})
				})
				if err == nil {
					conv = ""
				}
			}
		})
	}
	// Agents without presence claim from the last list of waiting chats they saw (a
	// console keeps its list while the server is down, and an agent may click on a chat
	// someone took meanwhile) and resolve a chat when they are full.
	for _, a := range claimers {
		traffic.Go(func() {
			var waiting, owned []Conversation
			for pause(5 * time.Millisecond) {
				if w, err := d.Waiting(ctx, GroupPresale); err == nil && len(w) > 0 {
					waiting = w
				}
				full := false
				for _, c := range waiting[:min(2, len(waiting))] {
					err := calls.do("claim", c.ID, a, func() error {
						got, err := d.Claim(ctx, c.ID, a)
						if err == nil && (got.Status != StatusActive || got.Agent != a) {
							t.Errorf("Claim(%s, %s) succeeded, but the chat is %s with %q", c.ID, a, got.Status, got.Agent)
						}
						return err
					})
					full = full || errors.Is(err, ErrAtCapacity)
				}
				if o, err := d.Owned(ctx, a); err == nil {
					owned = o
				}
				if full || len(owned) >= rrCap {
					for _, c := range owned[:min(1, len(owned))] {
						rrResolve(t, d, calls, c.ID, a)
					}
				}
			}
		})
	}
	// Online agents send heartbeats and resolve what they are given.
	for _, a := range autos {
		traffic.Go(func() {
			for pause(100 * time.Millisecond) {
				calls.do("heartbeat", "", a, func() error {
					_, err := d.Heartbeat(ctx, a, PresenceOnline)
					return err
				})
			}
		})
		traffic.Go(func() {
			var owned []Conversation
			for pause(30 * time.Millisecond) {
				if o, err := d.Owned(ctx, a); err == nil {
					owned = o
				}
				for _, c := range owned[:min(1, len(owned))] {
					rrResolve(t, d, calls, c.ID, a)
				}
			}
		})
	}
	// A node's automatic assignment, besides the one after each change.
	traffic.Go(func() {
		for pause(20 * time.Millisecond) {
			calls.do("assign", "", "", func() error {
				_, err := d.AutoAssign(ctx, GroupPresale)
				return err
			})
		}
	})
	// The loads, read all along.
	traffic.Go(func() {
		for pause(10 * time.Millisecond) {
			for _, a := range append(slices.Clone(autos), claimers...) {
				if n, err := store.Load(ctx, a); err == nil && int64(n) > maxLoad.Load() {
					maxLoad.Store(int64(n))
				}
			}
		}
	})
	stopTraffic := sync.OnceFunc(func() { close(stop); traffic.Wait() })
	t.Cleanup(stopTraffic)

	kinds := []string{"start", "handoff", "claim", "resolve", "assign", "heartbeat"}
	progress := func(since time.Time) func() bool {
		return func() bool {
			for _, k := range kinds {
				if calls.succeededSince(k, since) < 5 {
					return false
				}
			}
			return true
		}
	}
	begin := time.Now()
	rrPoll(t, "traffic before the outage", progress(begin))

	// The outage.
	srv.Stop()
	down := time.Now()
	time.Sleep(rrOutage) // keeps Redis down while the traffic goes on
	up := time.Now()
	warningsDown := sweepWarnings.n.Load()
	srv.Restart()
	restarted := time.Now()
	// What the outage left half done: changes decided in the routing state whose
	// conversation side failed.
	var pending []RouteOp
	rrPoll(t, "a read after the restart", func() bool {
		pending, err = store.PendingRoutes(ctx, now().Add(time.Hour))
		return err == nil
	})
	rrPoll(t, "traffic after the restart", progress(restarted))
	// The store's Run subscribes again by itself: an event published now comes through.
	sub := store.Subscribe("")
	defer sub.Close()
	rrPoll(t, "an event through the store's subscription", func() bool {
		if err := store.Publish(ctx, Event{Type: EventPresence}); err != nil {
			return false
		}
		for {
			select {
			case e := <-sub.C:
				if e.Type == EventPresence {
					return true
				}
			case <-time.After(20 * time.Millisecond):
				return false
			}
		}
	})
	stopTraffic()

	// Every call made while Redis was down failed, with an error that claims nothing
	// about the chat (no refusal read from a state it could not read).
	all := calls.snapshot()
	during := map[string]int{}
	for _, c := range all {
		if c.start.Before(down) || c.end.After(up) {
			continue
		}
		during[c.kind]++
		switch {
		case c.err == nil:
			t.Errorf("%s of %q by %q during the outage succeeded", c.kind, c.conv, c.agent)
		case refused(c.err) || errors.Is(c.err, ErrAtCapacity) || errors.Is(c.err, ErrBusy):
			t.Errorf("%s of %q by %q during the outage was refused: %v", c.kind, c.conv, c.agent, c.err)
		}
	}
	for _, k := range kinds {
		if during[k] == 0 {
			t.Errorf("no %s call was made during the outage", k)
		}
	}
	if warningsDown == 0 {
		t.Error("the desk's Run logged no failed sweep during the outage")
	}
	t.Logf("calls during the outage, all failed: %v; failed sweeps: %d", during, warningsDown)

	// The Run loop recovers by itself: it finishes the changes the outage left pending
	// once they are pendingAfter old, and gives an agent who comes online (through the
	// store, so that only the sweep assigns) a full load from new waiting chats.
	skew.Add(int64(pendingAfter + time.Second))
	rrPoll(t, "the sweep to finish the pending changes", func() bool {
		ops, err := store.PendingRoutes(ctx, now().Add(time.Hour))
		return err == nil && len(ops) == 0
	})
	var extra []string
	for range rrCap * (rrAuto + 1) {
		extra = append(extra, rtHandoff(t, manual, GroupPresale, "requested", 0))
	}
	if err := store.Heartbeat(ctx, Presence{Agent: "late", Group: GroupPresale, Status: PresenceOnline, Cap: rrCap, Seen: d.nowMS()}); err != nil {
		t.Fatal(err)
	}
	rrPoll(t, "the sweep to assign a full load to the late agent", func() bool {
		n, err := store.Load(ctx, "late")
		return err == nil && n == rrCap
	})
	t.Logf("%d routing changes were pending right after the restart; all are finished", len(pending))

	rrCheck(t, d, store, all, append(calls.startedIDs(), extra...), extra, append(append(autos, claimers...), "late"))
	if n := maxLoad.Load(); n > rrCap {
		t.Errorf("an agent's load reached %d during the traffic, over the limit %d", n, rrCap)
	}
}

// rrResolve resolves conv as agent and records the call.
func rrResolve(t *testing.T, d *Desk, calls *rrCalls, conv, agent string) {
	calls.do("resolve", conv, agent, func() error {
		c, err := d.Resolve(context.Background(), conv, agent)
		if err == nil && c.Status != StatusResolved {
			t.Errorf("Resolve(%s, %s) succeeded, but the chat is %s", conv, agent, c.Status)
		}
		return err
	})
}

// rrCheck counts from Redis where every conversation of the restart test is, once
// nothing is pending any more: each is with the bot, waiting in the queue, owned by one
// agent or resolved, its record agrees with the routing state, and its log holds each
// routing step at most once.
func rrCheck(t *testing.T, d *Desk, s *RedisStore, calls []rrCall, ids, extra, agents []string) {
	t.Helper()
	ctx := context.Background()
	started := map[string]bool{}
	handedOff := map[string]bool{} // a Handoff call succeeded
	claimedBy := map[string]string{}
	for _, id := range ids {
		started[id] = true
	}
	for _, id := range extra {
		handedOff[id] = true
	}
	for _, c := range calls {
		if c.conv != "" && !started[c.conv] {
			t.Errorf("%s of %s, which was never started", c.kind, c.conv)
		}
		switch {
		case c.err != nil:
		case c.kind == "handoff":
			handedOff[c.conv] = true
		case c.kind == "claim":
			if prev, ok := claimedBy[c.conv]; ok && prev != c.agent {
				t.Errorf("%s was claimed by both %s and %s", c.conv, prev, c.agent)
			}
			claimedBy[c.conv] = c.agent
		}
	}

	// Where the routing state puts each conversation, read from Redis directly.
	where := map[string]string{} // conversation → "queue" or its owner
	queue, err := s.rdb.ZRange(ctx, s.waitKey(GroupPresale), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range queue {
		where[id] = "queue"
	}
	ownedKeys, err := s.rdb.Keys(ctx, s.queueKey("owned:*")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(ownedKeys) > len(agents) {
		t.Errorf("%d owned sets, for %d agents: %v", len(ownedKeys), len(agents), ownedKeys)
	}
	for _, a := range agents {
		ids, err := s.rdb.SMembers(ctx, s.ownedKey(a)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > rrCap {
			t.Errorf("%s owns %d chats, over the limit %d", a, len(ids), rrCap)
		}
		for _, id := range ids {
			if prev, ok := where[id]; ok {
				t.Errorf("%s is owned by %s and also in %s", id, a, prev)
			}
			where[id] = a
		}
	}
	for id := range where {
		if !started[id] {
			t.Errorf("routing state holds %s, which no call started", id)
		}
	}

	count := map[string]int{}
	for id := range started {
		c, err := d.Conversation(ctx, id)
		if err != nil {
			t.Fatalf("Conversation(%s): %v", id, err)
		}
		st, err := s.RouteState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		log := ctLog(t, d, id)
		handoffs := 0
		var actives, resolves []Message
		for _, m := range log {
			switch {
			case m.Kind == KindHandoff:
				handoffs++
			case m.Kind == KindStatus && m.Status == StatusActive:
				actives = append(actives, m)
			case m.Kind == KindStatus && m.Status == StatusResolved:
				resolves = append(resolves, m)
			}
		}
		count[c.Status]++
		if st.Pending != nil {
			t.Errorf("%s: change still pending: %+v", id, *st.Pending)
		}
		if handoffs > 1 || len(actives) > 1 || len(resolves) > 1 {
			t.Errorf("%s: %d hand-offs, %d claims, %d resolves in its log; want each at most once", id, handoffs, len(actives), len(resolves))
		}
		if handedOff[id] && (handoffs != 1 || c.Status == StatusBot) {
			t.Errorf("%s: its hand-off succeeded, but it is %s with %d hand-off records: lost", id, c.Status, handoffs)
		}
		switch c.Status {
		case StatusBot:
			if st.Route != nil || where[id] != "" || handoffs != 0 {
				t.Errorf("%s is with the bot but routed (%+v, in %q, %d hand-offs)", id, st.Route, where[id], handoffs)
			}
		case StatusQueued:
			if st.Route == nil || st.Route.Agent != "" || where[id] != "queue" {
				t.Errorf("%s is queued but its route is %+v and it is in %q", id, st.Route, where[id])
			}
		case StatusActive:
			if st.Route == nil || st.Route.Agent != c.Agent || where[id] != c.Agent || len(actives) != 1 || actives[0].Agent != c.Agent {
				t.Errorf("%s is active with %q but its route is %+v, it is in %q, claims %+v", id, c.Agent, st.Route, where[id], actives)
			}
		case StatusResolved:
			if st.Route != nil || where[id] != "" || len(resolves) != 1 || len(actives) != 1 {
				t.Errorf("%s is resolved but its route is %+v, it is in %q, %d claims, %d resolves", id, st.Route, where[id], len(actives), len(resolves))
			}
		default:
			t.Errorf("%s is %q", id, c.Status)
		}
		if a, ok := claimedBy[id]; ok && (len(actives) != 1 || actives[0].Agent != a) {
			t.Errorf("%s: %s's claim succeeded, but its log's claims are %+v", id, a, actives)
		}
	}
	t.Logf("%d conversations (%d handed off): %v", len(started), len(handedOff), count)
}
