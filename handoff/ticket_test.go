package handoff

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff/redistest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/redis/go-redis/v9"
)

// ticketEngine makes a fresh, empty TicketStore for one test.
type ticketEngine struct {
	name string
	new  func(t *testing.T) TicketStore
}

func ticketEngines() []ticketEngine {
	return []ticketEngine{
		{"memory", func(t *testing.T) TicketStore { return NewMemoryTicketStore() }},
		{"redis", func(t *testing.T) TicketStore {
			srv := redistest.Start(t)
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
			t.Cleanup(func() { rdb.Close() })
			s, err := NewRedisTicketStore(rdb, srv.Prefix(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
}

// tkClock is a clock that tests move by hand.
type tkClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *tkClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *tkClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// 2026-11-23 15:00 UTC is 23:00 in China: the day of the ids is 20261123.
func tkNewClock() *tkClock { return &tkClock{now: time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)} }

var (
	tkAgent  = account.User{Name: "alice", Role: account.RoleAgent, Group: GroupAftersale}
	tkLead   = account.User{Name: "lena", Role: account.RoleLead, Group: GroupAftersale}
	tkAdmin  = account.User{Name: "admin", Role: account.RoleAdmin, Group: GroupPresale}
	tkEditor = account.User{Name: "ed", Role: account.RoleEditor, Group: GroupPresale}
)

const tkShopper = "shopper-42"

func tkNew(t *testing.T, s TicketStore, clock *tkClock) *Tickets {
	t.Helper()
	tk, err := NewTickets(TicketsConfig{Store: s, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func tkDraft(typ string) TicketDraft {
	d := TicketDraft{
		Conversation: "c1", Order: "O20261123001", Type: typ, Reason: "商品破损",
		Evidence: []string{EvidenceDefectPhoto, EvidenceWaybill, EvidenceDefectPhoto},
		Remedy:   Remedy{Text: "为您办理"},
	}
	if needsApproval(typ) {
		d.Remedy.AmountFen = 1999
	}
	return d
}

// tkReach opens a ticket and brings it to status along the usual path. A ticket that
// must pass awaiting_approval is a refund, any other an exchange.
func tkReach(t *testing.T, tk *Tickets, status string) Ticket {
	t.Helper()
	ctx := context.Background()
	typ := TicketExchange
	if status == TicketAwaitingApproval || status == TicketApproved {
		typ = TicketRefund
	}
	tt, err := tk.Open(ctx, tkDraft(typ), tkAgent)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	step := func(f func() (Ticket, error)) {
		t.Helper()
		if tt, err = f(); err != nil {
			t.Fatalf("reaching %s: %v", status, err)
		}
	}
	to := func(s string) func() (Ticket, error) {
		return func() (Ticket, error) { return tk.Transition(ctx, tt.ID, TicketChange{To: s}, tkAdmin) }
	}
	confirm := func() (Ticket, error) { return tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev) }
	paths := map[string][]func() (Ticket, error){
		TicketOpen:                 nil,
		TicketAwaitingConfirmation: {to(TicketAwaitingConfirmation)},
		TicketAwaitingApproval:     {to(TicketAwaitingConfirmation), confirm},
		TicketApproved:             {to(TicketAwaitingConfirmation), confirm, to(TicketApproved)},
		TicketInProgress:           {to(TicketAwaitingConfirmation), confirm},
		TicketResolved:             {to(TicketAwaitingConfirmation), confirm, to(TicketResolved)},
		TicketRejected:             {to(TicketAwaitingConfirmation), confirm, to(TicketRejected)},
		TicketCancelled:            {to(TicketCancelled)},
	}
	for _, f := range paths[status] {
		step(f)
	}
	if tt.Status != status {
		t.Fatalf("reached %s, want %s", tt.Status, status)
	}
	return tt
}

func TestTickets(t *testing.T) {
	for _, e := range ticketEngines() {
		t.Run(e.name, func(t *testing.T) {
			t.Run("ids", func(t *testing.T) { testTicketIDs(t, e.new(t)) })
			t.Run("open", func(t *testing.T) { testTicketOpen(t, e.new(t)) })
			t.Run("staff transitions", func(t *testing.T) { testTicketTransitions(t, e.new(t)) })
			t.Run("shopper", func(t *testing.T) { testTicketShopper(t, e.new(t)) })
			t.Run("approval by role", func(t *testing.T) { testTicketApproval(t, e.new(t)) })
			t.Run("history", func(t *testing.T) { testTicketHistory(t, e.new(t)) })
			t.Run("concurrent changes", func(t *testing.T) { testTicketRace(t, e.new(t)) })
			t.Run("retried update", func(t *testing.T) { testTicketRetry(t, e.new(t)) })
			t.Run("list", func(t *testing.T) { testTicketList(t, e.new(t)) })
		})
	}
}

func testTicketIDs(t *testing.T, s TicketStore) {
	ctx := context.Background()
	clock := tkNewClock()
	tk := tkNew(t, s, clock)
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tt, err := tk.Open(ctx, tkDraft(TicketReturn), tkAgent)
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
	clock.Add(90 * time.Minute)
	tt, err := tk.Open(ctx, tkDraft(TicketReturn), tkAgent)
	if err != nil {
		t.Fatal(err)
	}
	if want := "AS-20261124-000001"; tt.ID != want {
		t.Errorf("first id of the next day = %q, want %q", tt.ID, want)
	}
}

func testTicketOpen(t *testing.T, s TicketStore) {
	ctx := context.Background()
	clock := tkNewClock()
	tk := tkNew(t, s, clock)
	tt, err := tk.Open(ctx, tkDraft(TicketRefund), tkAgent)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tk.Ticket(ctx, tt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != TicketOpen || got.Rev != 1 || got.CreatedBy != "alice" || !got.CreatedAt.Equal(clock.Now()) {
		t.Errorf("opened ticket = %+v", got)
	}
	if want := []string{EvidenceWaybill, EvidenceDefectPhoto}; !slices.Equal(got.Evidence, want) {
		t.Errorf("Evidence = %v, want %v (a set, in canonical order)", got.Evidence, want)
	}
	if got.Remedy != (Remedy{Text: "为您办理", AmountFen: 1999}) {
		t.Errorf("Remedy = %+v", got.Remedy)
	}
	if _, err := tk.Ticket(ctx, "AS-20261123-999999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Ticket(unknown) error = %v, want ErrNotFound", err)
	}

	bad := []struct {
		name string
		edit func(*TicketDraft)
	}{
		{"no order", func(d *TicketDraft) { d.Order = "" }},
		{"bad order", func(d *TicketDraft) { d.Order = "O 1" }},
		{"no conversation", func(d *TicketDraft) { d.Conversation = "" }},
		{"unknown type", func(d *TicketDraft) { d.Type = "gift" }},
		{"no reason", func(d *TicketDraft) { d.Reason = "" }},
		{"unknown evidence", func(d *TicketDraft) { d.Evidence = []string{"selfie"} }},
		{"negative amount", func(d *TicketDraft) { d.Remedy.AmountFen = -1 }},
		{"amount on an exchange", func(d *TicketDraft) { d.Type = TicketExchange }},
	}
	for _, b := range bad {
		d := tkDraft(TicketRefund)
		b.edit(&d)
		if _, err := tk.Open(ctx, d, tkAgent); !errors.Is(err, ErrBadTicket) {
			t.Errorf("%s: Open error = %v, want ErrBadTicket", b.name, err)
		}
	}
	if _, err := tk.Open(ctx, tkDraft(TicketRefund), tkEditor); !errors.Is(err, ErrRoleNotAllowed) {
		t.Errorf("Open by an editor: error = %v, want ErrRoleNotAllowed", err)
	}

	// A refund is proposed to the shopper only with its amount.
	d := tkDraft(TicketRefund)
	d.Remedy = Remedy{}
	tt, err = tk.Open(ctx, d, tkAgent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Transition(ctx, tt.ID, TicketChange{To: TicketAwaitingConfirmation}, tkAgent); !errors.Is(err, ErrBadTicket) {
		t.Errorf("proposing without a remedy: error = %v, want ErrBadTicket", err)
	}
	r := Remedy{Text: "全额退款", AmountFen: 5900}
	if tt, err = tk.Transition(ctx, tt.ID, TicketChange{To: TicketAwaitingConfirmation, Remedy: &r}, tkAgent); err != nil || tt.Remedy != r {
		t.Errorf("proposing with a remedy = %+v, %v; want remedy %+v", tt.Remedy, err, r)
	}
}

// tkValid lists every change staff may ask for (Transition) and who may: "staff"
// (agent, lead, admin), "lead" (lead, admin) or "shopper" (only through Confirm and
// Decline, so refused to staff).
var tkValid = map[[2]string]string{
	{TicketOpen, TicketAwaitingConfirmation}:             "staff",
	{TicketOpen, TicketCancelled}:                        "staff",
	{TicketAwaitingConfirmation, TicketOpen}:             "staff",
	{TicketAwaitingConfirmation, TicketCancelled}:        "staff",
	{TicketAwaitingConfirmation, TicketAwaitingApproval}: "shopper",
	{TicketAwaitingConfirmation, TicketInProgress}:       "shopper",
	{TicketAwaitingApproval, TicketApproved}:             "lead",
	{TicketAwaitingApproval, TicketRejected}:             "lead",
	{TicketAwaitingApproval, TicketCancelled}:            "staff",
	{TicketApproved, TicketInProgress}:                   "staff",
	{TicketApproved, TicketResolved}:                     "staff",
	{TicketApproved, TicketCancelled}:                    "staff",
	{TicketInProgress, TicketResolved}:                   "staff",
	{TicketInProgress, TicketRejected}:                   "lead",
	{TicketInProgress, TicketCancelled}:                  "staff",
}

func testTicketTransitions(t *testing.T, s TicketStore) {
	ctx := context.Background()
	tk := tkNew(t, s, tkNewClock())
	for _, from := range TicketStatuses {
		for _, to := range append(slices.Clone(TicketStatuses), "shipped") {
			for _, u := range []account.User{tkAgent, tkLead, tkAdmin, tkEditor} {
				t.Run(fmt.Sprintf("%s to %s by %s", from, to, u.Role), func(t *testing.T) {
					tt := tkReach(t, tk, from)
					var want error
					switch who, ok := tkValid[[2]string{from, to}]; {
					case u.Role == account.RoleEditor:
						want = ErrRoleNotAllowed
					case !ok:
						want = ErrBadTransition
					case who == "shopper", who == "lead" && u.Role == account.RoleAgent:
						want = ErrRoleNotAllowed
					}
					got, err := tk.Transition(ctx, tt.ID, TicketChange{To: to, Note: "n"}, u)
					if !errors.Is(err, want) || (want == nil && err != nil) {
						t.Fatalf("Transition error = %v, want %v", err, want)
					}
					stored, err2 := tk.Ticket(ctx, tt.ID)
					if err2 != nil {
						t.Fatal(err2)
					}
					if want != nil {
						if stored.Status != from || stored.Rev != tt.Rev || len(stored.History) != len(tt.History) {
							t.Errorf("refused change altered the ticket: %s rev %d, %d events; want %s rev %d, %d events",
								stored.Status, stored.Rev, len(stored.History), from, tt.Rev, len(tt.History))
						}
						return
					}
					if got.Status != to || stored.Status != to || stored.Rev != tt.Rev+1 {
						t.Errorf("after the change: returned %s, stored %s rev %d; want %s rev %d", got.Status, stored.Status, stored.Rev, to, tt.Rev+1)
					}
				})
			}
		}
	}
}

func testTicketShopper(t *testing.T, s TicketStore) {
	ctx := context.Background()
	clock := tkNewClock()
	tk := tkNew(t, s, clock)
	for _, from := range TicketStatuses {
		t.Run(from, func(t *testing.T) {
			tt := tkReach(t, tk, from)
			_, errC := tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev)
			tt2 := tkReach(t, tk, from)
			_, errD := tk.Decline(ctx, tt2.ID, tkShopper, tt2.Rev)
			if from == TicketAwaitingConfirmation {
				if errC != nil || errD != nil {
					t.Errorf("Confirm, Decline = %v, %v; want nil", errC, errD)
				}
				return
			}
			if !errors.Is(errC, ErrBadTransition) || !errors.Is(errD, ErrBadTransition) {
				t.Errorf("Confirm, Decline = %v, %v; want ErrBadTransition", errC, errD)
			}
		})
	}

	for _, typ := range TicketTypes {
		t.Run("confirm "+typ, func(t *testing.T) {
			tt, err := tk.Open(ctx, tkDraft(typ), tkAgent)
			if err != nil {
				t.Fatal(err)
			}
			tt, err = tk.Transition(ctx, tt.ID, TicketChange{To: TicketAwaitingConfirmation}, tkAgent)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tk.Confirm(ctx, tt.ID, "", tt.Rev); !errors.Is(err, ErrBadTicket) {
				t.Errorf("Confirm without a shopper: error = %v, want ErrBadTicket", err)
			}
			clock.Add(time.Minute)
			if _, err := tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev-1); !errors.Is(err, ErrTicketChanged) {
				t.Errorf("Confirm of an earlier revision: error = %v, want ErrTicketChanged", err)
			}
			got, err := tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev)
			if err != nil {
				t.Fatal(err)
			}
			want := TicketInProgress
			if typ == TicketRefund || typ == TicketCompensation {
				want = TicketAwaitingApproval
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

func testTicketApproval(t *testing.T, s TicketStore) {
	ctx := context.Background()
	tk := tkNew(t, s, tkNewClock())
	for _, u := range []account.User{tkAgent, tkEditor, tkLead, tkAdmin, {Name: "x", Role: RoleShopper}} {
		for _, decide := range []struct {
			name string
			f    func(ctx context.Context, id, note string, by account.User) (Ticket, error)
			to   string
		}{{"approve", tk.Approve, TicketApproved}, {"reject", tk.Reject, TicketRejected}} {
			t.Run(decide.name+" by "+string(u.Role), func(t *testing.T) {
				tt := tkReach(t, tk, TicketAwaitingApproval)
				got, err := decide.f(ctx, tt.ID, "同意", u)
				if u.Role != account.RoleLead && u.Role != account.RoleAdmin {
					if !errors.Is(err, ErrRoleNotAllowed) {
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

func testTicketHistory(t *testing.T, s TicketStore) {
	ctx := context.Background()
	clock := tkNewClock()
	tk := tkNew(t, s, clock)
	t0 := clock.Now()
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute).UTC() }

	tt, err := tk.Open(ctx, tkDraft(TicketCompensation), tkAgent)
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() (Ticket, error){
		func() (Ticket, error) {
			return tk.Transition(ctx, tt.ID, TicketChange{To: TicketAwaitingConfirmation, Note: "补偿 5 元"}, tkAgent)
		},
		func() (Ticket, error) { return tk.Decline(ctx, tt.ID, tkShopper, tt.Rev) },
		func() (Ticket, error) {
			r := Remedy{Text: "补偿 10 元", AmountFen: 1000}
			return tk.Transition(ctx, tt.ID, TicketChange{To: TicketAwaitingConfirmation, Remedy: &r}, tkAgent)
		},
		func() (Ticket, error) { return tk.Confirm(ctx, tt.ID, tkShopper, tt.Rev) },
		func() (Ticket, error) { return tk.Approve(ctx, tt.ID, "ok", tkLead) },
		func() (Ticket, error) {
			return tk.Transition(ctx, tt.ID, TicketChange{To: TicketResolved, Note: "已打款"}, tkAgent)
		},
	}
	for i, f := range steps {
		clock.Add(time.Minute)
		if tt, err = f(); err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
	}
	got, err := tk.Ticket(ctx, tt.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []TicketEvent{
		{To: TicketOpen, By: "alice", Role: account.RoleAgent, At: at(0)},
		{From: TicketOpen, To: TicketAwaitingConfirmation, By: "alice", Role: account.RoleAgent, At: at(1), Note: "补偿 5 元"},
		{From: TicketAwaitingConfirmation, To: TicketOpen, By: tkShopper, Role: RoleShopper, At: at(2), Note: "顾客未接受处理方案"},
		{From: TicketOpen, To: TicketAwaitingConfirmation, By: "alice", Role: account.RoleAgent, At: at(3)},
		{From: TicketAwaitingConfirmation, To: TicketAwaitingApproval, By: tkShopper, Role: RoleShopper, At: at(4)},
		{From: TicketAwaitingApproval, To: TicketApproved, By: "lena", Role: account.RoleLead, At: at(5), Note: "ok"},
		{From: TicketApproved, To: TicketResolved, By: "alice", Role: account.RoleAgent, At: at(6), Note: "已打款"},
	}
	for i := range got.History {
		got.History[i].At = got.History[i].At.UTC()
	}
	if !reflect.DeepEqual(got.History, want) {
		t.Errorf("History =\n%+v\nwant\n%+v", got.History, want)
	}
	if got.Status != TicketResolved || got.Rev != 7 || got.Remedy.AmountFen != 1000 || !got.UpdatedAt.Equal(at(6)) {
		t.Errorf("ticket = %s rev %d, remedy %+v, updated %v", got.Status, got.Rev, got.Remedy, got.UpdatedAt)
	}
	if c := got.Confirmation; c == nil || !c.At.Equal(at(4)) {
		t.Errorf("Confirmation = %+v, want at %v", c, at(4))
	}
}

// testTicketRace has leads approve and reject one ticket at once: exactly one wins.
func testTicketRace(t *testing.T, s TicketStore) {
	ctx := context.Background()
	tk := tkNew(t, s, tkNewClock())
	tt := tkReach(t, tk, TicketAwaitingApproval)
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
		case !errors.Is(err, ErrBadTransition):
			t.Errorf("change %d: error = %v, want nil or ErrBadTransition", i, err)
		}
	}
	got, err := tk.Ticket(ctx, tt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if won != 1 || len(got.History) != len(tt.History)+1 {
		t.Errorf("%d changes succeeded, history grew by %d; want 1 and 1", won, len(got.History)-len(tt.History))
	}
}

// testTicketRetry sends one update twice, as go-redis does when a reply is lost: the
// second answers like the first and stores nothing.
func testTicketRetry(t *testing.T, s TicketStore) {
	ctx := context.Background()
	clock := tkNewClock()
	tk := tkNew(t, s, clock)
	tt := tkReach(t, tk, TicketOpen)
	next := tt
	next.History, next.Status = nil, TicketCancelled
	ev := TicketEvent{From: TicketOpen, To: TicketCancelled, By: "alice", Role: account.RoleAgent, At: clock.Now(), Note: "重复"}
	first, err := s.UpdateTicket(ctx, next, ev)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.UpdateTicket(ctx, next, ev)
	if err != nil {
		t.Fatalf("retried update: %v", err)
	}
	if first.Rev != 2 || second.Rev != 2 || len(second.History) != 2 {
		t.Errorf("revs %d, %d, %d events; want 2, 2, 2", first.Rev, second.Rev, len(second.History))
	}
	ev.Note = "另一个"
	if _, err := s.UpdateTicket(ctx, next, ev); !errors.Is(err, errTicketStale) {
		t.Errorf("another update on the old rev: error = %v, want errTicketStale", err)
	}
	next.ID = "AS-20000101-000001"
	if _, err := s.UpdateTicket(ctx, next, ev); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of an unknown ticket: error = %v, want ErrNotFound", err)
	}
}

func testTicketList(t *testing.T, s TicketStore) {
	ctx := context.Background()
	clock := tkNewClock()
	tk := tkNew(t, s, clock)
	var ids []string
	for i, conv := range []string{"c1", "c2", "c1", "c3"} {
		d := tkDraft(TicketReturn)
		d.Conversation = conv
		clock.Add(time.Second)
		tt, err := tk.Open(ctx, d, tkAgent)
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if _, err := tk.Transition(ctx, tt.ID, TicketChange{To: TicketCancelled}, tkAgent); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, tt.ID)
	}
	tests := []struct {
		f    TicketFilter
		want []string
	}{
		{TicketFilter{}, []string{ids[3], ids[2], ids[1], ids[0]}},
		{TicketFilter{Conversation: "c1"}, []string{ids[2], ids[0]}},
		{TicketFilter{Status: TicketOpen}, []string{ids[3], ids[1], ids[0]}},
		{TicketFilter{Status: TicketCancelled}, []string{ids[2]}},
		{TicketFilter{Status: TicketOpen, Conversation: "c1"}, []string{ids[0]}},
		{TicketFilter{Conversation: "c9"}, nil},
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
	if _, err := tk.List(ctx, TicketFilter{Status: "lost"}); !errors.Is(err, ErrBadTicket) {
		t.Errorf("List(unknown status) error = %v, want ErrBadTicket", err)
	}
}
