package widget_test

import (
	"context"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
)

var (
	tkAgent = account.User{Name: "alice", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)}
	tkLead  = account.User{Name: "lena", Role: account.RoleLead, Group: string(handoff.GroupAftersale)}
)

// ticketFrame is a client's answer to a ticket's proposal.
type ticketFrame struct {
	Type   string `json:"type"`
	ID     string `json:"id,omitempty"`
	Ticket string `json:"ticket,omitempty"`
	Rev    int64  `json:"rev,omitempty"`
}

// propose has the agent propose remedy r on ticket id and announces it.
func (e *env) propose(t *testing.T, id string, r handoff.Remedy) handoff.Ticket {
	t.Helper()
	tt, err := e.tickets.Transition(context.Background(), id, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation, Remedy: &r}, tkAgent)
	if err != nil {
		t.Fatalf("proposing: %v", err)
	}
	if err := e.desk.AnnounceTicket(context.Background(), tt); err != nil {
		t.Fatalf("AnnounceTicket: %v", err)
	}
	return tt
}

func isTicketEvent(event string) func(frame) bool {
	return func(f frame) bool {
		card, _ := f["ticket"].(map[string]any)
		return f.str("type") == "ticket" && card != nil && card["event"] == event
	}
}

// TestTicketAnswer: the shopper sees the remedy an agent proposes as a ticket frame,
// declines it, confirms the next one; answers to another conversation's ticket, to an
// older proposal, or malformed, are refused and change nothing; a resent answer is
// acknowledged again and stored once.
func TestTicketAnswer(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		other := e.connect(t, "")
		e.keep(t, sh)
		e.keep(t, other)
		open := func(conv string) handoff.Ticket {
			t.Helper()
			tt, err := e.tickets.Open(ctx, handoff.TicketDraft{Conversation: conv, Order: "O2026112300042", Type: handoff.TicketRefund, Reason: "外壳破损"}, tkAgent)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return tt
		}
		tt := open(sh.conv)
		foreign := e.propose(t, open(other.conv).ID, handoff.Remedy{Text: "退款", AmountFen: 100})
		tt = e.propose(t, tt.ID, handoff.Remedy{Text: "退款 20 元", AmountFen: 2000})

		fs := readUntil(t, sh.c, "the proposal", isType("ticket"))
		checkFields(t, fs[len(fs)-1], map[string]any{
			"type": "ticket", "seq": 1, "ts": nil, "text": nil,
			"ticket": map[string]any{
				"id": tt.ID, "type": "refund", "status": "awaiting_confirmation", "rev": float64(tt.Rev),
				"event": "proposed", "remedy": map[string]any{"text": "退款 20 元", "amount_fen": float64(2000)},
			},
		})

		refused := []struct {
			f    ticketFrame
			code string
		}{
			{ticketFrame{Type: "ticket_confirm", ID: "a1", Ticket: foreign.ID, Rev: foreign.Rev}, "bad_ticket"},
			{ticketFrame{Type: "ticket_confirm", ID: "a2", Ticket: "AS-2026", Rev: tt.Rev}, "bad_ticket"},
			{ticketFrame{Type: "ticket_confirm", ID: "a3", Ticket: tt.ID}, "bad_ticket"},
			{ticketFrame{Type: "ticket_confirm", Ticket: tt.ID, Rev: tt.Rev}, "bad_message"},
			{ticketFrame{Type: "ticket_confirm", ID: "a4", Ticket: tt.ID, Rev: tt.Rev - 1}, "ticket_changed"},
		}
		for _, r := range refused {
			send(t, sh.c, r.f)
			f := readUntil(t, sh.c, "the refusal of "+r.f.ID, isType("error"))[0]
			if f.str("code") != r.code || f.str("id") != r.f.ID || f.str("message") == "" {
				t.Errorf("answer %+v: got %v, want error %s", r.f, f, r.code)
			}
		}
		for _, id := range []string{tt.ID, foreign.ID} {
			if got, _ := e.tickets.Ticket(ctx, id); got.Status != handoff.TicketAwaitingConfirmation {
				t.Errorf("after the refused answers %s is %s", id, got.Status)
			}
		}

		// Declined, and the decline resent: one record, acknowledged twice with its seq.
		decline := ticketFrame{Type: "ticket_decline", ID: "d1", Ticket: tt.ID, Rev: tt.Rev}
		send(t, sh.c, decline)
		fs = readUntil(t, sh.c, "the decline", all(isAck("d1"), isTicketEvent("declined")))
		ack, ackAt := find(fs, isAck("d1"))
		rec, recAt := find(fs, isTicketEvent("declined"))
		if ack.num("seq") != rec.num("seq") || ackAt > recAt {
			t.Errorf("ack %v at %d, record %v at %d: want the ack first, with the record's seq", ack, ackAt, rec, recAt)
		}
		send(t, sh.c, decline)
		if f := readUntil(t, sh.c, "the second ack", isAck("d1")); f[len(f)-1].num("seq") != rec.num("seq") {
			t.Errorf("resent decline acked as %v, want seq %d", f[len(f)-1], rec.num("seq"))
		}

		// The agent proposes again; the shopper confirms.
		tt = e.propose(t, tt.ID, handoff.Remedy{Text: "退款 30 元", AmountFen: 3000})
		readUntil(t, sh.c, "the second proposal", isTicketEvent("proposed"))
		send(t, sh.c, ticketFrame{Type: "ticket_confirm", ID: "c1", Ticket: tt.ID, Rev: tt.Rev})
		readUntil(t, sh.c, "the confirmation", all(isAck("c1"), isTicketEvent("confirmed")))
		got, err := e.tickets.Ticket(ctx, tt.ID)
		if err != nil {
			t.Fatal(err)
		}
		conv, err := e.desk.Conversation(ctx, sh.conv)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != handoff.TicketAwaitingApproval || got.Confirmation == nil || got.Confirmation.Shopper != conv.Shopper.ID {
			t.Errorf("after the confirmation the ticket is %s, confirmed by %+v; want awaiting approval, by %s", got.Status, got.Confirmation, conv.Shopper.ID)
		}
		// The lead's approval reaches the shopper too.
		if got, err = e.tickets.Approve(ctx, tt.ID, "", tkLead); err != nil {
			t.Fatal(err)
		}
		if err := e.desk.AnnounceTicket(ctx, got); err != nil {
			t.Fatal(err)
		}
		readUntil(t, sh.c, "the approval", isTicketEvent("approved"))
		n := 0
		for _, m := range e.logOf(t, sh.conv) {
			if m.Kind == handoff.KindTicket {
				n++
			}
		}
		if n != 5 {
			t.Errorf("the log holds %d ticket records, want 5 (proposed, declined, proposed, confirmed, approved)", n)
		}
	})
}
