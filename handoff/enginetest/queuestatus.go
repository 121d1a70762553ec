package enginetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
)

// status reads where conversation id waits and what its shopper is told.
func (r *rig) status(t *testing.T, id string) handoff.QueueStatus {
	t.Helper()
	ctx := context.Background()
	c := r.get(t, id)
	p, err := r.desk.Place(ctx, c)
	if err != nil {
		t.Fatalf("Place(%s): %v", id, err)
	}
	qs, err := r.desk.QueueStatus(ctx, c, p)
	if err != nil {
		t.Fatalf("QueueStatus(%s): %v", id, err)
	}
	return qs
}

// Await waits until sub delivers an event that ok accepts, as a waiting shopper's
// session does before it tells the shopper again, and stops the test when none comes
// within the time given; what names the awaited event.
func Await(t testing.TB, sub *handoff.Subscription, within time.Duration, what string, ok func(handoff.Event) bool) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e := <-sub.C:
			if ok(*e) {
				return
			}
		case <-deadline:
			t.Fatalf("no event of %s within %v", what, within)
		}
	}
}

// beat sends agent's heartbeat and waits until the desk announced the presence.
func (r *rig) beat(t *testing.T, sub *handoff.Subscription, agent, status string) {
	t.Helper()
	if _, err := r.desk.Heartbeat(context.Background(), agent, status); err != nil {
		t.Fatalf("Heartbeat(%s, %s): %v", agent, status, err)
	}
	Await(t, sub, 10*time.Second, agent+" "+status, func(e handoff.Event) bool {
		return e.Type == handoff.EventPresence && e.Presence.Agent == agent && e.Presence.Status == status
	})
}

// testQueueStatus: a waiting shopper is told their place in their group's queue and a
// wait in proportion to it, which follows the recent waits; they are offered to leave a
// message when no agent of the chat's group is online (an away agent takes no chats),
// or once the chat has waited the queue timeout, and told when that will be.
func testQueueStatus(t *testing.T, r *rig) {
	ctx := context.Background()
	sub := r.desk.Subscribe("")
	t.Cleanup(sub.Close)
	c := r.start(t, 0)
	if err := r.desk.AskForPerson(ctx, c.ID, "k1"); err != nil {
		t.Fatal(err)
	}
	second := r.start(t, 0)
	if err := r.desk.AskForPerson(ctx, second.ID, "k1"); err != nil {
		t.Fatal(err)
	}
	aftersale := r.queued(t)
	// Before any chat was claimed, the wait per place is the default minute.
	if qs := r.status(t, c.ID); qs.Offer != handoff.OfferOffline || qs.Position != 1 || qs.Wait != time.Minute {
		t.Errorf("nobody online: %+v, want position 1, a minute's wait and the offline offer", qs)
	}
	if qs := r.status(t, second.ID); qs.Position != 2 || qs.Wait != 2*time.Minute {
		t.Errorf("second in the queue: %+v, want position 2 and two minutes", qs)
	}
	if qs := r.status(t, aftersale.ID); qs.Position != 1 {
		t.Errorf("first of another group's queue: %+v, want position 1", qs)
	}
	r.beat(t, sub, "carol", handoff.PresenceOnline) // another group
	r.beat(t, sub, "alice", handoff.PresenceAway)
	if qs := r.status(t, c.ID); qs.Offer != handoff.OfferOffline {
		t.Errorf("alice away, carol in after-sales: %+v, want the offline offer", qs)
	}
	if qs := r.status(t, aftersale.ID); qs.Offer != "" {
		t.Errorf("an after-sales chat with carol online: %+v, want no offer", qs)
	}
	r.beat(t, sub, "alice", handoff.PresenceOnline)
	qs := r.status(t, c.ID)
	if qs.Offer != "" || qs.OfferIn <= 9*time.Minute || qs.OfferIn > 10*time.Minute {
		t.Errorf("alice online: %+v, want no offer yet, the timeout in about 10 minutes", qs)
	}
	r.clock.Advance(10 * time.Minute)
	r.beat(t, sub, "alice", handoff.PresenceOnline) // her last heartbeat is older than the grace
	if qs := r.status(t, c.ID); qs.Offer != handoff.OfferTimeout || qs.OfferIn != 0 {
		t.Errorf("after 10 minutes: %+v, want the timeout offer", qs)
	}

	claimed, err := r.desk.Claim(ctx, c.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Place(ctx, claimed); !errors.Is(err, handoff.ErrNotQueued) {
		t.Errorf("Place of a claimed chat: error = %v, want ErrNotQueued", err)
	}
	// The claim's wait is the estimate now, once its queue event came.
	Await(t, sub, 10*time.Second, "the claim leaving the queue", func(e handoff.Event) bool {
		return e.Type == handoff.EventQueue && e.Left != nil && e.Left.ID == c.ID
	})
	waited := claimed.ClaimedAt.Sub(claimed.EnqueuedAt)
	if qs := r.status(t, second.ID); qs.Position != 1 || qs.Wait != waited {
		t.Errorf("after the claim: %+v, want position 1 and the claimed chat's wait %v", qs, waited)
	}

	// Without a queue timeout, only nobody online makes the offer.
	never := newRig(t, r.open, func(c *handoff.DeskConfig) { c.QueueTimeout = -1 })
	w := never.start(t, 0)
	if err := never.desk.AskForPerson(ctx, w.ID, "k1"); err != nil {
		t.Fatal(err)
	}
	never.online(t, "alice")
	never.clock.Advance(time.Hour)
	never.online(t, "alice")
	if qs := never.status(t, w.ID); qs.Offer != "" || qs.OfferIn != 0 {
		t.Errorf("an hour's wait without a queue timeout: %+v, want no offer", qs)
	}
}
