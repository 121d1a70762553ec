package enginetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/handoff"
)

// The desk's after-sales tickets seen from the chat: an agent's refund through to the
// lead's approval, and the cards that tell the shopper.

// testDeskTickets runs a refund from the chat to the lead's approval: the agent opens
// and proposes, the shopper sees the card and confirms the revision they saw, only a
// lead approves.
func testDeskTickets(t *testing.T, r *rig) {
	ctx := context.Background()
	c := r.queued(t)
	if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	tk := r.desk.Tickets()
	carol, lead := r.staff["carol"], r.staff["lead"]
	draft := handoff.TicketDraft{Conversation: c.ID, Order: "O1", Type: handoff.TicketRefund, Reason: "破损",
		Evidence: []string{handoff.EvidenceDefectPhoto}, Remedy: handoff.Remedy{Text: "退款", AmountFen: 1999}}
	tt, err := tk.Open(ctx, draft, carol)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	tt, err = tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation}, carol)
	if err != nil {
		t.Fatalf("proposing: %v", err)
	}
	if err := r.desk.AnnounceTicket(ctx, tt); err != nil {
		t.Fatal(err)
	}
	msgs, _ := r.desk.Messages(ctx, c.ID, 0, 0)
	card := msgs[len(msgs)-1]
	if card.Kind != handoff.KindTicket || card.Ticket == nil || card.Ticket.Event != handoff.TicketEventProposed || card.Ticket.Rev != tt.Rev {
		t.Fatalf("the shopper's card = %+v", card)
	}
	// An answer to another revision is refused; the one the shopper saw goes through,
	// and a resend of it is the same record.
	if _, err := r.desk.AnswerTicket(ctx, c.ID, tt.ID, tt.Rev-1, true); !errors.Is(err, handoff.ErrTicketChanged) {
		t.Errorf("confirming an old revision: %v, want ErrTicketChanged", err)
	}
	m, err := r.desk.AnswerTicket(ctx, c.ID, tt.ID, tt.Rev, true)
	if err != nil || m.Ticket == nil || m.Ticket.Event != handoff.TicketEventConfirmed {
		t.Fatalf("confirming: %+v, %v", m, err)
	}
	if again, err := r.desk.AnswerTicket(ctx, c.ID, tt.ID, tt.Rev, true); err != nil || again.Seq != m.Seq {
		t.Errorf("a resent confirmation = %+v, %v; want record %d", again, err, m.Seq)
	}
	if _, err := r.desk.AnswerTicket(ctx, "other", tt.ID, tt.Rev, true); err == nil {
		t.Error("another conversation answered the ticket")
	}
	tt, _ = tk.Ticket(ctx, tt.ID)
	if tt.Status != handoff.TicketAwaitingApproval || tt.Confirmation == nil {
		t.Fatalf("after the confirmation: %+v", tt)
	}
	if _, err := tk.Approve(ctx, tt.ID, "", carol); !errors.Is(err, handoff.ErrRoleNotAllowed) {
		t.Errorf("an agent approving: %v, want ErrRoleNotAllowed", err)
	}
	if tt, err = tk.Approve(ctx, tt.ID, "同意", lead); err != nil || tt.Status != handoff.TicketApproved {
		t.Fatalf("the lead approving: %+v, %v", tt, err)
	}
	if list, err := tk.List(ctx, handoff.TicketFilter{Conversation: c.ID}); err != nil || len(list) != 1 {
		t.Errorf("List = %+v, %v", list, err)
	}
}

// ticketCards returns the cards of the conversation's KindTicket records.
func (r *rig) ticketCards(t *testing.T, conv string) []handoff.TicketCard {
	t.Helper()
	msgs, err := r.desk.Messages(context.Background(), conv, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []handoff.TicketCard
	for _, m := range msgs {
		if m.Kind == handoff.KindTicket {
			if m.Ticket == nil || m.From != handoff.FromSystem || m.Text == "" {
				t.Fatalf("ticket record %+v has no card, sender or text", m)
			}
			out = append(out, *m.Ticket)
		}
	}
	return out
}

// testTicketCards: the shopper is told of a ticket's changes once a remedy was proposed
// to them, each revision once however often it is announced, and answers the proposal
// they saw and no other; of a left message they are told when an agent takes it up and
// when it is done.
func testTicketCards(t *testing.T, r *rig) {
	ctx := context.Background()
	tk := r.desk.Tickets()
	agent := r.staff["carol"]
	c, _, err := r.desk.StartAs(ctx, &handoff.Shopper{ID: "buyer-7", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := r.desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	announce := func(tt handoff.Ticket) {
		t.Helper()
		for range 2 { // a retry stores nothing more
			if err := r.desk.AnnounceTicket(ctx, tt); err != nil {
				t.Fatalf("AnnounceTicket: %v", err)
			}
		}
	}

	// Opened and cancelled without a proposal: the shopper hears nothing.
	quiet, err := tk.Open(ctx, handoff.TicketDraft{Conversation: c.ID, Order: "O1", Type: handoff.TicketExchange, Reason: "尺码不对"}, agent)
	if err != nil {
		t.Fatal(err)
	}
	announce(quiet)
	if quiet, err = tk.Transition(ctx, quiet.ID, handoff.TicketChange{To: handoff.TicketCancelled}, agent); err != nil {
		t.Fatal(err)
	}
	announce(quiet)
	if got := r.ticketCards(t, c.ID); len(got) != 0 {
		t.Fatalf("records of a ticket never proposed: %+v", got)
	}

	tt, err := tk.Open(ctx, handoff.TicketDraft{Conversation: c.ID, Order: "O2", Type: handoff.TicketRefund, Reason: "破损"}, agent)
	if err != nil {
		t.Fatal(err)
	}
	propose := func(text string, fen int64) {
		t.Helper()
		rem := handoff.Remedy{Text: text, AmountFen: fen}
		if tt, err = tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation, Remedy: &rem}, agent); err != nil {
			t.Fatal(err)
		}
		announce(tt)
	}
	propose("退款 5 元", 500)
	first := tt.Rev

	if _, err := r.desk.AnswerTicket(ctx, other.ID, tt.ID, first, true); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("answer from another conversation: error = %v, want ErrNotFound", err)
	}
	if _, err := r.desk.AnswerTicket(ctx, c.ID, "AS-20990101-000001", 1, true); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("answer to an unknown ticket: error = %v, want ErrNotFound", err)
	}
	if _, err := r.desk.AnswerTicket(ctx, c.ID, tt.ID, first-1, true); !errors.Is(err, handoff.ErrTicketChanged) {
		t.Errorf("answer to an older revision: error = %v, want ErrTicketChanged", err)
	}
	declined, err := r.desk.AnswerTicket(ctx, c.ID, tt.ID, first, false)
	if err != nil {
		t.Fatalf("declining: %v", err)
	}
	again, err := r.desk.AnswerTicket(ctx, c.ID, tt.ID, first, false)
	if err != nil || again.Seq != declined.Seq {
		t.Errorf("declining again = %+v, %v; want the first record (seq %d)", again, err, declined.Seq)
	}
	if _, err := r.desk.AnswerTicket(ctx, c.ID, tt.ID, first, true); !errors.Is(err, handoff.ErrTicketChanged) {
		t.Errorf("confirming a declined proposal: error = %v, want ErrTicketChanged", err)
	}

	propose("退款 8 元", 800)
	if _, err := r.desk.AnswerTicket(ctx, c.ID, tt.ID, first, true); !errors.Is(err, handoff.ErrTicketChanged) {
		t.Errorf("confirming the first proposal after a second: error = %v, want ErrTicketChanged", err)
	}
	if _, err := r.desk.AnswerTicket(ctx, c.ID, tt.ID, tt.Rev, true); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	if tt, err = tk.Approve(ctx, tt.ID, "", r.staff["lead"]); err != nil {
		t.Fatal(err)
	}
	announce(tt)

	got := r.ticketCards(t, c.ID)
	var events []string
	for _, card := range got {
		events = append(events, card.Event)
	}
	want := []string{handoff.TicketEventProposed, handoff.TicketEventDeclined, handoff.TicketEventProposed, handoff.TicketEventConfirmed, handoff.TicketEventApproved}
	if !slices.Equal(events, want) {
		t.Fatalf("ticket records = %v, want %v", events, want)
	}
	if p := got[2]; p.ID != tt.ID || p.Type != handoff.TicketRefund || p.Status != handoff.TicketAwaitingConfirmation || p.Rev != first+2 ||
		p.Remedy != (handoff.Remedy{Text: "退款 8 元", AmountFen: 800}) {
		t.Errorf("second proposal = %+v", p)
	}
	if got[4].Status != handoff.TicketApproved || got[4].Rev != tt.Rev {
		t.Errorf("approval = %+v, want approved at rev %d", got[4], tt.Rev)
	}
	stored, err := tk.Ticket(ctx, tt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cf := stored.Confirmation; cf == nil || cf.Shopper != "buyer-7" {
		t.Errorf("confirmation = %+v, want by the conversation's shopper", cf)
	}
	msgs, _ := r.desk.Messages(ctx, c.ID, 0, 0)
	for _, m := range msgs {
		if m.Kind == handoff.KindTicket && m.Ticket.Event == handoff.TicketEventProposed && !strings.Contains(m.Text, "¥") {
			t.Errorf("the proposal's text %q does not name the amount", m.Text)
		}
	}

	// A left message: taken up, then done.
	q := r.queued(t)
	left, _, err := r.desk.LeaveMessage(ctx, q.ID, handoff.LeftMessage{Key: "l1", Text: "请回电"})
	if err != nil {
		t.Fatal(err)
	}
	announce(left)
	for _, to := range []string{handoff.TicketInProgress, handoff.TicketResolved} {
		if left, err = tk.Transition(ctx, left.ID, handoff.TicketChange{To: to}, agent); err != nil {
			t.Fatal(err)
		}
		announce(left)
	}
	events = nil
	for _, card := range r.ticketCards(t, q.ID) {
		events = append(events, card.Event)
	}
	if want := []string{handoff.TicketEventInProgress, handoff.TicketEventResolved}; !slices.Equal(events, want) {
		t.Errorf("records of a left message = %v, want %v", events, want)
	}
}
