package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// TestRoutingConcurrency: 500 hand-offs while 20 agents with a limit of 20 claim, and
// half of them are also assigned chats, all at once (docs/domain.md rule 11). At the
// end, counted from the store: no chat is owned twice, none is lost, no agent is over
// the limit, every chat's record agrees with the indexes, and nothing is pending.
func TestRoutingConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const chats, agents, limit, shoppers = 500, 20, 20, 25
	n := openNode(t, desktest.Options{Now: time.Now, Desk: func(c *handoff.DeskConfig) { c.MaxChats = limit }})
	names := make([]string, agents)
	for i := range names {
		names[i] = fmt.Sprintf("agent%02d", i)
		n.Staff.Add(account.User{Name: names[i], Role: account.RoleAgent, Group: string(handoff.GroupPresale)})
		if i%2 == 0 {
			n.beat(t, names[i], handoff.PresenceOnline) // assigned to, and claiming
		}
	}

	ids := make(chan string, chats)
	handoffsDone := make(chan struct{})
	var handoffs, claimers sync.WaitGroup
	reasons := []triage.Reason{triage.ReasonRequested, triage.ReasonNegativeSentiment, triage.ReasonLowConfidence}
	for w := range shoppers {
		handoffs.Go(func() {
			for range chats / shoppers {
				c, _, err := n.Desk.StartAs(ctx, &handoff.Shopper{ID: fmt.Sprint("buyer", w), VIP: w % 4, Verified: true})
				if err != nil {
					t.Error(err)
					return
				}
				if _, _, err := n.Desk.Append(ctx, c.ID, handoff.Message{ID: "m1", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "在吗"}); err != nil {
					t.Error(err)
					return
				}
				if err := n.Desk.Handoff(ctx, c.ID, handoff.HandoffRequest{Key: "m1", Reason: reasons[w%3], Group: handoff.GroupPresale}); err != nil {
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
				if n.loads(t, name)[0] >= limit {
					return
				}
				w, err := n.Desk.Waiting(ctx, handoff.GroupPresale)
				if err != nil {
					t.Error(err)
					return
				}
				if len(w) == 0 {
					select {
					case <-handoffsDone:
						return // nothing left to take
					case <-time.After(time.Millisecond):
						continue
					}
				}
				for _, c := range w[:min(3, len(w))] {
					_, err := n.Desk.Claim(ctx, c.ID, name)
					switch {
					case err == nil, errors.Is(err, handoff.ErrAlreadyClaimed), errors.Is(err, handoff.ErrNotQueued):
					case errors.Is(err, handoff.ErrAtCapacity):
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
	if err := n.Desk.Sweep(ctx); err != nil {
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
		owned := n.owned(t, name)
		if l := n.loads(t, name)[0]; l > limit || len(owned) != l {
			t.Errorf("%s: load %d, owned %d; want equal and at most %d", name, l, len(owned), limit)
		}
		for _, id := range owned {
			if prev, ok := where[id]; ok {
				t.Errorf("%s is owned by %s and %s", id, prev, name)
			}
			where[id] = name
		}
	}
	waiting := n.waiting(t, handoff.GroupPresale)
	for _, id := range waiting {
		if prev, ok := where[id]; ok {
			t.Errorf("%s is waiting and owned by %s", id, prev)
		}
		where[id] = "queue"
	}
	if len(where) != chats || len(waiting) != chats-agents*limit {
		t.Errorf("%d chats owned or waiting (%d waiting), want all %d (%d waiting)", len(where), len(waiting), chats, chats-agents*limit)
	}
	for id := range all {
		c := n.get(t, id)
		switch owner := where[id]; {
		case owner == "":
			t.Errorf("%s is lost: %s with %q", id, c.Status, c.Agent)
		case owner == "queue" && c.Status != handoff.StatusQueued:
			t.Errorf("%s waits but is %s", id, c.Status)
		case owner != "queue" && (c.Status != handoff.StatusActive || c.Agent != owner || enginetest.CountStatus(t, n.Desk, id, handoff.StatusActive) != 1):
			t.Errorf("%s is owned by %s but is %s with %q, %d claims", id, owner, c.Status, c.Agent, enginetest.CountStatus(t, n.Desk, id, handoff.StatusActive))
		}
	}
	if p := n.pending(t); len(p) != 0 {
		t.Errorf("%d changes still pending", len(p))
	}
}

// TestClaimManyRace has 10 agents claim the same 50 chats, in the same order, at once:
// every chat has one owner, whose claim alone succeeded, and nobody is over the limit.
func TestClaimManyRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const convs, agents, limit = 50, 10, 20
	n := openNode(t, desktest.Options{Desk: func(c *handoff.DeskConfig) { c.ManualOnly, c.MaxChats = true, limit }})
	ids := make([]string, convs)
	for i := range ids {
		ids[i] = n.handoff(t, handoff.GroupPresale, triage.ReasonRequested, 0)
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
				_, err := n.Desk.Claim(ctx, id, fmt.Sprintf("agent%d", a))
				switch {
				case err == nil:
					won[a][i] = true
				case errors.Is(err, handoff.ErrAtCapacity):
					// A fast agent fills up; the others take the rest.
				case !errors.Is(err, handoff.ErrAlreadyClaimed):
					t.Errorf("agent%d claiming %d: %v", a, i, err)
				}
			}
		})
	}
	close(start)
	wg.Wait()

	owner := make(map[string]string) // conversation → agent, from Owned
	for a := range agents {
		name := fmt.Sprintf("agent%d", a)
		owned := n.owned(t, name)
		if len(owned) > limit {
			t.Errorf("%s owns %d conversations, more than the limit %d", name, len(owned), limit)
		}
		for _, id := range owned {
			if prev, ok := owner[id]; ok {
				t.Errorf("%s is owned by both %s and %s", id, prev, name)
			}
			owner[id] = name
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
		c := n.get(t, id)
		if len(winners) != 1 || c.Status != handoff.StatusActive || c.Agent != winners[0] || owner[id] != winners[0] {
			t.Errorf("conversation %d: claims won by %v; status %s, agent %q, Owned by %q", i, winners, c.Status, c.Agent, owner[id])
		}
		if k := enginetest.CountStatus(t, n.Desk, id, handoff.StatusActive); k != 1 {
			t.Errorf("conversation %d: %d status-active records, want 1", i, k)
		}
	}
}
