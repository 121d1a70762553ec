package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestDeskAgentOffline is the fault test: an agent stops sending heartbeats; once the
// grace period has passed (on the desk's clock), Run gives their chats back to the front
// of the queue with a note to the shopper, and an agent who comes online gets them.
func TestDeskAgentOffline(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d, clock := rtDesk(t, e.open, func(c *DeskConfig) { c.SweepInterval = 10 * time.Millisecond })
			rtUser(t, d, "alice", GroupAftersale, 3)
			rtUser(t, d, "bob", GroupAftersale, 0)
			rtBeat(t, d, "alice", PresenceOnline)
			var mine []string
			for range 3 {
				mine = append(mine, rtHandoff(t, d, GroupAftersale, "after_sales", 0))
			}
			other := rtHandoff(t, d, GroupAftersale, "negative_sentiment", 3) // waits, far ahead by priority
			if o, _ := d.Owned(ctx, "alice"); len(o) != 3 {
				t.Fatalf("alice owns %v, want the first three", ctIDs(o))
			}

			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- d.Run(runCtx) }()
			t.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
			})

			// Within the grace period nothing moves.
			clock.Advance(50 * time.Second)
			if err := d.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			if o, _ := d.Owned(ctx, "alice"); len(o) != 3 {
				t.Fatalf("within the grace period alice owns %v, want 3 chats", ctIDs(o))
			}
			clock.Advance(11 * time.Second)
			want := append(slices.Clone(mine), other)
			ctPoll(t, "alice's chats back at the front of the queue", func() bool {
				return slices.Equal(rtWaiting(t, d, GroupAftersale), want)
			})
			for _, id := range mine {
				c := rtConv(t, d, id)
				if c.Status != StatusQueued || c.Agent != "" || c.Group != GroupAftersale {
					t.Errorf("%s is %s with %q in %s", id, c.Status, c.Agent, c.Group)
				}
				if texts := rtTexts(t, d, id); texts[len(texts)-1] != DefaultPhrases.AgentOffline {
					t.Errorf("%s ends with %q, want the offline note", id, texts[len(texts)-1])
				}
				if n := ctCount(ctLog(t, d, id), StatusQueued); n != 1 {
					t.Errorf("%s has %d status-queued records, want 1", id, n)
				}
			}
			if a, _ := d.AgentLoad(ctx, "alice"); a.Status != PresenceOffline || a.Load != 0 {
				t.Errorf("alice is %+v, want offline with no chats", a)
			}

			// bob comes online and is given the requeued chats first.
			if _, err := d.Heartbeat(ctx, "bob", PresenceOnline); err != nil {
				t.Fatal(err)
			}
			ctPoll(t, "bob to have every chat", func() bool {
				o, _ := d.Owned(ctx, "bob")
				return len(o) == 4
			})
			owned, _ := d.Owned(ctx, "bob")
			got := ctIDs(owned)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("bob got %v, want %v", got, want)
			}
		})
	}
}

// ctPoll waits up to 10 s for ok.
func ctPoll(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDeskGoOffline: an agent who says offline gives their chats back at once.
func TestDeskGoOffline(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d, _ := rtDesk(t, e.open, nil)
			rtUser(t, d, "pete", GroupPresale, 0)
			rtBeat(t, d, "pete", PresenceOnline)
			id := rtHandoff(t, d, GroupPresale, "requested", 0)
			if c := rtConv(t, d, id); c.Agent != "pete" {
				t.Fatalf("chat is with %q, want pete", c.Agent)
			}
			a, err := d.Heartbeat(ctx, "pete", PresenceOffline)
			if err != nil || a.Status != PresenceOffline || a.Load != 0 {
				t.Fatalf("Heartbeat(offline) = %+v, %v", a, err)
			}
			if got := rtWaiting(t, d, GroupPresale); !slices.Equal(got, []string{id}) {
				t.Errorf("waiting = %v, want the chat back", got)
			}
			rtBeat(t, d, "pete", PresenceOnline)
			if c := rtConv(t, d, id); c.Agent != "pete" {
				t.Errorf("after pete came back the chat is with %q", c.Agent)
			}
			if _, err := d.Heartbeat(ctx, "pete", "dancing"); err == nil {
				t.Error("Heartbeat with an unknown status succeeded")
			}
		})
	}
}

// TestDeskPendingRecovery plays a node that stopped between a routing change and its
// conversation side: the agent's retry, or the next sweep of any node, finishes it; a
// change the conversation refuses is undone.
func TestDeskPendingRecovery(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d, clock := rtDesk(t, e.open, func(c *DeskConfig) { c.ManualOnly = true })
			// claimHalf makes only the routing write of a claim.
			claimHalf := func(id, agent string) {
				t.Helper()
				st, err := d.store.RouteState(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				next := *st.Route
				next.Agent = agent
				if _, err := d.store.Reroute(ctx, RouteChange{Conv: id, Rev: st.Rev, Prev: st.Route, Next: &next, Cap: 20, Op: RouteOp{Kind: opClaim, Agent: agent, To: agent, At: d.nowMS()}}); err != nil {
					t.Fatal(err)
				}
			}

			c1 := rtHandoff(t, d, GroupPresale, "requested", 0)
			claimHalf(c1, "alice")
			if got := rtWaiting(t, d, GroupPresale); len(got) != 0 {
				t.Errorf("waiting = %v during the half claim, want none", got)
			}
			if _, err := d.Claim(ctx, c1, "bob"); !errors.Is(err, ErrAlreadyClaimed) {
				t.Errorf("bob's claim during alice's: error = %v, want ErrAlreadyClaimed", err)
			}
			if c, err := d.Claim(ctx, c1, "alice"); err != nil || c.Agent != "alice" || c.Status != StatusActive {
				t.Errorf("alice's retry = %s with %q, %v; want it finished", c.Status, c.Agent, err)
			}

			c2 := rtHandoff(t, d, GroupPresale, "requested", 0)
			claimHalf(c2, "bob")
			// A hand-off whose conversation side never happened.
			c3, _, _ := d.Start(ctx)
			data, _ := json.Marshal(handoffData{Key: "k3", Reason: "requested"})
			now := d.nowMS()
			if _, err := d.store.Reroute(ctx, RouteChange{Conv: c3.ID, Next: &Route{Group: GroupPresale, Score: now.UnixMilli(), Since: now, Key: "handoff:k3"}, Op: RouteOp{Kind: opHandoff, Enter: true, At: now, Data: data}}); err != nil {
				t.Fatal(err)
			}
			// A claim of a conversation that is not queued: the conversation refuses it.
			c4, _, _ := d.Start(ctx)
			if _, err := d.store.Reroute(ctx, RouteChange{Conv: c4.ID, Next: &Route{Group: GroupPresale, Since: now, Agent: "bob"}, Cap: 20, Op: RouteOp{Kind: opClaim, Agent: "bob", To: "bob", At: now}}); err != nil {
				t.Fatal(err)
			}

			if err := d.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			if c := rtConv(t, d, c2); c.Status != StatusQueued {
				t.Errorf("a sweep right away finished a young change: %s", c.Status)
			}
			clock.Advance(pendingAfter)
			if err := d.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			if c := rtConv(t, d, c2); c.Status != StatusActive || c.Agent != "bob" {
				t.Errorf("after the sweep c2 is %s with %q, want active with bob", c.Status, c.Agent)
			}
			if c := rtConv(t, d, c3.ID); c.Status != StatusQueued {
				t.Errorf("after the sweep c3 is %s, want queued", c.Status)
			}
			if got := rtWaiting(t, d, GroupPresale); !slices.Equal(got, []string{c3.ID}) {
				t.Errorf("waiting after the sweep = %v, want c3", got)
			}
			if st, _ := d.store.RouteState(ctx, c4.ID); st.Route != nil || st.Pending != nil {
				t.Errorf("the refused claim was not undone: %+v", st)
			}
			if n := must(d.store.Load(ctx, "bob")); n != 1 {
				t.Errorf("bob's load = %d, want 1", n)
			}
			if ops, _ := d.store.PendingRoutes(ctx, clock.Now().Add(time.Hour)); len(ops) != 0 {
				t.Errorf("still pending: %+v", ops)
			}
		})
	}
}

// TestDeskRoutingConcurrency is issue 4's test: 500 hand-offs while 20 agents with a
// limit of 20 claim, and half of them are also assigned chats, all at once. At the end,
// counted from the store: no chat is owned twice, none is lost, no agent is over the
// limit, and every chat's own record agrees with the routing state.
func TestDeskRoutingConcurrency(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			const chats, agents, limit = 500, 20, 20
			d, _ := rtDesk(t, e.open, func(c *DeskConfig) { c.MaxChats = limit })
			names := make([]string, agents)
			for i := range names {
				names[i] = fmt.Sprintf("agent%02d", i)
				rtUser(t, d, names[i], GroupPresale, 0)
				if i%2 == 0 {
					rtBeat(t, d, names[i], PresenceOnline) // assigned to, and claiming
				}
			}

			ids := make(chan string, chats)
			handoffsDone := make(chan struct{})
			var handoffs, claimers sync.WaitGroup
			for w := range 25 {
				handoffs.Go(func() {
					for range chats / 25 {
						c, _, err := d.Start(ctx)
						if err != nil {
							t.Error(err)
							return
						}
						d.Append(ctx, c.ID, Message{ID: "m1", Kind: KindMessage, From: FromShopper, Text: "在吗"})
						reason := []string{"requested", "negative_sentiment", "low_confidence"}[w%3]
						if err := d.Handoff(ctx, c.ID, HandoffRequest{Key: "m1", Reason: reason, Group: GroupPresale, VIP: w % 4}); err != nil {
							t.Errorf("Handoff: %v", err)
						}
						ids <- c.ID
					}
				})
			}
			go func() { handoffs.Wait(); close(handoffsDone) }()
			deadline := time.Now().Add(2 * time.Minute)
			for _, name := range names {
				claimers.Go(func() {
					for time.Now().Before(deadline) {
						if n, err := d.store.Load(ctx, name); err != nil || n >= limit {
							return
						}
						w, err := d.Waiting(ctx, GroupPresale)
						if err != nil {
							t.Error(err)
							return
						}
						if len(w) == 0 {
							select {
							case <-handoffsDone:
								return // nothing left to take
							default:
								continue
							}
						}
						for _, c := range w[:min(3, len(w))] {
							_, err := d.Claim(ctx, c.ID, name)
							switch {
							case err == nil, errors.Is(err, ErrAlreadyClaimed), errors.Is(err, ErrNotQueued):
							case errors.Is(err, ErrAtCapacity):
								return
							default:
								t.Errorf("%s claiming: %v", name, err)
								return
							}
						}
					}
					t.Errorf("%s still claiming after 2 minutes", name)
				})
			}
			handoffs.Wait()
			claimers.Wait()
			close(ids)
			if t.Failed() {
				t.FailNow()
			}
			// The online agents are topped up by the sweep.
			if err := d.Sweep(ctx); err != nil {
				t.Fatal(err)
			}

			all := map[string]bool{}
			for id := range ids {
				all[id] = true
			}
			if len(all) != chats {
				t.Fatalf("%d distinct hand-offs, want %d", len(all), chats)
			}
			where := map[string]string{} // conversation → owner, or "queue"
			for _, name := range names {
				n, err := d.store.Load(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				owned, err := d.Owned(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				if n > limit || len(owned) != n {
					t.Errorf("%s: load %d, owned %d; want equal and at most %d", name, n, len(owned), limit)
				}
				for _, c := range owned {
					if prev, ok := where[c.ID]; ok {
						t.Errorf("%s is owned by %s and %s", c.ID, prev, name)
					}
					where[c.ID] = name
				}
			}
			waiting, err := d.Waiting(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range waiting {
				if prev, ok := where[c.ID]; ok {
					t.Errorf("%s is waiting and owned by %s", c.ID, prev)
				}
				where[c.ID] = "queue"
			}
			if len(where) != chats || len(waiting) != chats-agents*limit {
				t.Errorf("%d chats owned or waiting (%d waiting), want all %d (%d waiting)", len(where), len(waiting), chats, chats-agents*limit)
			}
			for id := range all {
				c := rtConv(t, d, id)
				log := ctLog(t, d, id)
				switch owner := where[id]; {
				case owner == "":
					t.Errorf("%s is lost: %s with %q", id, c.Status, c.Agent)
				case owner == "queue" && c.Status != StatusQueued:
					t.Errorf("%s waits but is %s", id, c.Status)
				case owner != "queue" && (c.Status != StatusActive || c.Agent != owner || ctCount(log, StatusActive) != 1):
					t.Errorf("%s is owned by %s but is %s with %q, %d claims", id, owner, c.Status, c.Agent, ctCount(log, StatusActive))
				}
			}
			if ops, _ := d.store.PendingRoutes(ctx, time.Now().Add(time.Hour)); len(ops) != 0 {
				t.Errorf("%d routing changes still pending", len(ops))
			}
		})
	}
}

// TestDeskAdoptsOldQueue: chats queued or claimed under the layout before routing state
// (an index of waiting chats and one per agent) are adopted after an upgrade: the sweep
// queues the waiting ones, and their agent can still resolve the claimed ones.
func TestDeskAdoptsOldQueue(t *testing.T) {
	ctx := context.Background()
	clock := ctNewClock()
	store, _ := ctRedisStore(t, clock.Now)
	d, err := NewDesk(DeskConfig{Store: store, Staff: newTestStaff(), Now: clock.Now, ManualOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	// old writes what Kefu before issue 4 stored for a chat queued in group, and claimed
	// by agent unless empty.
	old := func(group, agent string) string {
		t.Helper()
		c, _, err := d.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		now := clock.Now()
		store.rdb.ZAdd(ctx, store.queueKey("waiting"), redis.Z{Score: float64(now.UnixMilli()), Member: c.ID})
		if _, _, err := store.Apply(ctx, c.ID, Transition{From: []string{StatusBot}, To: StatusQueued, Group: group, Reason: "after_sales"}, Message{ID: "handoff:m1", Kind: KindHandoff}); err != nil {
			t.Fatal(err)
		}
		if agent != "" {
			store.rdb.SAdd(ctx, store.ownedKey(agent), c.ID)
			store.rdb.ZRem(ctx, store.queueKey("waiting"), c.ID)
			if _, _, err := store.Apply(ctx, c.ID, Transition{From: []string{StatusQueued}, To: StatusActive, Agent: agent}, Message{ID: "claim", Kind: KindStatus}); err != nil {
				t.Fatal(err)
			}
		}
		return c.ID
	}
	first, second := old(GroupAftersale, ""), old(GroupAftersale, "")
	claimed := old(GroupAftersale, "alice")
	if w := rtWaiting(t, d, ""); len(w) != 0 {
		t.Fatalf("waiting before the sweep = %v", w)
	}
	if err := d.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if w := rtWaiting(t, d, GroupAftersale); !slices.Equal(w, []string{first, second}) {
		t.Errorf("waiting after the sweep = %v, want the two old ones in order", w)
	}
	if ids, _ := store.LegacyWaiting(ctx); len(ids) != 0 {
		t.Errorf("old index still holds %v", ids)
	}
	if c, err := d.Claim(ctx, first, "bob"); err != nil || c.Agent != "bob" {
		t.Errorf("claiming an adopted chat = %q, %v", c.Agent, err)
	}
	if _, err := d.Resolve(ctx, claimed, "bob"); !errors.Is(err, ErrNotOwner) {
		t.Errorf("bob resolving alice's old chat: error = %v, want ErrNotOwner", err)
	}
	if c, err := d.Resolve(ctx, claimed, "alice"); err != nil || c.Status != StatusResolved {
		t.Errorf("alice resolving her old chat = %s, %v", c.Status, err)
	}
	if n := must(store.Load(ctx, "alice")); n != 0 {
		t.Errorf("alice's load after resolving = %d", n)
	}
}
