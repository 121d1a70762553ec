package handoff_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// notices records what the desk notified.
type notices struct {
	mu  sync.Mutex
	got []string
	by  map[string]any
}

func (n *notices) Notify(_ context.Context, event string, data any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, event)
	if n.by == nil {
		n.by = map[string]any{}
	}
	n.by[event] = data
}

func (n *notices) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	got := n.got
	n.got = nil
	return got
}

// TestNotices: each change the desk commits is notified once, retries are not, and
// a left message notifies the ticket, the left message and the chat's close.
func TestNotices(t *testing.T) {
	n := &notices{}
	r := desktest.Open(t, desktest.Options{Desk: func(c *handoff.DeskConfig) { c.Notifier, c.ManualOnly = n, true }})
	r.Staff.Add(account.User{Name: "carol", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)})
	ctx := context.Background()
	step := func(what string, want []string, do func() error) {
		t.Helper()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := n.take(); !slices.Equal(got, want) {
			t.Errorf("%s notified %q, want %q", what, got, want)
		}
	}
	c, _, err := r.Desk.StartAs(ctx, &handoff.Shopper{ID: "u1", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	h := handoff.HandoffRequest{Key: "h1", Reason: triage.ReasonAfterSales, Group: handoff.GroupAftersale}
	step("a hand-off", []string{handoff.NoticeHandedOff}, func() error { return r.Desk.Handoff(ctx, c.ID, h) })
	step("its retry", nil, func() error { return r.Desk.Handoff(ctx, c.ID, h) })
	if got := n.by[handoff.NoticeHandedOff].(handoff.ConversationNotice); got.Shopper != "u1" || got.Reason != triage.ReasonAfterSales || got.Group != handoff.GroupAftersale {
		t.Errorf("hand-off notice = %+v", got)
	}
	step("a claim", []string{handoff.NoticeAssigned}, func() error { _, err := r.Desk.Claim(ctx, c.ID, "carol"); return err })
	step("a reply", nil, func() error {
		_, err := r.Desk.Reply(ctx, c.ID, "carol", "r1", "您好，请提供订单号")
		return err
	})
	step("a resolve", []string{handoff.NoticeResolved}, func() error { _, err := r.Desk.Resolve(ctx, c.ID, "carol"); return err })
	step("a rating", []string{handoff.NoticeRated}, func() error { _, err := r.Desk.Rate(ctx, c.ID, "k1", 5, "很好"); return err })
	step("its resend", nil, func() error { _, err := r.Desk.Rate(ctx, c.ID, "k1", 5, "很好"); return err })
	if got := n.by[handoff.NoticeRated].(handoff.ConversationNotice); got.Rating == nil || got.Rating.Score != 5 || got.Agent != "carol" {
		t.Errorf("rating notice = %+v", got)
	}

	o, _, err := r.Desk.StartAs(ctx, &handoff.Shopper{ID: "u2"})
	if err != nil {
		t.Fatal(err)
	}
	step("a hand-off", []string{handoff.NoticeHandedOff}, func() error {
		return r.Desk.Handoff(ctx, o.ID, handoff.HandoffRequest{Key: "h2", Reason: triage.ReasonRequested, Group: handoff.GroupPresale})
	})
	left := handoff.LeftMessage{Key: "l1", Text: "请回电", Contact: "13800000000"}
	var ticket handoff.Ticket
	step("a left message", []string{handoff.NoticeTicketNew, handoff.NoticeResolved, handoff.NoticeLeft}, func() error {
		ticket, _, err = r.Desk.LeaveMessage(ctx, o.ID, left)
		return err
	})
	step("its resend", nil, func() error { _, _, err := r.Desk.LeaveMessage(ctx, o.ID, left); return err })
	if got := n.by[handoff.NoticeLeft].(handoff.Ticket); got.Reason != "请回电" || got.Contact != "13800000000" || got.Conversation != o.ID {
		t.Errorf("left message notice = %+v", got)
	}
	pia := account.User{Name: "pia", Role: account.RoleAgent, Group: string(handoff.GroupPresale)}
	step("the agent resolves the left message", []string{handoff.NoticeTicketUpdate}, func() error {
		_, err := r.Desk.Tickets().Transition(ctx, ticket.ID, handoff.TicketChange{To: handoff.TicketResolved, Note: "已回电"}, pia)
		return err
	})
	if got := n.by[handoff.NoticeTicketUpdate].(handoff.Ticket); got.ID != ticket.ID || got.Status != handoff.TicketResolved || got.History != nil {
		t.Errorf("ticket update notice = %+v", got)
	}
}
