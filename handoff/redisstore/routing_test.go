package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
)

// Routing on Redis under load: many hand-offs, claims and assignments at once, and
// agents who go away holding chats.

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
	owners := map[string][]string{}
	for _, name := range names {
		owned := n.owned(t, name)
		if l := n.loads(t, name)[0]; l > limit || len(owned) != l {
			t.Errorf("%s: load %d, owned %d; want equal and at most %d", name, l, len(owned), limit)
		}
		owners[name] = owned
	}
	waiting := n.waiting(t, handoff.GroupPresale)
	where := places(t, owners, waiting) // conversation → owner, or "queue"
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

	owners := map[string][]string{}
	for a := range agents {
		name := fmt.Sprintf("agent%d", a)
		owned := n.owned(t, name)
		if len(owned) > limit {
			t.Errorf("%s owns %d conversations, more than the limit %d", name, len(owned), limit)
		}
		owners[name] = owned
	}
	owner := places(t, owners, nil) // conversation → agent, from Owned
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
