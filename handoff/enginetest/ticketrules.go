package enginetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/timetest"
)

// The rules of after-sales tickets (docs/domain.md rules 9 and 12), kept by
// handoff.Tickets on the engine's TicketStore: the ids, opening, who may make which
// change, the shopper's answers by revision, the lead's approval, the history,
// concurrent and retried changes, listings and left messages. The engine only stores
// and compares; every rule checked here is the core's.

// ticketTests are the ticket rules, each on a fresh engine.
var ticketTests = []engineTest{
	{"ids", testTicketIDs},
	{"ids past a million", testTicketIDsLong},
	{"approvers", testTicketApprovers},
	{"open", testTicketOpen},
	{"staff transitions", testTicketTransitions},
	{"shopper", testTicketShopper},
	{"approval by role", testTicketApproval},
	{"history", testTicketHistory},
	{"concurrent changes", testTicketRace},
	{"retried update", testTicketRetry},
	{"list", testTicketList},
	{"left messages", testMessageRules},
}

// newHandClock returns a clock that only the test moves, at 2026-11-23 15:00 UTC, which
// is 23:00 in China: ticket ids of the day 20261123.
func newHandClock() *timetest.Clock {
	return timetest.NewClock(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC), 0)
}

// The staff of the ticket tests, and the shopper who answers.
var (
	tkAgent  = account.User{Name: "alice", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)}
	tkLead   = account.User{Name: "lena", Role: account.RoleLead, Group: string(handoff.GroupAftersale)}
	tkAdmin  = account.User{Name: "admin", Role: account.RoleAdmin}
	tkEditor = account.User{Name: "ed", Role: account.RoleEditor}
)

const tkShopper = "shopper-42"

func newTickets(t *testing.T, store handoff.TicketStore, clock *timetest.Clock) *handoff.Tickets {
	t.Helper()
	tk, err := handoff.NewTickets(handoff.TicketsConfig{Store: store, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// paid reports whether tickets of type typ are paid in money: their remedy names an
// amount, and the after-sales lead approves them once the shopper confirmed
// (docs/domain.md rule 12).
func paid(typ string) bool { return typ == handoff.TicketRefund || typ == handoff.TicketCompensation }

func tkDraft(typ string) handoff.TicketDraft {
	d := handoff.TicketDraft{
		Conversation: "c1", Order: "O20261123001", Type: typ, Reason: "商品破损",
		Evidence: []string{handoff.EvidenceDefectPhoto, handoff.EvidenceWaybill, handoff.EvidenceDefectPhoto},
		Remedy:   handoff.Remedy{Text: "为您办理"},
	}
	if paid(typ) {
		d.Remedy.AmountFen = 1999
	}
	return d
}

// tkReach opens a ticket and brings it to status along the usual path. A ticket that
// must pass awaiting_approval is a refund, any other an exchange.
func tkReach(t *testing.T, tk *handoff.Tickets, status string) handoff.Ticket {
	t.Helper()
	ctx := context.Background()
	typ := handoff.TicketExchange
	if status == handoff.TicketAwaitingApproval || status == handoff.TicketApproved {
		typ = handoff.TicketRefund
	}
	tt, err := tk.Open(ctx, tkDraft(typ), tkAgent)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	to := func(s string) func() (handoff.Ticket, error) {
		return func() (handoff.Ticket, error) {
			return tk.Transition(ctx, tt.ID, handoff.TicketChange{To: s}, tkAdmin)
		}
	}
	confirm := func() (handoff.Ticket, error) { return tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev) }
	propose := to(handoff.TicketAwaitingConfirmation)
	paths := map[string][]func() (handoff.Ticket, error){
		handoff.TicketOpen:                 nil,
		handoff.TicketAwaitingConfirmation: {propose},
		handoff.TicketAwaitingApproval:     {propose, confirm},
		handoff.TicketApproved:             {propose, confirm, to(handoff.TicketApproved)},
		handoff.TicketInProgress:           {propose, confirm},
		handoff.TicketResolved:             {propose, confirm, to(handoff.TicketResolved)},
		handoff.TicketRejected:             {propose, confirm, to(handoff.TicketRejected)},
		handoff.TicketCancelled:            {to(handoff.TicketCancelled)},
	}
	for _, step := range paths[status] {
		if tt, err = step(); err != nil {
			t.Fatalf("reaching %s: %v", status, err)
		}
	}
	if tt.Status != status {
		t.Fatalf("reached %s, want %s", tt.Status, status)
	}
	return tt
}

// testTicketIDs opens 50 tickets at once: each gets its own id of the day, 1 to 50. The
// day is China's (UTC+8): at 00:30 there the counter starts again.
func testTicketIDs(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	clock := newHandClock()
	tk := newTickets(t, e.Tickets, clock)
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tt, err := tk.Open(ctx, tkDraft(handoff.TicketReturn), tkAgent)
			if err != nil {
				t.Errorf("Open: %v", err)
			}
			ids[i] = tt.ID
		})
	}
	wg.Wait()
	format := regexp.MustCompile(`^AS-20261123-[0-9]{6}$`)
	slices.Sort(ids)
	for i, id := range ids {
		if !format.MatchString(id) {
			t.Errorf("id %q does not match %v", id, format)
		}
		if want := fmt.Sprintf("AS-20261123-%06d", i+1); id != want {
			t.Errorf("ids[%d] = %q, want %q (50 unique ids, 1 to 50)", i, id, want)
		}
	}
	// 16:30 UTC is 00:30 the next day in China: a new day, a new counter.
	clock.Advance(90 * time.Minute)
	tt, err := tk.Open(ctx, tkDraft(handoff.TicketReturn), tkAgent)
	if err != nil {
		t.Fatal(err)
	}
	if want := "AS-20261124-000001"; tt.ID != want {
		t.Errorf("first id of the next day = %q, want %q", tt.ID, want)
	}
}

func testTicketOpen(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	clock := newHandClock()
	tk := newTickets(t, e.Tickets, clock)
	tt, err := tk.Open(ctx, tkDraft(handoff.TicketRefund), tkAgent)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tk.Ticket(ctx, tt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != handoff.TicketOpen || got.Rev != 1 || got.CreatedBy != "alice" || !got.CreatedAt.Equal(clock.Now()) || got.Conversation != "c1" || got.Order != "O20261123001" {
		t.Errorf("opened ticket = %+v", got)
	}
	if want := []string{handoff.EvidenceWaybill, handoff.EvidenceDefectPhoto}; !slices.Equal(got.Evidence, want) {
		t.Errorf("Evidence = %v, want %v (a set, in canonical order)", got.Evidence, want)
	}
	if got.Remedy != (handoff.Remedy{Text: "为您办理", AmountFen: 1999}) {
		t.Errorf("Remedy = %+v", got.Remedy)
	}
	if h := got.History; len(h) != 1 || h[0].From != "" || h[0].To != handoff.TicketOpen || h[0].By != "alice" || h[0].Role != account.RoleAgent {
		t.Errorf("History = %+v, want the opening by alice", h)
	}
	if _, err := tk.Ticket(ctx, "AS-20261123-999999"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("Ticket(unknown) error = %v, want ErrNotFound", err)
	}

	bad := []struct {
		name string
		edit func(*handoff.TicketDraft)
	}{
		{"no order", func(d *handoff.TicketDraft) { d.Order = "" }},
		{"bad order", func(d *handoff.TicketDraft) { d.Order = "O 1" }},
		{"no conversation", func(d *handoff.TicketDraft) { d.Conversation = "" }},
		{"unknown type", func(d *handoff.TicketDraft) { d.Type = "gift" }},
		{"a left message", func(d *handoff.TicketDraft) { d.Type = handoff.TicketMessage }},
		{"no reason", func(d *handoff.TicketDraft) { d.Reason = "" }},
		{"unknown evidence", func(d *handoff.TicketDraft) { d.Evidence = []string{"selfie"} }},
		{"negative amount", func(d *handoff.TicketDraft) { d.Remedy.AmountFen = -1 }},
		{"amount on an exchange", func(d *handoff.TicketDraft) { d.Type = handoff.TicketExchange }},
	}
	for _, b := range bad {
		d := tkDraft(handoff.TicketRefund)
		b.edit(&d)
		if _, err := tk.Open(ctx, d, tkAgent); !errors.Is(err, handoff.ErrBadTicket) {
			t.Errorf("%s: Open error = %v, want ErrBadTicket", b.name, err)
		}
	}
	if _, err := tk.Open(ctx, tkDraft(handoff.TicketRefund), tkEditor); !errors.Is(err, handoff.ErrRoleNotAllowed) {
		t.Errorf("Open by an editor: error = %v, want ErrRoleNotAllowed", err)
	}
	if list, _ := tk.List(ctx, handoff.TicketFilter{}); len(list) != 1 {
		t.Errorf("refused drafts stored tickets: %d listed, want 1", len(list))
	}

	// A refund is proposed to the shopper only with its amount.
	d := tkDraft(handoff.TicketRefund)
	d.Remedy = handoff.Remedy{}
	if tt, err = tk.Open(ctx, d, tkAgent); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation}, tkAgent); !errors.Is(err, handoff.ErrBadTicket) {
		t.Errorf("proposing without a remedy: error = %v, want ErrBadTicket", err)
	}
	noAmount := handoff.Remedy{Text: "全额退款"}
	if _, err := tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation, Remedy: &noAmount}, tkAgent); !errors.Is(err, handoff.ErrBadTicket) {
		t.Errorf("proposing a refund without an amount: error = %v, want ErrBadTicket", err)
	}
	if _, err := tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketCancelled, Remedy: &noAmount}, tkAgent); !errors.Is(err, handoff.ErrBadTicket) {
		t.Errorf("changing the remedy without proposing it: error = %v, want ErrBadTicket", err)
	}
	r := handoff.Remedy{Text: "全额退款", AmountFen: 5900}
	if tt, err = tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation, Remedy: &r}, tkAgent); err != nil || tt.Remedy != r {
		t.Errorf("proposing with a remedy = %+v, %v; want remedy %+v", tt.Remedy, err, r)
	}
}

// tkValid lists every change staff may ask for (Transition) and who may: "staff"
// (agent, lead, admin), "lead" (lead, admin) or "shopper" (only through Confirm and
// Decline, so refused to staff).
var tkValid = map[[2]string]string{
	{handoff.TicketOpen, handoff.TicketAwaitingConfirmation}:             "staff",
	{handoff.TicketOpen, handoff.TicketCancelled}:                        "staff",
	{handoff.TicketAwaitingConfirmation, handoff.TicketOpen}:             "staff",
	{handoff.TicketAwaitingConfirmation, handoff.TicketCancelled}:        "staff",
	{handoff.TicketAwaitingConfirmation, handoff.TicketAwaitingApproval}: "shopper",
	{handoff.TicketAwaitingConfirmation, handoff.TicketInProgress}:       "shopper",
	{handoff.TicketAwaitingApproval, handoff.TicketApproved}:             "lead",
	{handoff.TicketAwaitingApproval, handoff.TicketRejected}:             "lead",
	{handoff.TicketAwaitingApproval, handoff.TicketCancelled}:            "staff",
	{handoff.TicketApproved, handoff.TicketInProgress}:                   "staff",
	{handoff.TicketApproved, handoff.TicketResolved}:                     "staff",
	{handoff.TicketApproved, handoff.TicketCancelled}:                    "staff",
	{handoff.TicketInProgress, handoff.TicketResolved}:                   "staff",
	{handoff.TicketInProgress, handoff.TicketRejected}:                   "lead",
	{handoff.TicketInProgress, handoff.TicketCancelled}:                  "staff",
}

// testTicketTransitions asks for every change from every status as every role: the
// allowed ones are made, once; the others are refused and change nothing.
func testTicketTransitions(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	tk := newTickets(t, e.Tickets, newHandClock())
	for _, from := range handoff.TicketStatuses {
		for _, to := range append(slices.Clone(handoff.TicketStatuses), "shipped") {
			for _, u := range []account.User{tkAgent, tkLead, tkAdmin, tkEditor} {
				t.Run(fmt.Sprintf("%s to %s by %s", from, to, u.Role), func(t *testing.T) {
					tt := tkReach(t, tk, from)
					var want error
					switch who, ok := tkValid[[2]string{from, to}]; {
					case u.Role == account.RoleEditor:
						want = handoff.ErrRoleNotAllowed
					case !ok:
						want = handoff.ErrBadTransition
					case who == "shopper", who == "lead" && u.Role == account.RoleAgent:
						want = handoff.ErrRoleNotAllowed
					}
					got, err := tk.Transition(ctx, tt.ID, handoff.TicketChange{To: to, Note: "n"}, u)
					if !errors.Is(err, want) || (want == nil && err != nil) {
						t.Fatalf("Transition error = %v, want %v", err, want)
					}
					stored, err := tk.Ticket(ctx, tt.ID)
					if err != nil {
						t.Fatal(err)
					}
					if want != nil {
						if stored.Status != from || stored.Rev != tt.Rev || len(stored.History) != len(tt.History) {
							t.Errorf("refused change altered the ticket: %s rev %d, %d events; want %s rev %d, %d events",
								stored.Status, stored.Rev, len(stored.History), from, tt.Rev, len(tt.History))
						}
						return
					}
					if got.Status != to || stored.Status != to || stored.Rev != tt.Rev+1 || len(stored.History) != len(tt.History)+1 {
						t.Errorf("after the change: returned %s, stored %s rev %d with %d events; want %s rev %d with %d",
							got.Status, stored.Status, stored.Rev, len(stored.History), to, tt.Rev+1, len(tt.History)+1)
					}
				})
			}
		}
	}
}

// testTicketShopper: the shopper answers only a proposal, and only the revision they
// were shown; a confirmed refund or compensation goes to the lead, anything else into
// progress.
func testTicketShopper(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	clock := newHandClock()
	tk := newTickets(t, e.Tickets, clock)
	for _, from := range handoff.TicketStatuses {
		t.Run(from, func(t *testing.T) {
			tt := tkReach(t, tk, from)
			_, errC := tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev)
			tt2 := tkReach(t, tk, from)
			_, errD := tk.Decline(ctx, tt2.ID, tkShopper, tt2.Rev)
			if from == handoff.TicketAwaitingConfirmation {
				if errC != nil || errD != nil {
					t.Errorf("Confirm, Decline = %v, %v; want nil", errC, errD)
				}
				return
			}
			if !errors.Is(errC, handoff.ErrBadTransition) || !errors.Is(errD, handoff.ErrBadTransition) {
				t.Errorf("Confirm, Decline = %v, %v; want ErrBadTransition", errC, errD)
			}
		})
	}

	for _, typ := range handoff.TicketTypes {
		t.Run("confirm "+typ, func(t *testing.T) {
			tt, err := tk.Open(ctx, tkDraft(typ), tkAgent)
			if err != nil {
				t.Fatal(err)
			}
			tt, err = tk.Transition(ctx, tt.ID, handoff.TicketChange{To: handoff.TicketAwaitingConfirmation}, tkAgent)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tk.Confirm(ctx, tt.ID, "", tt.Rev); !errors.Is(err, handoff.ErrBadTicket) {
				t.Errorf("Confirm without a shopper: error = %v, want ErrBadTicket", err)
			}
			clock.Advance(time.Minute)
			if _, err := tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev-1); !errors.Is(err, handoff.ErrTicketChanged) {
				t.Errorf("Confirm of an earlier revision: error = %v, want ErrTicketChanged", err)
			}
			if _, err := tk.Decline(ctx, tt.ID, tkShopper, tt.Rev+1); !errors.Is(err, handoff.ErrTicketChanged) {
				t.Errorf("Decline of a later revision: error = %v, want ErrTicketChanged", err)
			}
			got, err := tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev)
			if err != nil {
				t.Fatal(err)
			}
			want := handoff.TicketInProgress
			if paid(typ) {
				want = handoff.TicketAwaitingApproval
			}
			if got.Status != want {
				t.Errorf("status after Confirm = %s, want %s", got.Status, want)
			}
			if c := got.Confirmation; c == nil || c.Shopper != tkShopper || !c.At.Equal(clock.Now()) {
				t.Errorf("Confirmation = %+v, want %s at %v", c, tkShopper, clock.Now())
			}
		})
	}
}

// testTicketApproval: only a lead or an admin approves or rejects, and the history
// names who did, as what, with their note.
func testTicketApproval(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	tk := newTickets(t, e.Tickets, newHandClock())
	for _, u := range []account.User{tkAgent, tkEditor, tkLead, tkAdmin, {Name: "x", Role: handoff.RoleShopper}} {
		for _, decide := range []struct {
			name string
			f    func(ctx context.Context, id, note string, by account.User) (handoff.Ticket, error)
			to   string
		}{{"approve", tk.Approve, handoff.TicketApproved}, {"reject", tk.Reject, handoff.TicketRejected}} {
			t.Run(decide.name+" by "+string(u.Role), func(t *testing.T) {
				tt := tkReach(t, tk, handoff.TicketAwaitingApproval)
				got, err := decide.f(ctx, tt.ID, "同意", u)
				if u.Role != account.RoleLead && u.Role != account.RoleAdmin {
					if !errors.Is(err, handoff.ErrRoleNotAllowed) {
						t.Errorf("error = %v, want ErrRoleNotAllowed", err)
					}
					return
				}
				if err != nil || got.Status != decide.to {
					t.Fatalf("= %s, %v; want %s", got.Status, err, decide.to)
				}
				last := got.History[len(got.History)-1]
				if last.By != u.Name || last.Role != u.Role || last.Note != "同意" {
					t.Errorf("last event = %+v, want by %s (%s) with the note", last, u.Name, u.Role)
				}
			})
		}
	}
}
