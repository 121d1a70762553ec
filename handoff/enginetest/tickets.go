package enginetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/timetest"
)

// A ticket over its life, on the engine: its history, concurrent and retried changes,
// listings and left messages; then, on the desk, the tickets seen from the chat.

// testTicketHistory follows a compensation from its opening to its resolve, through a
// declined proposal: every change is in the history, with who made it, as what, when,
// and their note.
func testTicketHistory(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	clock := newHandClock()
	tk := newTickets(t, e.Tickets, clock)
	start := clock.Now()
	at := func(min int) time.Time { return start.Add(time.Duration(min) * time.Minute).UTC() }

	tt, err := tk.Open(ctx, tkDraft(handoff.TicketCompensation), tkAgent)
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() (handoff.Ticket, error){
		func() (handoff.Ticket, error) {
			return tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation, Note: "补偿 5 元"}, tkAgent)
		},
		func() (handoff.Ticket, error) { return tk.Decline(ctx, tt.ID, tkShopper, tt.Rev) },
		func() (handoff.Ticket, error) {
			r := handoff.Remedy{Text: "补偿 10 元", AmountFen: 1000}
			return tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation, Remedy: &r}, tkAgent)
		},
		func() (handoff.Ticket, error) { return tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev) },
		func() (handoff.Ticket, error) { return tk.Approve(ctx, tt.ID, "ok", tkLead) },
		func() (handoff.Ticket, error) {
			return tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketResolved, Note: "已打款"}, tkAgent)
		},
	}
	for i, f := range steps {
		clock.Advance(time.Minute)
		if tt, err = f(); err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
	}
	got, err := tk.Ticket(ctx, tt.ID)
	if err != nil {
		t.Fatal(err)
	}
	const (
		open     = handoff.TicketOpen
		proposed = handoff.TicketAwaitingConfirmation
		agent    = account.RoleAgent
		shopper  = handoff.RoleShopper
	)
	want := []handoff.TicketEvent{
		{To: open, By: "alice", Role: agent, At: at(0)},
		{From: open, To: proposed, By: "alice", Role: agent, At: at(1), Note: "补偿 5 元"},
		{From: proposed, To: open, By: tkShopper, Role: shopper, At: at(2), Note: "顾客未接受处理方案"},
		{From: open, To: proposed, By: "alice", Role: agent, At: at(3)},
		{From: proposed, To: handoff.TicketAwaitingApproval, By: tkShopper, Role: shopper, At: at(4)},
		{From: handoff.TicketAwaitingApproval, To: handoff.TicketApproved, By: "lena", Role: account.RoleLead, At: at(5), Note: "ok"},
		{From: handoff.TicketApproved, To: handoff.TicketResolved, By: "alice", Role: agent, At: at(6), Note: "已打款"},
	}
	for i := range got.History {
		got.History[i].At = got.History[i].At.UTC()
	}
	if !reflect.DeepEqual(got.History, want) {
		t.Errorf("History =\n%+v\nwant\n%+v", got.History, want)
	}
	if got.Status != handoff.TicketResolved || got.Rev != 7 || got.Remedy.AmountFen != 1000 || !got.UpdatedAt.Equal(at(6)) {
		t.Errorf("ticket = %s rev %d, remedy %+v, updated %v", got.Status, got.Rev, got.Remedy, got.UpdatedAt)
	}
	if c := got.Confirmation; c == nil || !c.At.Equal(at(4)) {
		t.Errorf("Confirmation = %+v, want at %v", c, at(4))
	}
}

// testTicketRace has leads approve and reject one ticket at once: exactly one wins, the
// others are told the ticket moved on.
func testTicketRace(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	tk := newTickets(t, e.Tickets, newHandClock())
	tt := tkReach(t, tk, handoff.TicketAwaitingApproval)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			f := tk.Approve
			if i%2 == 1 {
				f = tk.Reject
			}
			_, errs[i] = f(ctx, tt.ID, fmt.Sprint(i), account.User{Name: fmt.Sprint("lead", i), Role: account.RoleLead})
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, handoff.ErrBadTransition):
			t.Errorf("change %d: error = %v, want nil or ErrBadTransition", i, err)
		}
	}
	got, err := tk.Ticket(ctx, tt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if won != 1 || len(got.History) != len(tt.History)+1 || got.Rev != tt.Rev+1 {
		t.Errorf("%d changes succeeded, history grew by %d, rev by %d; want 1, 1 and 1", won, len(got.History)-len(tt.History), got.Rev-tt.Rev)
	}
}

// lostReply is a TicketStore whose updates are sent twice, as go-redis sends a script
// again when its reply was lost: the first is stored, and the engine answers the second
// with ErrTicketStale since the ticket moved on.
type lostReply struct{ handoff.TicketStore }

func (s lostReply) UpdateTicket(ctx context.Context, next handoff.Ticket, ev handoff.TicketEvent) (handoff.Ticket, error) {
	if _, err := s.TicketStore.UpdateTicket(ctx, next, ev); err != nil {
		return handoff.Ticket{}, err
	}
	return s.TicketStore.UpdateTicket(ctx, next, ev)
}

// interloper is a TicketStore on which, just before each update, someone else cancels
// the ticket.
type interloper struct {
	handoff.TicketStore
	clock *timetest.Clock
}

func (s interloper) UpdateTicket(ctx context.Context, next handoff.Ticket, ev handoff.TicketEvent) (handoff.Ticket, error) {
	cur, err := s.Ticket(ctx, next.ID)
	if err != nil {
		return handoff.Ticket{}, err
	}
	cancel := cur
	cancel.History, cancel.Status = nil, handoff.TicketCancelled
	if _, err := s.TicketStore.UpdateTicket(ctx, cancel, handoff.TicketEvent{From: cur.Status, To: handoff.TicketCancelled, By: "bob", Role: account.RoleAgent, At: s.clock.Now()}); err != nil {
		return handoff.Ticket{}, err
	}
	return s.TicketStore.UpdateTicket(ctx, next, ev)
}

// testTicketRetry: a change whose reply was lost and that was sent again is recognised
// by the core as made, and answered like the first, stored once; a stale answer for
// somebody else's change is not taken for one's own.
func testTicketRetry(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	clock := newHandClock()
	retried := newTickets(t, lostReply{e.Tickets}, clock)
	tt := tkReach(t, retried, handoff.TicketOpen)
	got, err := retried.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation, Note: "请确认"}, tkAgent)
	if err != nil {
		t.Fatalf("a change sent twice: %v", err)
	}
	if got.Rev != 2 || got.Status != handoff.TicketAwaitingConfirmation || len(got.History) != 2 {
		t.Errorf("a change sent twice = %s rev %d, %d events; want awaiting_confirmation rev 2, 2 events", got.Status, got.Rev, len(got.History))
	}
	if got, err = retried.Confirm(ctx, tt.ID, tkShopper, got.Rev); err != nil || got.Rev != 3 || got.Status != handoff.TicketInProgress {
		t.Errorf("a confirmation sent twice = %s rev %d, %v; want in_progress rev 3", got.Status, got.Rev, err)
	}
	if stored, _ := retried.Ticket(ctx, tt.ID); stored.Rev != 3 || len(stored.History) != 3 {
		t.Errorf("stored: rev %d, %d events; want 3 and 3", stored.Rev, len(stored.History))
	}
	if _, err := retried.Transition(ctx, "AS-20000101-000001", handoff.TicketChange{To: handoff.TicketCancelled}, tkAgent); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("a change of an unknown ticket: error = %v, want ErrNotFound", err)
	}

	raced := newTickets(t, interloper{e.Tickets, clock}, clock)
	tt = tkReach(t, newTickets(t, e.Tickets, clock), handoff.TicketOpen)
	if _, err := raced.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation}, tkAgent); !errors.Is(err, handoff.ErrBadTransition) {
		t.Errorf("a change overtaken by a cancel: error = %v, want ErrBadTransition", err)
	}
	stored, err := retried.Ticket(ctx, tt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := stored.History[len(stored.History)-1]; stored.Status != handoff.TicketCancelled || stored.Rev != 2 || last.By != "bob" {
		t.Errorf("after the cancel overtook the change: %s rev %d, last event %+v; want cancelled by bob at rev 2", stored.Status, stored.Rev, last)
	}
}

func testTicketList(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	clock := newHandClock()
	tk := newTickets(t, e.Tickets, clock)
	var ids []string
	for i, conv := range []string{"c1", "c2", "c1", "c3"} {
		d := tkDraft(handoff.TicketReturn)
		if i == 3 {
			d = tkDraft(handoff.TicketRefund)
		}
		d.Conversation = conv
		clock.Advance(time.Second)
		tt, err := tk.Open(ctx, d, tkAgent)
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if _, err := tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketCancelled}, tkAgent); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, tt.ID)
	}
	tests := []struct {
		f    handoff.TicketFilter
		want []string
	}{
		{handoff.TicketFilter{}, []string{ids[3], ids[2], ids[1], ids[0]}},
		{handoff.TicketFilter{Conversation: "c1"}, []string{ids[2], ids[0]}},
		{handoff.TicketFilter{Status: handoff.TicketOpen}, []string{ids[3], ids[1], ids[0]}},
		{handoff.TicketFilter{Status: handoff.TicketCancelled}, []string{ids[2]}},
		{handoff.TicketFilter{Status: handoff.TicketOpen, Conversation: "c1"}, []string{ids[0]}},
		{handoff.TicketFilter{Type: handoff.TicketRefund}, []string{ids[3]}},
		{handoff.TicketFilter{Type: handoff.TicketMessage}, nil},
		{handoff.TicketFilter{Conversation: "c9"}, nil},
	}
	for _, tt := range tests {
		got, err := tk.List(ctx, tt.f)
		if err != nil {
			t.Fatalf("List(%+v): %v", tt.f, err)
		}
		var gotIDs []string
		for _, g := range got {
			gotIDs = append(gotIDs, g.ID)
			if g.History != nil {
				t.Errorf("List(%+v) gave %s with history", tt.f, g.ID)
			}
		}
		if !slices.Equal(gotIDs, tt.want) {
			t.Errorf("List(%+v) = %v, want %v", tt.f, gotIDs, tt.want)
		}
	}
	if _, err := tk.List(ctx, handoff.TicketFilter{Status: "lost"}); !errors.Is(err, handoff.ErrBadTicket) {
		t.Errorf("List(unknown status) error = %v, want ErrBadTicket", err)
	}
	if _, err := tk.List(ctx, handoff.TicketFilter{Type: "gift"}); !errors.Is(err, handoff.ErrBadTicket) {
		t.Errorf("List(unknown type) error = %v, want ErrBadTicket", err)
	}
	// A listing is bounded: past 200 tickets, the newest 200.
	for range 200 {
		clock.Advance(time.Second)
		if _, err := tk.Open(ctx, tkDraft(handoff.TicketReturn), tkAgent); err != nil {
			t.Fatal(err)
		}
	}
	all, err := tk.List(ctx, handoff.TicketFilter{})
	if err != nil || len(all) != 200 || slices.ContainsFunc(all, func(t handoff.Ticket) bool { return slices.Contains(ids, t.ID) }) {
		t.Errorf("List of 204 tickets = %d tickets, %v; want the newest 200", len(all), err)
	}
}

// testMessageRules: a shopper's left message is a ticket of their own, made once per
// key, that an agent takes up or closes; nothing of it asks the shopper or the lead.
func testMessageRules(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	tk := newTickets(t, e.Tickets, newHandClock())
	c := handoff.Conversation{ID: "c1", Group: handoff.GroupAftersale, Shopper: &handoff.Shopper{ID: "buyer-1"}}
	tt, err := tk.LeaveMessage(ctx, c, handoff.LeftMessage{Key: "k1", Text: " 请回电 ", Contact: "138 0000 1234", Order: "O1"})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := tk.LeaveMessage(ctx, c, handoff.LeftMessage{Key: "k1", Text: "请回电"}); err != nil || again.ID != tt.ID {
		t.Errorf("the same key again = %s, %v; want %s", again.ID, err, tt.ID)
	}
	if tt.Type != handoff.TicketMessage || tt.CreatedBy != "buyer-1" || tt.History[0].Role != handoff.RoleShopper || tt.Group != handoff.GroupAftersale ||
		tt.Reason != "请回电" || tt.Contact != "138 0000 1234" || tt.Order != "O1" || tt.Status != handoff.TicketOpen {
		t.Errorf("left message = %+v", tt)
	}
	anon := handoff.Conversation{ID: "c2", Group: handoff.GroupPresale}
	if left, err := tk.LeaveMessage(ctx, anon, handoff.LeftMessage{Key: "k1", Text: "有人吗"}); err != nil || left.ID == tt.ID || left.CreatedBy != handoff.ShopperOf(anon) {
		t.Errorf("a message with the same key in another conversation = %+v, %v; want a ticket of its own", left, err)
	}
	for _, bad := range []handoff.LeftMessage{
		{Key: "", Text: "x"}, {Key: "k2", Text: "  "}, {Key: "k2", Text: "x", Contact: "a\nb"}, {Key: "k2", Text: "x", Order: "O 1"},
	} {
		if _, err := tk.LeaveMessage(ctx, c, bad); !errors.Is(err, handoff.ErrBadTicket) {
			t.Errorf("LeaveMessage(%+v) error = %v, want ErrBadTicket", bad, err)
		}
	}
	for _, to := range []string{handoff.TicketAwaitingConfirmation, handoff.TicketApproved} {
		if _, err := tk.Transition(ctx, tt.ID, handoff.TicketChange{To: to}, tkAdmin); !errors.Is(err, handoff.ErrBadTransition) {
			t.Errorf("message to %s: error = %v, want ErrBadTransition", to, err)
		}
	}
	if _, err := tk.Confirm(ctx, tt.ID, "buyer-1", tt.Rev); !errors.Is(err, handoff.ErrBadTransition) {
		t.Errorf("the shopper confirming a message: error = %v, want ErrBadTransition", err)
	}
	if tt, err = tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketInProgress}, tkAgent); err != nil {
		t.Fatal(err)
	}
	if tt, err = tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketResolved, Note: "已回电"}, tkAgent); err != nil || tt.Status != handoff.TicketResolved {
		t.Errorf("resolving = %s, %v", tt.Status, err)
	}
	if list, err := tk.List(ctx, handoff.TicketFilter{Type: handoff.TicketMessage, Group: handoff.GroupAftersale}); err != nil || len(list) != 1 || list[0].ID != tt.ID {
		t.Errorf("List(messages of aftersale) = %+v, %v; want %s", list, err, tt.ID)
	}
	if _, err := tk.Open(ctx, handoff.TicketDraft{Conversation: "c1", Order: "O1", Type: handoff.TicketMessage, Reason: "x"}, tkAgent); !errors.Is(err, handoff.ErrBadTicket) {
		t.Errorf("an agent opening a message ticket: error = %v, want ErrBadTicket", err)
	}
}

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
