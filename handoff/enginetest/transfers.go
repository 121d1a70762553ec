package enginetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// testTransferRules: a chat goes to another agent only if they are online and below
// their limit, and only from its owner; to another group's queue keeping its waiting
// time; back to the bot, except after-sales (docs/domain.md rule 7). The shopper is told
// each time, and the loads follow.
func testTransferRules(t *testing.T, r *rig) {
	ctx := context.Background()
	for _, u := range []account.User{
		{Name: "pete", Role: account.RoleAgent, Group: string(handoff.GroupPresale)},
		{Name: "amy", Role: account.RoleAgent, Group: string(handoff.GroupAftersale), MaxChats: 1},
		{Name: "ben", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)},
	} {
		r.staff[u.Name] = u
	}
	loads := func() []int {
		t.Helper()
		n, err := r.e.Conversations.Loads(ctx, "pete", "amy")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	c1 := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if _, err := r.desk.Claim(ctx, c1, "pete"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Transfer(ctx, c1, "pete", "amy"); !errors.Is(err, handoff.ErrAgentUnavailable) {
		t.Errorf("transfer to offline amy: error = %v, want ErrAgentUnavailable", err)
	}
	if _, err := r.desk.Transfer(ctx, c1, "pete", "nobody"); !errors.Is(err, handoff.ErrAgentUnavailable) {
		t.Errorf("transfer to an unknown agent: error = %v, want ErrAgentUnavailable", err)
	}
	r.online(t, "amy")
	if _, err := r.desk.Transfer(ctx, c1, "amy", "pete"); !errors.Is(err, handoff.ErrNotOwner) {
		t.Errorf("transfer by a non-owner: error = %v, want ErrNotOwner", err)
	}
	if _, err := r.desk.Transfer(ctx, c1, "pete", "pete"); err == nil {
		t.Error("a transfer to oneself succeeded")
	}
	c, err := r.desk.Transfer(ctx, c1, "pete", "amy")
	if err != nil || c.Status != handoff.StatusActive || c.Agent != "amy" {
		t.Fatalf("Transfer = %s with %q, %v", c.Status, c.Agent, err)
	}
	if got := r.lastSystem(t, c1); got != joined("amy") {
		t.Errorf("log ends with %q, want amy's greeting", got)
	}
	if _, err := r.desk.Reply(ctx, c1, "pete", "", "还在吗"); !errors.Is(err, handoff.ErrNotOwner) {
		t.Errorf("pete's reply after the transfer: error = %v, want ErrNotOwner", err)
	}
	if got := loads(); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("loads of pete and amy = %v, want [0 1]", got)
	}
	c2 := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if _, err := r.desk.Claim(ctx, c2, "pete"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Transfer(ctx, c2, "pete", "amy"); !errors.Is(err, handoff.ErrAtCapacity) {
		t.Errorf("transfer to full amy: error = %v, want ErrAtCapacity", err)
	}

	// To the after-sales queue, keeping the waiting time: ahead of a newer after-sales
	// chat.
	since := r.get(t, c2).EnqueuedAt
	r.clock.Advance(10 * time.Minute)
	newer := r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0)
	c, err = r.desk.TransferGroup(ctx, c2, "pete", handoff.GroupAftersale)
	if err != nil || c.Status != handoff.StatusQueued || c.Group != handoff.GroupAftersale || !c.EnqueuedAt.Equal(since) || c.Agent != "" {
		t.Fatalf("TransferGroup = %+v, %v; want queued in aftersale since %v", c, err, since)
	}
	if w, _ := r.desk.Waiting(ctx, handoff.GroupAftersale); !slices.Equal(IDs(w), []string{c2, newer}) {
		t.Errorf("aftersale queue = %v, want the transferred chat (waiting longer) first", IDs(w))
	}
	if got := r.lastSystem(t, c2); got != handoff.DefaultPhrases.TransferAftersale {
		t.Errorf("log ends with %q, want the after-sales transfer phrase", got)
	}
	if got := loads(); got[0] != 0 {
		t.Errorf("pete's load after the transfer to a group = %d, want 0", got[0])
	}
	if _, err := r.desk.TransferGroup(ctx, c2, "pete", handoff.GroupPresale); !errors.Is(err, handoff.ErrNotOwner) {
		t.Errorf("TransferGroup of a queued chat: error = %v, want ErrNotOwner", err)
	}
	if _, err := r.desk.TransferGroup(ctx, c1, "amy", "vip"); !errors.Is(err, handoff.ErrUnknownGroup) {
		t.Errorf("TransferGroup to an unknown group: error = %v, want ErrUnknownGroup", err)
	}
	if _, err := r.desk.Claim(ctx, c2, "ben"); err != nil {
		t.Fatal(err)
	}

	// Back to the bot: not for after-sales.
	if _, err := r.desk.BackToBot(ctx, c2, "ben"); !errors.Is(err, handoff.ErrAftersaleStays) {
		t.Errorf("BackToBot of an after-sales chat: error = %v, want ErrAftersaleStays", err)
	}
	c3 := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if _, err := r.desk.Claim(ctx, c3, "pete"); err != nil {
		t.Fatal(err)
	}
	if c, err = r.desk.BackToBot(ctx, c3, "pete"); err != nil || c.Status != handoff.StatusBot || c.Agent != "" {
		t.Fatalf("BackToBot = %s with %q, %v", c.Status, c.Agent, err)
	}
	if got := r.lastSystem(t, c3); got != handoff.DefaultPhrases.BackToBot {
		t.Errorf("log ends with %q, want the back-to-bot phrase", got)
	}
	if got := loads(); got[0] != 0 {
		t.Errorf("pete's load after handing back = %d", got[0])
	}
	if _, err := r.desk.BackToBot(ctx, c3, "pete"); !errors.Is(err, handoff.ErrNotOwner) {
		t.Errorf("second BackToBot: error = %v, want ErrNotOwner", err)
	}
	if err := r.desk.Handoff(ctx, c3, handoff.HandoffRequest{Key: "m9", Reason: triage.ReasonRequested, Group: handoff.GroupPresale}); err != nil {
		t.Errorf("a new hand-off after the bot got it back: %v", err)
	}
	if got := r.get(t, c3); got.Status != handoff.StatusQueued {
		t.Errorf("after the new hand-off: %s, want queued", got.Status)
	}
}
