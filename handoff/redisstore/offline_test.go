package redisstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
)

func (n *node) agent(t *testing.T, name string) handoff.AgentLoad {
	t.Helper()
	a, err := n.Desk.AgentLoad(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (n *node) beat(t *testing.T, agent, status string) {
	t.Helper()
	if _, err := n.Desk.Heartbeat(context.Background(), agent, status); err != nil {
		t.Fatalf("Heartbeat(%s, %s): %v", agent, status, err)
	}
}

// TestAgentOffline: an agent stops sending heartbeats; once the grace period has passed
// (on the desk's clock), the desk's Run gives their chats back to the front of the
// queue, each with one note to the shopper, and an agent who comes online gets them.
func TestAgentOffline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, desktest.Options{Desk: func(c *handoff.DeskConfig) { c.SweepInterval = 10 * time.Millisecond }})
	n.Staff.Add(account.User{Name: "sam", Role: account.RoleAgent, Group: string(handoff.GroupAftersale), MaxChats: 3})
	n.Staff.Add(account.User{Name: "tom", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)})
	n.beat(t, "sam", handoff.PresenceOnline)
	var mine []string
	for range 3 {
		mine = append(mine, n.handoff(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0))
	}
	other := n.handoff(t, handoff.GroupAftersale, triage.ReasonNegativeSentiment, 3) // waits, far ahead by priority
	if o := n.owned(t, "sam"); len(o) != 3 {
		t.Fatalf("sam owns %v, want the first three", o)
	}

	// Within the grace period nothing moves.
	n.clock.Advance(50 * time.Second)
	if err := n.Desk.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if o := n.owned(t, "sam"); len(o) != 3 {
		t.Fatalf("within the grace period sam owns %v, want 3 chats", o)
	}
	n.clock.Advance(11 * time.Second)
	want := append(slices.Clone(mine), other)
	timetest.Poll(t, 10*time.Second, "sam's chats back at the front of the queue", func() bool {
		return slices.Equal(n.waiting(t, handoff.GroupAftersale), want)
	})
	for _, id := range mine {
		c := n.get(t, id)
		if c.Status != handoff.StatusQueued || c.Agent != "" || c.Group != handoff.GroupAftersale || !c.Front {
			t.Errorf("%s is %s with %q in %s (front %v)", id, c.Status, c.Agent, c.Group, c.Front)
		}
		if got := enginetest.LastNote(t, n.Desk, id); got != handoff.DefaultPhrases.AgentOffline {
			t.Errorf("%s ends with %q, want the offline note", id, got)
		}
		if k := enginetest.CountStatus(t, n.Desk, id, handoff.StatusQueued); k != 1 {
			t.Errorf("%s has %d status-queued records, want 1", id, k)
		}
	}
	if a := n.agent(t, "sam"); a.Status != handoff.PresenceOffline || a.Load != 0 {
		t.Errorf("sam is %+v, want offline with no chats", a)
	}

	// tom comes online and is given the requeued chats, and the other.
	n.beat(t, "tom", handoff.PresenceOnline)
	timetest.Poll(t, 10*time.Second, "tom to have every chat", func() bool { return len(n.owned(t, "tom")) == 4 })
	got := n.owned(t, "tom")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("tom got %v, want %v", got, want)
	}
}

// TestGoOffline: an agent who says offline gives their chats back at once, and gets
// them again when back online.
func TestGoOffline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, desktest.Options{})
	n.beat(t, "alice", handoff.PresenceOnline)
	id := n.handoff(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if c := n.get(t, id); c.Agent != "alice" {
		t.Fatalf("chat is with %q, want alice", c.Agent)
	}
	a, err := n.Desk.Heartbeat(ctx, "alice", handoff.PresenceOffline)
	if err != nil || a.Status != handoff.PresenceOffline || a.Load != 0 {
		t.Fatalf("Heartbeat(offline) = %+v, %v", a, err)
	}
	if got := n.waiting(t, handoff.GroupPresale); !slices.Equal(got, []string{id}) {
		t.Errorf("waiting = %v, want the chat back", got)
	}
	n.beat(t, "alice", handoff.PresenceOnline)
	if c := n.get(t, id); c.Agent != "alice" {
		t.Errorf("after alice came back the chat is with %q", c.Agent)
	}
	if _, err := n.Desk.Heartbeat(ctx, "alice", "dancing"); err == nil {
		t.Error("Heartbeat with an unknown status succeeded")
	}
	if _, err := n.Desk.Heartbeat(ctx, "nobody", handoff.PresenceOnline); err == nil {
		t.Error("Heartbeat of an unknown agent succeeded")
	}
}

// TestHeartbeatsStop checks in real time that an agent whose heartbeats stop (their
// console closed, their network gone) holds their chats while they beat, even past the
// grace period, and has them back at the front of the queue, each with the offline note,
// no sooner than the grace period after the last heartbeat and within it and a sweep.
// (That the console's event stream ends with its connection is the console's to test.)
func TestHeartbeatsStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, desktest.Options{Now: time.Now, Desk: func(c *handoff.DeskConfig) { c.Grace, c.SweepInterval = desktest.OfflineGrace, desktest.OfflineSweep }})
	n.Staff.Add(account.User{Name: "sam", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)})

	beats := desktest.StartBeats(t, func() bool {
		_, err := n.Desk.Heartbeat(ctx, "sam", handoff.PresenceOnline)
		return err == nil
	})
	timetest.Poll(t, 10*time.Second, "sam's first heartbeat", func() bool { return n.agent(t, "sam").Status == handoff.PresenceOnline })
	var chats []string
	for range 3 {
		chats = append(chats, n.handoff(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0))
	}
	slices.Sort(chats)
	off := desktest.Offline{Agent: "sam", Group: handoff.GroupAftersale, Chats: chats}
	timetest.Poll(t, 10*time.Second, "sam to be given the three chats", func() bool {
		o := n.owned(t, "sam")
		slices.Sort(o)
		return slices.Equal(o, chats)
	})

	// While sam beats, nothing moves, for longer than the grace period.
	off.Held(t, n.Desk)

	// The heartbeats stop.
	lastBeat := beats.Stop()
	off.Requeued(t, n.Desk, lastBeat, time.Now())
}
