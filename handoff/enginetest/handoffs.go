package enginetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/triage"
)

// testPriorityOrder: complaints first, then after-sales, then the rest; VIP levels move a
// chat up, to MaxVIP at most; waiting moves every chat up, so a chat that waited long
// enough is ahead of a new complaint. Each place the desk reads is the queue's order.
func testPriorityOrder(t *testing.T, r *rig) {
	ctx := context.Background()
	plain := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0) // score t
	r.clock.Advance(time.Minute)
	angry := r.waiting(t, handoff.GroupPresale, triage.ReasonNegativeSentiment, 0) // t+1m-10m
	r.clock.Advance(time.Minute)
	vip := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 2) // t+2m-4m
	r.clock.Advance(time.Minute)
	later := r.waiting(t, handoff.GroupPresale, triage.ReasonLowConfidence, 0) // t+3m
	aftersale := r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0)
	r.clock.Advance(time.Minute)
	aftersaleAngry := r.waiting(t, handoff.GroupAftersale, triage.ReasonNegativeSentiment, 0)
	r.clock.Advance(20 * time.Minute)
	angryLate := r.waiting(t, handoff.GroupPresale, triage.ReasonNegativeSentiment, 99) // t+24m-10m-5×2m

	// later waited 21 minutes longer than angryLate, more than its boosts.
	want := []string{angry, vip, plain, later, angryLate}
	if got, _ := r.desk.Waiting(ctx, handoff.GroupPresale); !slices.Equal(IDs(got), want) {
		t.Errorf("presale queue = %v, want %v", IDs(got), want)
	}
	if got, _ := r.desk.Waiting(ctx, handoff.GroupAftersale); !slices.Equal(IDs(got), []string{aftersaleAngry, aftersale}) {
		t.Errorf("aftersale queue = %v, want the complaint first", IDs(got))
	}
	for i, id := range want {
		if p, err := r.desk.Place(ctx, r.get(t, id)); err != nil || p.Pos != i+1 || p.Group != handoff.GroupPresale {
			t.Errorf("Place(%d) = %+v, %v; want position %d of presale", i, p, err, i+1)
		}
	}
	if p, _ := r.desk.Place(ctx, r.get(t, aftersale)); p.Pos != 2 {
		t.Errorf("Place(aftersale) = %+v, want position 2", p)
	}
	if c := r.get(t, angryLate); c.VIP != 5 {
		t.Errorf("VIP 99 was stored as %d, want the maximum 5", c.VIP)
	}
}

// testHandoffTwice: a chat with people is not handed off again, but a retry of the
// hand-off that put it there succeeds and changes nothing.
func testHandoffTwice(t *testing.T, r *rig) {
	ctx := context.Background()
	c := r.start(t, 0)
	first := handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Group: handoff.GroupAftersale,
		Context: &handoff.Context{Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Confidence: 0.42, Question: "我要退货",
			Hits: []handoff.Candidate{{ID: "return-policy", Title: "七天无理由退货", Score: 3.25}}}}
	if err := r.desk.Handoff(ctx, c.ID, first); err != nil {
		t.Fatal(err)
	}
	c = r.get(t, c.ID)
	before := r.texts(t, c.ID)
	again := handoff.HandoffRequest{Key: "m2", Reason: triage.ReasonRequested, Group: handoff.GroupPresale, Intent: triage.IntentPresale}
	if err := r.desk.Handoff(ctx, c.ID, again); !errors.Is(err, handoff.ErrWrongStatus) {
		t.Errorf("Handoff of a queued conversation: error = %v, want ErrWrongStatus", err)
	}
	if err := r.desk.Handoff(ctx, c.ID, first); err != nil {
		t.Errorf("retried Handoff: %v", err)
	}
	if after := r.texts(t, c.ID); !slices.Equal(after, before) {
		t.Errorf("log went from %q to %q", before, after)
	}
	got := r.get(t, c.ID)
	if got.Status != handoff.StatusQueued || got.Group != handoff.GroupAftersale || !got.EnqueuedAt.Equal(c.EnqueuedAt) || got.Rev != c.Rev ||
		got.Context == nil || got.Context.Question != "我要退货" {
		t.Errorf("conversation now %+v, want unchanged (%+v)", got, c)
	}
	if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if err := r.desk.Handoff(ctx, c.ID, handoff.HandoffRequest{Key: "m3", Group: handoff.GroupAftersale}); !errors.Is(err, handoff.ErrWrongStatus) {
		t.Errorf("Handoff of an active conversation: error = %v, want ErrWrongStatus", err)
	}
	if w, err := r.desk.Waiting(ctx, ""); err != nil || len(w) != 0 {
		t.Errorf("Waiting = %v, %v; want none", IDs(w), err)
	}
	// A group the desk does not have is the desk's choice.
	o := r.start(t, 0)
	if err := r.desk.Handoff(ctx, o.ID, handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonAfterSales, Group: "nosuch"}); err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, o.ID); got.Group != handoff.GroupAftersale || got.Status != handoff.StatusQueued {
		t.Errorf("hand-off to an unknown group: %s in %q, want queued in aftersale", got.Status, got.Group)
	}
}

// testOpen: a conversation opens with its token only, and a verified shopper's only for
// that shopper; every refusal looks the same.
func testOpen(t *testing.T, r *rig) {
	ctx := context.Background()
	c, token, err := r.desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.desk.Open(ctx, c.ID, token); err != nil || got.ID != c.ID {
		t.Fatalf("Open with the right token = %q, %v", got.ID, err)
	}
	for _, tc := range []struct{ name, id, token string }{
		{"wrong token", c.ID, token + "x"},
		{"unknown id", "c_unknown", token},
		{"no token", c.ID, ""},
		{"no id", "", token},
	} {
		if _, err := r.desk.Open(ctx, tc.id, tc.token); !errors.Is(err, handoff.ErrBadToken) {
			t.Errorf("Open with %s: error = %v, want ErrBadToken", tc.name, err)
		}
	}
	v, vtoken, err := r.desk.StartAs(ctx, &handoff.Shopper{ID: "buyer-1", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.OpenAs(ctx, v.ID, vtoken, "buyer-1"); err != nil {
		t.Errorf("OpenAs by its shopper: %v", err)
	}
	for _, who := range []string{"buyer-2", ""} {
		if _, err := r.desk.OpenAs(ctx, v.ID, vtoken, who); !errors.Is(err, handoff.ErrBadToken) {
			t.Errorf("OpenAs(%q) of buyer-1's conversation: error = %v, want ErrBadToken", who, err)
		}
	}
}
