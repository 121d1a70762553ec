package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/triage"
)

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
		traffic.Go(func() {
			var owned []handoff.Conversation
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
