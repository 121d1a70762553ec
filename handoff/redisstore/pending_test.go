package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/handoff/redisstore"
	"github.com/kefu-im/kefu/internal/triage"
)

// A change that moves the routing side is made in steps (package doc): these tests stop
// between them, as a node that stops does, or make the conversation side refuse.

// TestPendingRecovery plays a node that stopped between the steps of a change: while
// the change is young, others are told the chat is changing and readers of the queue
// and of the agent's chats do not lose it; once it is PendingAfter old, the next change
// of the chat, Recover, or any node's Listen on its own, finishes it.
func TestPendingRecovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, desktest.Options{Desk: manual})
	sub := n.Desk.Subscribe("")
	t.Cleanup(sub.Close)

	// alice's claim stops after its first step.
	c1 := n.queued(t)
	if _, err := n.store.Reserve(ctx, claim(c1, "alice", 0)); err != nil {
		t.Fatal(err)
	}
	if w := n.waiting(t, handoff.GroupPresale); len(w) != 0 {
		t.Errorf("waiting during the half claim = %v, want none: it left the queue", w)
	}
	if o := n.owned(t, "alice"); len(o) != 0 {
		t.Errorf("alice owns %v before her claim is written", o)
	}
	if l := n.loads(t, "alice"); l[0] != 1 {
		t.Errorf("alice's load during her half claim = %d, want 1: it counts against her limit", l[0])
	}
	if _, err := n.Desk.Claim(ctx, c1.ID, "bob"); !errors.Is(err, handoff.ErrBusy) {
		t.Errorf("bob's claim during alice's: error = %v, want ErrBusy", err)
	}
	if err := n.store.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if p := n.pending(t); !slices.Equal(p, []string{c1.ID}) {
		t.Errorf("pending after a Recover while the change is young = %v, want %s", p, c1.ID)
	}
	n.clock.Advance(redisstore.PendingAfter)
	if _, err := n.Desk.Claim(ctx, c1.ID, "bob"); !errors.Is(err, handoff.ErrAlreadyClaimed) {
		t.Errorf("bob's claim once alice's is stale: error = %v, want ErrAlreadyClaimed", err)
	}
	if c := n.get(t, c1.ID); c.Status != handoff.StatusActive || c.Agent != "alice" || enginetest.CountStatus(t, n.Desk, c1.ID, handoff.StatusActive) != 1 {
		t.Errorf("after bob's claim finished alice's: %s with %q, %d claims", c.Status, c.Agent, enginetest.CountStatus(t, n.Desk, c1.ID, handoff.StatusActive))
	}
	if o := n.owned(t, "alice"); !slices.Equal(o, []string{c1.ID}) {
		t.Errorf("alice owns %v, want %s", o, c1.ID)
	}
	if c, err := n.Desk.Claim(ctx, c1.ID, "alice"); err != nil || c.Agent != "alice" {
		t.Errorf("alice's retry = %q, %v; want her claim", c.Agent, err)
	}

	// A hand-off stops after its first step: the chat is in no queue yet; Recover
	// finishes it.
	bot, _, err := n.Desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	handoffOf := func(c handoff.Conversation, key string) handoff.Change {
		return changeTo(c, "handoff:"+key, "", 0, func(next *handoff.Conversation) {
			next.Status, next.Group, next.Reason, next.Key = handoff.StatusQueued, handoff.GroupPresale, triage.ReasonRequested, "handoff:"+key
			next.EnqueuedAt, next.Score = n.clock.Now(), n.clock.Now().UnixMilli()
		})
	}
	if _, err := n.store.Reserve(ctx, handoffOf(bot, "k2")); err != nil {
		t.Fatal(err)
	}
	if w := n.waiting(t, handoff.GroupPresale); len(w) != 0 {
		t.Errorf("waiting during the half hand-off = %v, want none", w)
	}
	n.clock.Advance(redisstore.PendingAfter)
	if err := n.store.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if c := n.get(t, bot.ID); c.Status != handoff.StatusQueued || !slices.Equal(n.waiting(t, handoff.GroupPresale), []string{bot.ID}) {
		t.Errorf("after Recover the hand-off is %s, waiting %v", c.Status, n.waiting(t, handoff.GroupPresale))
	}
	enginetest.Await(t, sub, 20*time.Second, "the recovered hand-off joining the queue", func(e handoff.Event) bool {
		return e.Type == handoff.EventQueue && e.Joined != nil && e.Joined.ID == bot.ID
	})

	// Another hand-off stops after its first step; nobody calls Recover: the desk's Run
	// listens, and its Listen finishes it.
	late, _, err := n.Desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.store.Reserve(ctx, handoffOf(late, "k3")); err != nil {
		t.Fatal(err)
	}
	n.clock.Advance(redisstore.PendingAfter)
	enginetest.Await(t, sub, 20*time.Second, "Listen finishing the hand-off", func(e handoff.Event) bool {
		return e.Type == handoff.EventQueue && e.Joined != nil && e.Joined.ID == late.ID
	})
	if c := n.get(t, late.ID); c.Status != handoff.StatusQueued || len(n.pending(t)) != 0 {
		t.Errorf("after Listen: %s, pending %v", c.Status, n.pending(t))
	}
}
