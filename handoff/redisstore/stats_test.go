package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/redisstore"
)

// TestTalliesOnce: the reports' counters of a change that moves the routing side are
// added once, whoever finishes the change — the node that began it, a node finishing it
// again after the first stopped before its end, or Recover after the first stopped
// between its steps.
func TestTalliesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, desktest.Options{Desk: manual})
	claimed := func(c handoff.Conversation, agent string) handoff.Change {
		ch := claim(c, agent, 0)
		ch.Tallies = []handoff.Tally{{Hour: 3600 * 1000, Group: handoff.GroupPresale, Agent: agent, Name: "taken", N: 1}}
		return ch
	}
	count := func(agent string) int64 {
		t.Helper()
		ts, err := n.store.Tallies(ctx, time.Unix(0, 0), time.Unix(3600*1001, 0))
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, x := range ts {
			if x.Agent == agent && x.Name == "taken" {
				sum += x.N
			}
		}
		return sum
	}

	// Finished by its node, then again (as a node finishing a change whose first finish
	// lost its end): once.
	first := claimed(n.queued(t), "alice")
	r, err := n.store.Reserve(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := n.store.Complete(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got := count("alice"); got != 1 {
		t.Errorf("alice's claim finished twice counts %d, want 1", got)
	}

	// Stopped between its steps and finished by Recover: once, from the pending change.
	if _, err := n.store.Reserve(ctx, claimed(n.queued(t), "bob")); err != nil {
		t.Fatal(err)
	}
	if got := count("bob"); got != 0 {
		t.Errorf("bob's half claim counts %d, want 0", got)
	}
	n.clock.Advance(redisstore.PendingAfter)
	for range 2 {
		if err := n.store.Recover(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := count("bob"); got != 1 {
		t.Errorf("bob's claim finished by Recover counts %d, want 1", got)
	}
	// The same change committed again (a retry) is made before: nothing more.
	if res, err := n.store.Commit(ctx, first); err != nil || !res.Dup {
		t.Errorf("committing alice's claim again = dup %v, %v", res.Dup, err)
	}
	if got := count("alice"); got != 1 {
		t.Errorf("alice's claim committed again counts %d, want 1", got)
	}
}
