package enginetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// testReopenRules: a shopper who writes again within the reopen window goes back to the
// agent who resolved the chat when they are online and below their limit, else to the
// front of the chat's group's queue; after the window, or when no agent resolved it, to
// the bot, from where a hand-off goes through as for any chat. A resend reopens once.
func testReopenRules(t *testing.T, open Opener) {
	ctx := context.Background()
	r := newRig(t, open)
	r.staff["dan"] = account.User{Name: "dan", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)}
	r.online(t, "carol", "dan") // carol owns 2 chats at most
	// served hands off a chat, has agent claim it and resolve it.
	served := func(agent string) string {
		t.Helper()
		id := r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 1)
		if _, err := r.desk.Claim(ctx, id, agent); err != nil {
			t.Fatal(err)
		}
		if _, err := r.desk.Resolve(ctx, id, agent); err != nil {
			t.Fatal(err)
		}
		return id
	}
	reopen := func(id, key string, want handoff.Status) {
		t.Helper()
		for range 2 { // the second is a resend
			st, err := r.desk.Reopen(ctx, id, key)
			if err != nil || st != want {
				t.Fatalf("Reopen(%s) = %q, %v; want %s", id, st, err, want)
			}
		}
	}
	// routed reports whether the chat waits in a queue or is owned by someone.
	routed := func(id string) bool {
		t.Helper()
		w, err := r.desk.Waiting(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		routed := slices.Contains(IDs(w), id)
		for _, a := range []string{"carol", "dan"} {
			o, err := r.desk.Owned(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			routed = routed || slices.Contains(IDs(o), id)
		}
		return routed
	}

	back := served("carol")
	reopen(back, "m2", handoff.StatusActive)
	if c, n := r.get(t, back), r.statusRecords(t, back, handoff.StatusActive); c.Agent != "carol" || n != 2 {
		t.Errorf("reopened chat is %s with %q and %d claims, want carol's again once", c.Status, c.Agent, n)
	}
	if got := r.lastSystem(t, back); got != "您好，客服carol继续为您服务，请问还有什么可以帮到您？" {
		t.Errorf("reopened chat ends with %q", got)
	}

	// carol is full (back and another): the front of the queue, ahead of an older
	// complaint of a VIP.
	full := served("carol")
	older := r.waiting(t, handoff.GroupAftersale, triage.ReasonNegativeSentiment, 5)
	if _, err := r.desk.Claim(ctx, r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0), "carol"); err != nil {
		t.Fatal(err)
	}
	reopen(full, "m2", handoff.StatusQueued)
	if w, _ := r.desk.Waiting(ctx, handoff.GroupAftersale); !slices.Equal(IDs(w), []string{full, older}) {
		t.Errorf("queue = %v, want the reopened chat %s ahead of %s", IDs(w), full, older)
	}
	if c := r.get(t, full); c.Group != handoff.GroupAftersale || c.Reason != triage.ReasonReopened || c.Agent != "" {
		t.Errorf("reopened chat = %+v", c)
	}
	if got := r.lastSystem(t, full); got != handoff.DefaultPhrases.ReopenedQueue {
		t.Errorf("reopened chat ends with %q, want the reopened-queue phrase", got)
	}

	// dan went offline: the queue.
	gone := served("dan")
	if _, err := r.desk.Heartbeat(ctx, "dan", handoff.PresenceOffline); err != nil {
		t.Fatal(err)
	}
	reopen(gone, "m2", handoff.StatusQueued)

	// After the window: the bot, even with dan online again. The shopper may ask for a
	// person again.
	late := served("dan")
	r.online(t, "dan")
	r.clock.Advance(31 * time.Minute)
	r.online(t, "dan")
	reopen(late, "m2", handoff.StatusBot)
	if c := r.get(t, late); c.Agent != "" || routed(late) {
		t.Errorf("the chat back with the bot is %+v, routed %v", c, routed(late))
	}
	if err := r.desk.AskForPerson(ctx, late, "h3"); err != nil {
		t.Fatalf("asking for a person after the bot took the chat back: %v", err)
	}
	if c := r.get(t, late); c.Status != handoff.StatusQueued || !routed(late) {
		t.Errorf("after asking for a person again: %+v, routed %v; want queued", c, routed(late))
	}

	// Not resolved: nothing changes.
	if st, err := r.desk.Reopen(ctx, back, "m3"); err != nil || st != handoff.StatusActive {
		t.Errorf("Reopen of an active chat = %q, %v; want active, nil", st, err)
	}

	// A chat the shopper left a message in was resolved by no agent: the bot, and from
	// there to a person when the shopper asks.
	left := r.queued(t)
	if _, _, err := r.desk.LeaveMessage(ctx, left.ID, handoff.LeftMessage{Key: "l1", Text: "请回电"}); err != nil {
		t.Fatal(err)
	}
	if err := r.desk.AskForPerson(ctx, left.ID, "h1"); err != nil {
		t.Fatalf("asking for a person after leaving a message: %v", err)
	}
	if c := r.get(t, left.ID); c.Status != handoff.StatusQueued || c.Reason != triage.ReasonRequested {
		t.Errorf("after asking for a person again: %s for %q, want queued as requested", c.Status, c.Reason)
	}

	// No window: the bot.
	off := newRig(t, open, func(c *handoff.DeskConfig) { c.ReopenWindow = -1 })
	off.online(t, "alice")
	id := off.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if _, err := off.desk.Claim(ctx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := off.desk.Resolve(ctx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	if st, err := off.desk.Reopen(ctx, id, "m2"); err != nil || st != handoff.StatusBot {
		t.Errorf("Reopen with no window = %q, %v; want bot", st, err)
	}
}
