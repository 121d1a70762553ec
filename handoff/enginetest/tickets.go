package enginetest

import (
	"context"
	"errors"
	"testing"

	"github.com/kefu-im/kefu/handoff"
)

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
