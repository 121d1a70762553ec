package redisstore_test

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

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/handoff/redisstore"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// Redis restarting under the desk: with a chat waiting, and in the middle of routing
// (the traffic of that test is in restart_traffic_test.go).

// sameRecord compares the fields of two records that can be compared with ==.
func sameRecord(a, b handoff.Message) bool {
	return a.Seq == b.Seq && a.Kind == b.Kind && a.From == b.From && a.ID == b.ID && a.Text == b.Text &&
		a.Agent == b.Agent && a.Reason == b.Reason && a.Group == b.Group && a.Status == b.Status && a.TS == b.TS
}

// TestRedisRestart stops Redis under a queued conversation and starts it again: calls
// fail while it is down, within their deadline, and everything is back (from the AOF)
// after.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, desktest.Options{Desk: manual})
	c, _, err := n.Desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Group: handoff.GroupAftersale,
		Context: &handoff.Context{Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Confidence: 0.42, Question: "我要退货",
			Hits: []handoff.Candidate{{ID: "return-policy", Title: "七天无理由退货", Score: 3.25}, {ID: "refund-time", Title: "退款多久到账", Score: 1.5}}}}
	if err := n.Desk.Handoff(ctx, c.ID, h); err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Desk.Append(ctx, c.ID, handoff.Message{ID: "m2", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "订单号 20240101"}); err != nil {
		t.Fatal(err)
	}
	before, err := n.Desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}

	n.Server.Stop()
	for _, call := range []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"Waiting", func(ctx context.Context) error { _, err := n.Desk.Waiting(ctx, ""); return err }},
		{"Claim", func(ctx context.Context) error { _, err := n.Desk.Claim(ctx, c.ID, "alice"); return err }},
		{"Reply", func(ctx context.Context) error {
			_, err := n.Desk.Reply(ctx, c.ID, "alice", "r1", "您好")
			return err
		}},
		{"ShopperSays", func(ctx context.Context) error {
			_, err := n.Desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: "m3", Text: "在吗"}, nil)
			return err
		}},
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

	n.Server.Restart()
	timetest.Poll(t, 10*time.Second, "an answer from Redis after the restart", func() bool { return n.Desk.Ping(ctx) == nil })
	got := n.get(t, c.ID)
	if got.Status != handoff.StatusQueued || got.Group != handoff.GroupAftersale || got.Seq != int64(len(before)) || got.Context == nil || len(got.Context.Hits) != 2 {
		t.Errorf("after the restart the conversation is %+v", got)
	}
	after, err := n.Desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("log has %d records after the restart, %d before", len(after), len(before))
	}
	for i := range after {
		if !sameRecord(after[i], before[i]) {
			t.Errorf("record %d after the restart = %+v, before %+v", i+1, after[i], before[i])
		}
	}
	if w := n.waiting(t, handoff.GroupAftersale); !slices.Equal(w, []string{c.ID}) {
		t.Errorf("Waiting after the restart = %v, want [%s]", w, c.ID)
	}
	claimed, err := n.Desk.Claim(ctx, c.ID, "alice")
	if err != nil || claimed.Status != handoff.StatusActive || claimed.Agent != "alice" {
		t.Fatalf("Claim after the restart = %s with %q, %v", claimed.Status, claimed.Agent, err)
	}
	if k := enginetest.CountStatus(t, n.Desk, c.ID, handoff.StatusActive); k != 1 {
		t.Errorf("log has %d status-active records, want 1", k)
	}
}

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
	started []string // conversations whose start succeeded
}

func (r *rrCalls) begun(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, id)
}

// do runs f as a call of kind and records it.
func (r *rrCalls) do(kind, conv, agent string, f func() error) error {
	start := time.Now()
	err := f()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, rrCall{kind: kind, conv: conv, agent: agent, start: start, end: time.Now(), err: err})
	return err
}

func (r *rrCalls) snapshot() ([]rrCall, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls), slices.Clone(r.started)
}

// succeededSince counts the successful calls of kind that started after t.
func (r *rrCalls) succeededSince(kind string, t time.Time) int {
	calls, _ := r.snapshot()
	n := 0
	for _, c := range calls {
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

// refusal reports whether err claims something about the chat or the agent, which a
// call that could not read them must not.
func refusal(err error) bool {
	for _, e := range []error{handoff.ErrWrongStatus, handoff.ErrNotQueued, handoff.ErrResolved, handoff.ErrAlreadyClaimed,
		handoff.ErrNotOwner, handoff.ErrNotFound, handoff.ErrAtCapacity, handoff.ErrBusy} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// TestRedisRestartDuringRouting stops redis-server for 5 s in the middle of hand-offs,
// claims, resolves, assignments and heartbeats running in goroutines, and starts it
// again (the AOF keeps the data). Every call made while Redis was down must fail, none
// silently succeed or claim a refusal. Afterwards, with no reconnect by hand, the desk's
// Run listens again, its Listen finishes what the outage left pending, its sweep assigns
// again, and the store, counted from Redis, has lost no chat: every hand-off that
// succeeded is waiting, owned or resolved, exactly once, no chat has two owners and no
// agent is over their limit.
func TestRedisRestartDuringRouting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The clock can be moved on, so that the changes the outage left pending are stale
	// without the test waiting redisstore.PendingAfter.
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	sweepWarnings := &lineCounter{phrase: []byte("sweeping the desk")}
	n := openNode(t, desktest.Options{
		Now: now,
		Client: func(addr string) *redis.Client {
			return redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 250 * time.Millisecond, ReadTimeout: time.Second,
				WriteTimeout: time.Second, PoolTimeout: time.Second})
		},
		Desk: func(c *handoff.DeskConfig) {
			c.MaxChats, c.SweepInterval, c.Logger = rrCap, 50*time.Millisecond, zerolog.New(sweepWarnings)
		},
	})
	d := n.Desk
	// manual hands off without assigning, so that only d's Run assigns what it queues.
	manual, err := handoff.NewDesk(handoff.DeskConfig{
		Conversations: n.Engine.Conversations, Roster: n.Engine.Roster, Annals: n.Engine.Annals, Bus: n.Engine.Bus,
		Tickets: n.Engine.Tickets, Staff: n.Staff, Now: now, MaxChats: rrCap, ManualOnly: true,
	})
	if err != nil {
		t.Fatal(err)
	}

	var autos, claimers []string
	for i := range rrAuto {
		autos = append(autos, fmt.Sprintf("auto%d", i))
	}
	for i := range rrClaimers {
		claimers = append(claimers, fmt.Sprintf("claimer%d", i))
	}
	agents := append(append(slices.Clone(autos), claimers...), "late")
	for _, a := range agents {
		n.Staff.Add(account.User{Name: a, Role: account.RoleAgent, Group: string(handoff.GroupPresale)})
	}
	for _, a := range autos {
		n.beat(t, a, handoff.PresenceOnline)
	}

	calls := &rrCalls{}
	stopTraffic, maxLoad := rrTraffic(t, d, n.Engine.Conversations, calls, autos, claimers)
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
	timetest.Poll(t, rrPhaseWait, "traffic before the outage", progress(time.Now()))

	// The outage.
	n.Server.Stop()
	down := time.Now()
	time.Sleep(rrOutage) // keeps Redis down while the traffic goes on
	up := time.Now()
	warningsDown := sweepWarnings.n.Load()
	n.Server.Restart()
	restarted := time.Now()
	// What the outage left half done: changes whose first step was made and the rest not.
	var pending []string
	timetest.Poll(t, rrPhaseWait, "a read after the restart", func() bool {
		pending, err = n.store.Pending(ctx)
		return err == nil
	})
	timetest.Poll(t, rrPhaseWait, "traffic after the restart", progress(restarted))
	// The desk's Run listens again by itself: an event published now comes through.
	sub := d.Subscribe("")
	defer sub.Close()
	probe := handoff.Presence{Agent: "probe", Group: "nobody"}
	timetest.Poll(t, rrPhaseWait, "an event through the desk's subscription", func() bool {
		if err := n.Engine.Bus.Publish(ctx, handoff.Event{Type: handoff.EventPresence, Presence: &probe}); err != nil {
			return false
		}
		for {
			select {
			case e := <-sub.C:
				if e.Type == handoff.EventPresence && e.Presence != nil && e.Presence.Agent == "probe" {
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
	all, started := calls.snapshot()
	during := map[string]int{}
	for _, c := range all {
		if c.start.Before(down) || c.end.After(up) {
			continue
		}
		during[c.kind]++
		switch {
		case c.err == nil:
			t.Errorf("%s of %q by %q during the outage succeeded", c.kind, c.conv, c.agent)
		case refusal(c.err):
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

	// The desk recovers by itself: its Listen finishes the changes the outage left
	// pending once they are stale, and its sweep gives an agent who comes online
	// (through the roster, so that only the sweep assigns) a full load of new chats.
	skew.Add(int64(redisstore.PendingAfter + time.Second))
	timetest.Poll(t, rrPhaseWait, "Listen to finish the pending changes", func() bool {
		p, err := n.store.Pending(ctx)
		return err == nil && len(p) == 0
	})
	var extra []string
	for range rrCap * (rrAuto + 1) {
		c, _, err := manual.StartAs(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := manual.Handoff(ctx, c.ID, handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonRequested, Group: handoff.GroupPresale}); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, c.ID)
	}
	late := handoff.Presence{Agent: "late", Group: handoff.GroupPresale, Status: handoff.PresenceOnline, Cap: rrCap, Seen: time.UnixMilli(now().UnixMilli())}
	if _, err := n.Engine.Roster.SetPresence(ctx, late, nil); err != nil {
		t.Fatal(err)
	}
	timetest.Poll(t, rrPhaseWait, "the sweep to assign a full load to the late agent", func() bool {
		l, err := n.Engine.Conversations.Loads(ctx, "late")
		return err == nil && l[0] == rrCap
	})
	t.Logf("%d changes were pending right after the restart; all are finished", len(pending))

	rrCheck(t, n, all, append(started, extra...), extra, agents)
	if m := maxLoad.Load(); m > rrCap {
		t.Errorf("an agent's load reached %d during the traffic, over the limit %d", m, rrCap)
	}
}
