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
	"github.com/kefu-im/kefu/handoff/redisstore"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// Redis restarting in the middle of routing: the test, the traffic it runs during the
// outage, and the count of where every chat ended.

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

// lastResolved is the conversation of the last successful resolve, "" if none.
func (r *rrCalls) lastResolved() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.calls) - 1; i >= 0; i-- {
		if c := r.calls[i]; c.kind == "resolve" && c.err == nil {
			return c.conv
		}
	}
	return ""
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
		Engine: n.Engine, Staff: n.Staff, Now: now, MaxChats: rrCap, ManualOnly: true,
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

// rrTraffic starts the traffic of TestRedisRestartDuringRouting on d: goroutines that
// run until stop is called, each pausing a little between calls, as shoppers and agents
// do. maxLoad is the highest load any agent was read with.
func rrTraffic(t *testing.T, d *handoff.Desk, convs handoff.Conversations, calls *rrCalls, autos, claimers []string) (stop func(), maxLoad *atomic.Int64) {
	ctx := context.Background()
	done := make(chan struct{})
	pause := func(d time.Duration) bool {
		select {
		case <-done:
			return false
		case <-time.After(d):
			return true
		}
	}
	var traffic sync.WaitGroup
	maxLoad = new(atomic.Int64)
	// Shoppers: start a conversation and write; a hand-off that fails is asked for again
	// with the same key, as the widget does.
	fresh := make(chan string, 64)
	traffic.Go(func() {
		for pause(2 * time.Millisecond) {
			var c handoff.Conversation
			err := calls.do("start", "", "", func() error {
				var err error
				if c, _, err = d.StartAs(ctx, nil); err != nil {
					return err
				}
				calls.begun(c.ID)
				_, _, err = d.Append(ctx, c.ID, handoff.Message{ID: "m1", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "转人工"})
				return err
			})
			if err != nil {
				continue
			}
			select {
			case fresh <- c.ID:
			case <-done:
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
					case <-done:
						return
					}
				}
				err := calls.do("handoff", conv, "", func() error {
					return d.Handoff(ctx, conv, handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonRequested, Group: handoff.GroupPresale})
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
			var waiting, owned []handoff.Conversation
			for pause(5 * time.Millisecond) {
				if w, err := d.Waiting(ctx, handoff.GroupPresale); err == nil && len(w) > 0 {
					waiting = w
				}
				full := false
				for _, c := range waiting[:min(2, len(waiting))] {
					err := calls.do("claim", c.ID, a, func() error {
						got, err := d.Claim(ctx, c.ID, a)
						if err == nil && (got.Status != handoff.StatusActive || got.Agent != a) {
							t.Errorf("Claim(%s, %s) succeeded, but the chat is %s with %q", c.ID, a, got.Status, got.Agent)
						}
						return err
					})
					full = full || errors.Is(err, handoff.ErrAtCapacity)
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
					_, err := d.Heartbeat(ctx, a, handoff.PresenceOnline)
					return err
				})
			}
		})
		// A console keeps showing the chat it last had while the server cannot be
		// read, and its agent clicks 结束 on it again; so resolves are tried during an
		// outage even when the agent's last read found nothing left to resolve (one
		// who never had a chat tries the last chat anyone resolved).
		traffic.Go(func() {
			var owned []handoff.Conversation
			last := ""
			for pause(30 * time.Millisecond) {
				o, err := d.Owned(ctx, a)
				if err == nil {
					owned = o
				}
				ids := []string{}
				for _, c := range owned[:min(1, len(owned))] {
					ids = append(ids, c.ID)
				}
				if err != nil && len(ids) == 0 {
					if last == "" {
						last = calls.lastResolved()
					}
					if last != "" {
						ids = append(ids, last)
					}
				}
				for _, id := range ids {
					rrResolve(t, d, calls, id, a)
					last = id
				}
			}
		})
	}
	// A node's automatic assignment, besides the one after each change.
	traffic.Go(func() {
		for pause(20 * time.Millisecond) {
			calls.do("assign", "", "", func() error {
				_, err := d.AutoAssign(ctx, handoff.GroupPresale)
				return err
			})
		}
	})
	// The loads, read all along.
	traffic.Go(func() {
		names := append(slices.Clone(autos), claimers...)
		for pause(10 * time.Millisecond) {
			if loads, err := convs.Loads(ctx, names...); err == nil {
				for _, l := range loads {
					if int64(l) > maxLoad.Load() {
						maxLoad.Store(int64(l))
					}
				}
			}
		}
	})
	return sync.OnceFunc(func() { close(done); traffic.Wait() }), maxLoad
}

// rrResolve resolves conv as agent and records the call.
func rrResolve(t *testing.T, d *handoff.Desk, calls *rrCalls, conv, agent string) {
	calls.do("resolve", conv, agent, func() error {
		c, err := d.Resolve(context.Background(), conv, agent)
		if err == nil && c.Status != handoff.StatusResolved {
			t.Errorf("Resolve(%s, %s) succeeded, but the chat is %s", conv, agent, c.Status)
		}
		return err
	})
}

// rrCheck counts from Redis where every conversation of the restart test is, once
// nothing is pending any more: each is with the bot, waiting in the queue, owned by one
// agent or resolved, its record agrees with the indexes, and its log holds each routing
// step at most once.
func rrCheck(t *testing.T, n *node, calls []rrCall, ids, extra, agents []string) {
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

	// Where the indexes put each conversation, read from Redis directly.
	queue, err := n.store.QueueIndex(ctx, handoff.GroupPresale)
	if err != nil {
		t.Fatal(err)
	}
	owners, err := n.store.OwnerIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for a, ids := range owners {
		if !slices.Contains(agents, a) {
			t.Errorf("%s, who is no agent of the test, owns %v", a, ids)
		}
		if len(ids) > rrCap {
			t.Errorf("%s owns %d chats, over the limit %d", a, len(ids), rrCap)
		}
	}
	where := places(t, owners, queue) // conversation → "queue" or its owner
	for id := range where {
		if !started[id] {
			t.Errorf("the indexes hold %s, which no call started", id)
		}
	}

	count := map[handoff.Status]int{}
	for id := range started {
		c := n.get(t, id)
		log, err := n.Desk.Messages(ctx, id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		handoffs := 0
		var actives, resolves []handoff.Message
		for _, m := range log {
			switch {
			case m.Kind == handoff.KindHandoff:
				handoffs++
			case m.Kind == handoff.KindStatus && m.Status == handoff.StatusActive:
				actives = append(actives, m)
			case m.Kind == handoff.KindStatus && m.Status == handoff.StatusResolved:
				resolves = append(resolves, m)
			}
		}
		count[c.Status]++
		if handoffs > 1 || len(actives) > 1 || len(resolves) > 1 {
			t.Errorf("%s: %d hand-offs, %d claims, %d resolves in its log; want each at most once", id, handoffs, len(actives), len(resolves))
		}
		if handedOff[id] && (handoffs != 1 || c.Status == handoff.StatusBot) {
			t.Errorf("%s: its hand-off succeeded, but it is %s with %d hand-off records: lost", id, c.Status, handoffs)
		}
		switch c.Status {
		case handoff.StatusBot:
			if where[id] != "" || handoffs != 0 {
				t.Errorf("%s is with the bot but in %q, with %d hand-offs", id, where[id], handoffs)
			}
		case handoff.StatusQueued:
			if where[id] != "queue" || c.Agent != "" {
				t.Errorf("%s is queued (agent %q) but in %q", id, c.Agent, where[id])
			}
		case handoff.StatusActive:
			if where[id] != c.Agent || len(actives) != 1 || actives[0].Agent != c.Agent {
				t.Errorf("%s is active with %q but in %q, claims %+v", id, c.Agent, where[id], actives)
			}
		case handoff.StatusResolved:
			if where[id] != "" || len(resolves) != 1 || len(actives) != 1 {
				t.Errorf("%s is resolved but in %q, %d claims, %d resolves", id, where[id], len(actives), len(resolves))
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
