package redisstore_test

import (
	"context"
	"errors"
	"fmt"
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

// node is a desk on Redis with a clock the test moves, and its engine.
type node struct {
	*desktest.Rig
	store *redisstore.Store
	clock *enginetest.Clock
}

func openNode(t *testing.T, o desktest.Options) *node {
	t.Helper()
	clock := enginetest.NewClock()
	o.Engine, o.Now = desktest.Redis, clock.Now
	r := desktest.Open(t, o)
	for _, a := range []string{"alice", "bob"} {
		r.Staff.Add(handoff.User{Name: a, Role: handoff.RoleAgent, Group: string(handoff.GroupPresale)})
	}
	return &node{Rig: r, store: r.Engine.Conversations.(*redisstore.Store), clock: clock}
}

func manual(c *handoff.DeskConfig) { c.ManualOnly = true }

func (n *node) get(t *testing.T, id string) handoff.Conversation {
	t.Helper()
	c, err := n.Desk.Conversation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// queued starts a conversation and hands it to the pre-sale queue.
func (n *node) queued(t *testing.T) handoff.Conversation {
	t.Helper()
	ctx := context.Background()
	c, _, err := n.Desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Desk.Handoff(ctx, c.ID, handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonRequested, Group: handoff.GroupPresale}); err != nil {
		t.Fatal(err)
	}
	return n.get(t, c.ID)
}

func (n *node) waiting(t *testing.T) []string {
	t.Helper()
	w, err := n.Desk.Waiting(context.Background(), handoff.GroupPresale)
	if err != nil {
		t.Fatal(err)
	}
	return convIDs(w)
}

func (n *node) owned(t *testing.T, agent string) []string {
	t.Helper()
	o, err := n.Desk.Owned(context.Background(), agent)
	if err != nil {
		t.Fatal(err)
	}
	return convIDs(o)
}

func (n *node) pending(t *testing.T) []string {
	t.Helper()
	p, err := n.store.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (n *node) loads(t *testing.T, agents ...string) []int {
	t.Helper()
	l, err := n.Engine.Conversations.Loads(context.Background(), agents...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// countStatus counts the records of conv's log that change its status to status.
func (n *node) countStatus(t *testing.T, conv string, status handoff.Status) int {
	t.Helper()
	msgs, err := n.Desk.Messages(context.Background(), conv, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, m := range msgs {
		if m.Kind == handoff.KindStatus && m.Status == status {
			k++
		}
	}
	return k
}

func convIDs(cs []handoff.Conversation) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// changeTo is the change from c to the record next makes of it, with one record keyed
// by key; owner and load, when set, are the load it is decided on.
func changeTo(c handoff.Conversation, key string, owner string, load int, next func(*handoff.Conversation)) handoff.Change {
	n := c
	next(&n)
	return handoff.Change{Conv: c.ID, Rev: c.Rev, Prev: &c, Next: &n, Owner: owner, Load: load, Append: []handoff.Message{
		{ID: key, Kind: handoff.KindStatus, From: handoff.FromSystem, Status: n.Status, Agent: n.Agent, TS: c.CreatedAt.UnixMilli()},
	}}
}

// claim is agent's claim of c, who owns load chats, as the desk makes it.
func claim(c handoff.Conversation, agent string, load int) handoff.Change {
	return changeTo(c, fmt.Sprintf("claim:%d:%s", c.Rev, agent), agent, load, func(n *handoff.Conversation) {
		n.Status, n.Agent, n.ClaimedAt = handoff.StatusActive, agent, n.EnqueuedAt.Add(time.Second)
	})
}

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
	if w := n.waiting(t); len(w) != 0 {
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
	if c := n.get(t, c1.ID); c.Status != handoff.StatusActive || c.Agent != "alice" || n.countStatus(t, c1.ID, handoff.StatusActive) != 1 {
		t.Errorf("after bob's claim finished alice's: %s with %q, %d claims", c.Status, c.Agent, n.countStatus(t, c1.ID, handoff.StatusActive))
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
	if w := n.waiting(t); len(w) != 0 {
		t.Errorf("waiting during the half hand-off = %v, want none", w)
	}
	n.clock.Advance(redisstore.PendingAfter)
	if err := n.store.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if c := n.get(t, bot.ID); c.Status != handoff.StatusQueued || !slices.Equal(n.waiting(t), []string{bot.ID}) {
		t.Errorf("after Recover the hand-off is %s, waiting %v", c.Status, n.waiting(t))
	}
	await(t, sub, "the recovered hand-off joining the queue", func(e handoff.Event) bool {
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
	await(t, sub, "Listen finishing the hand-off", func(e handoff.Event) bool {
		return e.Type == handoff.EventQueue && e.Joined != nil && e.Joined.ID == late.ID
	})
	if c := n.get(t, late.ID); c.Status != handoff.StatusQueued || len(n.pending(t)) != 0 {
		t.Errorf("after Listen: %s, pending %v", c.Status, n.pending(t))
	}
}

// await waits until sub delivers an event that ok accepts.
func await(t *testing.T, sub *handoff.Subscription, what string, ok func(handoff.Event) bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-sub.C:
			if ok(e) {
				return
			}
		case <-deadline:
			t.Fatalf("no event of %s within 20s", what)
		}
	}
}
