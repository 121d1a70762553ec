//go:build legacyconsole

package handoff

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// tsEngines are the engines of the tests that need conversations and tickets: a Store
// and a TicketStore on the same storage.
var tsEngines = []struct {
	name string
	open func(t *testing.T, now func() time.Time) (Store, TicketStore)
}{
	{"memory", func(t *testing.T, now func() time.Time) (Store, TicketStore) {
		s := NewMemoryStore(now)
		ctRun(t, s, nil)
		return s, NewMemoryTicketStore()
	}},
	{"redis", func(t *testing.T, now func() time.Time) (Store, TicketStore) {
		s, _ := ctRedisStore(t, now)
		ts, err := NewRedisTicketStore(s.rdb, s.prefix)
		if err != nil {
			t.Fatal(err)
		}
		return s, ts
	}},
}

// tsTicketRecords returns the cards of the conversation's KindTicket records.
func tsTicketRecords(t *testing.T, d *Desk, conv string) []TicketCard {
	t.Helper()
	var out []TicketCard
	for _, m := range ctLog(t, d, conv) {
		if m.Kind == KindTicket {
			if m.Ticket == nil || m.From != FromSystem || m.Text == "" {
				t.Fatalf("ticket record %+v has no card, sender or text", m)
			}
			out = append(out, *m.Ticket)
		}
	}
	return out
}

// TestAnnounceTicket: the shopper is told of a ticket's changes once a remedy was
// proposed to them, each revision once however often it is announced, and answers the
// proposal they saw and no other.
func TestAnnounceTicket(t *testing.T) {
	for _, e := range tsEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := ctNewClock()
			st, ts := e.open(t, clock.Now)
			d := ctNewDesk(t, st, clock)
			tk, err := NewTickets(TicketsConfig{Store: ts, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			c, _, err := d.StartAs(ctx, &Shopper{ID: "buyer-7", Verified: true})
			if err != nil {
				t.Fatal(err)
			}
			other, _, err := d.Start(ctx)
			if err != nil {
				t.Fatal(err)
			}
			announce := func(tt Ticket) {
				t.Helper()
				for range 2 { // a retry stores nothing more
					if err := AnnounceTicket(ctx, d, tt); err != nil {
						t.Fatalf("AnnounceTicket: %v", err)
					}
				}
			}

			// Opened and cancelled without a proposal: the shopper hears nothing.
			quiet, err := tk.Open(ctx, TicketDraft{Conversation: c.ID, Order: "O1", Type: TicketExchange, Reason: "尺码不对"}, tkAgent)
			if err != nil {
				t.Fatal(err)
			}
			announce(quiet)
			if quiet, err = tk.Transition(ctx, quiet.ID, TicketChange{To: TicketCancelled}, tkAgent); err != nil {
				t.Fatal(err)
			}
			announce(quiet)
			if got := tsTicketRecords(t, d, c.ID); len(got) != 0 {
				t.Fatalf("records of a ticket never proposed: %+v", got)
			}

			tt, err := tk.Open(ctx, TicketDraft{Conversation: c.ID, Order: "O2", Type: TicketRefund, Reason: "破损"}, tkAgent)
			if err != nil {
				t.Fatal(err)
			}
			propose := func(text string, fen int64) {
				t.Helper()
				r := Remedy{Text: text, AmountFen: fen}
				if tt, err = tk.Transition(ctx, tt.ID, TicketChange{To: TicketAwaitingConfirmation, Remedy: &r}, tkAgent); err != nil {
					t.Fatal(err)
				}
				announce(tt)
			}
			propose("退款 5 元", 500)
			first := tt.Rev

			if _, err := AnswerTicket(ctx, d, tk, other.ID, tt.ID, first, true); !errors.Is(err, ErrNotFound) {
				t.Errorf("answer from another conversation: error = %v, want ErrNotFound", err)
			}
			if _, err := AnswerTicket(ctx, d, tk, c.ID, "AS-20990101-000001", 1, true); !errors.Is(err, ErrNotFound) {
				t.Errorf("answer to an unknown ticket: error = %v, want ErrNotFound", err)
			}
			if _, err := AnswerTicket(ctx, d, tk, c.ID, tt.ID, first-1, true); !errors.Is(err, ErrTicketChanged) {
				t.Errorf("answer to an older revision: error = %v, want ErrTicketChanged", err)
			}
			declined, err := AnswerTicket(ctx, d, tk, c.ID, tt.ID, first, false)
			if err != nil {
				t.Fatalf("declining: %v", err)
			}
			again, err := AnswerTicket(ctx, d, tk, c.ID, tt.ID, first, false)
			if err != nil || again.Seq != declined.Seq {
				t.Errorf("declining again = %+v, %v; want the first record (seq %d)", again, err, declined.Seq)
			}
			if _, err := AnswerTicket(ctx, d, tk, c.ID, tt.ID, first, true); !errors.Is(err, ErrTicketChanged) {
				t.Errorf("confirming a declined proposal: error = %v, want ErrTicketChanged", err)
			}

			propose("退款 8 元", 800)
			if _, err := AnswerTicket(ctx, d, tk, c.ID, tt.ID, first, true); !errors.Is(err, ErrTicketChanged) {
				t.Errorf("confirming the first proposal after a second: error = %v, want ErrTicketChanged", err)
			}
			if _, err := AnswerTicket(ctx, d, tk, c.ID, tt.ID, tt.Rev, true); err != nil {
				t.Fatalf("confirming: %v", err)
			}
			if tt, err = tk.Approve(ctx, tt.ID, "", tkLead); err != nil {
				t.Fatal(err)
			}
			announce(tt)

			got := tsTicketRecords(t, d, c.ID)
			var events []string
			for _, card := range got {
				events = append(events, card.Event)
			}
			want := []string{TicketEventProposed, TicketEventDeclined, TicketEventProposed, TicketEventConfirmed, TicketEventApproved}
			if !slices.Equal(events, want) {
				t.Fatalf("ticket records = %v, want %v", events, want)
			}
			if p := got[2]; p.ID != tt.ID || p.Type != TicketRefund || p.Status != TicketAwaitingConfirmation || p.Rev != first+2 || p.Remedy != (Remedy{Text: "退款 8 元", AmountFen: 800}) {
				t.Errorf("second proposal = %+v", p)
			}
			if got[4].Status != TicketApproved || got[4].Rev != tt.Rev {
				t.Errorf("approval = %+v, want approved at rev %d", got[4], tt.Rev)
			}
			stored, err := tk.Ticket(ctx, tt.ID)
			if err != nil {
				t.Fatal(err)
			}
			if cf := stored.Confirmation; cf == nil || cf.Shopper != "buyer-7" {
				t.Errorf("confirmation = %+v, want by the conversation's shopper", cf)
			}
			for _, m := range ctLog(t, d, c.ID) {
				if m.Kind == KindTicket && m.Ticket.Event == TicketEventProposed && !strings.Contains(m.Text, "¥") {
					t.Errorf("the proposal's text %q does not name the amount", m.Text)
				}
			}
		})
	}
}
