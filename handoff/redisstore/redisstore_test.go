package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/handoff/redisstore"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/redis/go-redis/v9"
)

// The contract on engines of one redis-server, and the desk on Redis that the other tests
// of this package run, with what they read of it.

// opener returns an Opener of engines on one redis-server started for t, each with a
// key prefix of its own test.
func opener(t *testing.T) enginetest.Opener {
	srv := redistest.Start(t)
	return func(t *testing.T) handoff.Engine {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { rdb.Close() })
		s, err := redisstore.New(redisstore.Config{Client: rdb, Prefix: srv.Prefix(t)})
		if err != nil {
			t.Fatal(err)
		}
		return s.Engine()
	}
}

func TestContract(t *testing.T) { enginetest.Run(t, opener(t)) }

// node is a desk on Redis, its engine, and the clock of both, which the test moves
// unless o.Now was set, with the pre-sale agents alice and bob.
type node struct {
	*desktest.Rig
	store *redisstore.Store
	clock *timetest.Clock
}

// openNode opens a desk on Redis as o says; it stops when the test ends.
func openNode(t *testing.T, o desktest.Options) *node {
	t.Helper()
	n := &node{}
	if o.Now == nil {
		n.clock = enginetest.NewClock()
		o.Now = n.clock.Now
	}
	o.Engine = desktest.Redis
	n.Rig = desktest.Open(t, o)
	n.store = n.Engine.Conversations.(*redisstore.Store)
	for _, a := range []string{"alice", "bob"} {
		n.Staff.Add(account.User{Name: a, Role: account.RoleAgent, Group: string(handoff.GroupPresale)})
	}
	return n
}

func manual(c *handoff.DeskConfig) { c.ManualOnly = true }

// get reads conversation id.
func (n *node) get(t *testing.T, id string) handoff.Conversation {
	t.Helper()
	c, err := n.Desk.Conversation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// handoff starts a conversation of a shopper with VIP level vip, and hands it to
// group's queue for reason.
func (n *node) handoff(t *testing.T, group handoff.Group, reason triage.Reason, vip int) string {
	t.Helper()
	ctx := context.Background()
	c, _, err := n.Desk.StartAs(ctx, &handoff.Shopper{ID: "buyer", VIP: vip, Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Desk.Handoff(ctx, c.ID, handoff.HandoffRequest{Key: "m1", Reason: reason, Group: group}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// queued starts a conversation and hands it to the pre-sale queue.
func (n *node) queued(t *testing.T) handoff.Conversation {
	t.Helper()
	return n.get(t, n.handoff(t, handoff.GroupPresale, triage.ReasonRequested, 0))
}

// waiting returns the conversations waiting in group's queue.
func (n *node) waiting(t *testing.T, group handoff.Group) []string {
	t.Helper()
	w, err := n.Desk.Waiting(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	return enginetest.IDs(w)
}

// owned returns the conversations agent owns.
func (n *node) owned(t *testing.T, agent string) []string {
	t.Helper()
	o, err := n.Desk.Owned(context.Background(), agent)
	if err != nil {
		t.Fatal(err)
	}
	return enginetest.IDs(o)
}

// pending returns the conversations with a change pending.
func (n *node) pending(t *testing.T) []string {
	t.Helper()
	p, err := n.store.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// loads returns the loads of agents, in their order.
func (n *node) loads(t *testing.T, agents ...string) []int {
	t.Helper()
	l, err := n.Engine.Conversations.Loads(context.Background(), agents...)
	if err != nil {
		t.Fatal(err)
	}
	return l
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

// agent reads the load and presence of agent name.
func (n *node) agent(t *testing.T, name string) handoff.AgentLoad {
	t.Helper()
	a, err := n.Desk.AgentLoad(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// beat sends agent's heartbeat with status.
func (n *node) beat(t *testing.T, agent, status string) {
	t.Helper()
	if _, err := n.Desk.Heartbeat(context.Background(), agent, status); err != nil {
		t.Fatalf("Heartbeat(%s, %s): %v", agent, status, err)
	}
}

// places maps each conversation the indexes hold to where they put it: its owner in
// owners (agent → chats), or "queue" for one in queue. A conversation in two places
// fails the test.
func places(t *testing.T, owners map[string][]string, queue []string) map[string]string {
	t.Helper()
	where := map[string]string{}
	put := func(id, place string) {
		if prev, ok := where[id]; ok {
			t.Errorf("%s is in both %s and %s", id, prev, place)
		}
		where[id] = place
	}
	for a, ids := range owners {
		for _, id := range ids {
			put(id, a)
		}
	}
	for _, id := range queue {
		put(id, "queue")
	}
	return where
}
