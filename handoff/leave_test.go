//go:build legacyconsole

package handoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDeskQueueStatus: a waiting shopper is offered to leave a message when no agent of
// the chat's group is online (an away agent takes no chats), or once the chat has waited
// the queue timeout, and told when that will be.
func TestDeskQueueStatus(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d, clock := rtDesk(t, e.open, func(c *DeskConfig) { c.ManualOnly, c.QueueTimeout = true, 10*time.Minute })
			rtUser(t, d, "alice", GroupPresale, 0)
			rtUser(t, d, "bob", GroupAftersale, 0)
			id := rtHandoff(t, d, GroupPresale, "requested", 0)
			status := func() QueueStatus {
				t.Helper()
				qs, err := d.QueueStatus(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return qs
			}
			if qs := status(); qs.Offer != OfferOffline || qs.Position != 1 {
				t.Errorf("nobody online: %+v, want position 1 and the offline offer", qs)
			}
			rtBeat(t, d, "bob", PresenceOnline) // another group
			rtBeat(t, d, "alice", PresenceAway)
			if qs := status(); qs.Offer != OfferOffline {
				t.Errorf("alice away, bob in after-sales: %+v, want the offline offer", qs)
			}
			rtBeat(t, d, "alice", PresenceOnline)
			qs := status()
			if qs.Offer != "" || qs.OfferIn <= 9*time.Minute || qs.OfferIn > 10*time.Minute {
				t.Errorf("alice online: %+v, want no offer yet, the timeout in about 10 minutes", qs)
			}
			clock.Advance(10 * time.Minute)
			rtBeat(t, d, "alice", PresenceOnline)
			if qs := status(); qs.Offer != OfferTimeout || qs.OfferIn != 0 {
				t.Errorf("after 10 minutes: %+v, want the timeout offer", qs)
			}
			if _, err := d.Claim(ctx, id, "alice"); err != nil {
				t.Fatal(err)
			}
			if _, err := d.QueueStatus(ctx, id); !errors.Is(err, ErrNotQueued) {
				t.Errorf("QueueStatus of a claimed chat: error = %v, want ErrNotQueued", err)
			}
		})
	}
}

// TestMessageTicketRules: an agent takes up or closes a left message; nothing of it
// asks the shopper or the lead.
func TestMessageTicketRules(t *testing.T) {
	ctx := context.Background()
	tk := tkNew(t, NewMemoryTicketStore(), tkNewClock())
	c := Conversation{ID: "c1", Group: GroupAftersale, Shopper: &Shopper{ID: "buyer-1"}}
	tt, err := tk.LeaveMessage(ctx, c, LeftMessage{Key: "k1", Text: "请回电", Contact: "138 0000 1234"})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := tk.LeaveMessage(ctx, c, LeftMessage{Key: "k1", Text: "请回电"}); err != nil || again.ID != tt.ID {
		t.Errorf("the same key again = %s, %v; want %s", again.ID, err, tt.ID)
	}
	if tt.CreatedBy != "buyer-1" || tt.History[0].Role != RoleShopper || tt.Group != GroupAftersale {
		t.Errorf("left message = %+v", tt)
	}
	for _, to := range []string{TicketAwaitingConfirmation, TicketApproved} {
		if _, err := tk.Transition(ctx, tt.ID, TicketChange{To: to}, tkAdmin); !errors.Is(err, ErrBadTransition) {
			t.Errorf("message to %s: error = %v, want ErrBadTransition", to, err)
		}
	}
	if tt, err = tk.Transition(ctx, tt.ID, TicketChange{To: TicketInProgress}, tkAgent); err != nil {
		t.Fatal(err)
	}
	if tt, err = tk.Transition(ctx, tt.ID, TicketChange{To: TicketResolved, Note: "已回电"}, tkAgent); err != nil || tt.Status != TicketResolved {
		t.Errorf("resolving = %s, %v", tt.Status, err)
	}
	if _, err := tk.Open(ctx, TicketDraft{Conversation: "c1", Order: "O1", Type: TicketMessage, Reason: "x"}, tkAgent); !errors.Is(err, ErrBadTicket) {
		t.Errorf("an agent opening a message ticket: error = %v, want ErrBadTicket", err)
	}
}
