package enginetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
)

func testRoster(t *testing.T, e Engine) {
	ctx := context.Background()
	bob := handoff.Presence{Agent: "bob", Group: "aftersale", Status: handoff.PresenceAway, Cap: 5, Seen: t0}
	alice := handoff.Presence{Agent: "alice", Group: "presale", Status: handoff.PresenceOnline, Cap: 20, Seen: t0}
	for _, p := range []handoff.Presence{bob, alice} {
		if ok, err := e.Roster.SetPresence(ctx, p, nil); err != nil || !ok {
			t.Fatalf("SetPresence(%s) = %v, %v", p.Agent, ok, err)
		}
	}
	ps, err := e.Roster.Presences(ctx)
	if err != nil || len(ps) != 2 || ps[0].Agent != "alice" || ps[1].Agent != "bob" || ps[1].Cap != 5 || !ps[1].Seen.Equal(t0) {
		t.Fatalf("Presences = %+v, %v; want alice then bob", ps, err)
	}
	// A swap from what was read goes through once; from a stale read it does not.
	off := alice
	off.Status = handoff.PresenceOffline
	if ok, err := e.Roster.SetPresence(ctx, off, &alice); err != nil || !ok {
		t.Errorf("SetPresence from the stored presence = %v, %v; want ok", ok, err)
	}
	back := alice
	back.Seen = t0.Add(time.Second)
	if ok, err := e.Roster.SetPresence(ctx, back, &alice); err != nil || ok {
		t.Errorf("SetPresence from a stale presence = %v, %v; want not ok", ok, err)
	}
	if ps, _ := e.Roster.Presences(ctx); ps[0].Status != handoff.PresenceOffline {
		t.Errorf("alice after the swaps: %+v", ps[0])
	}
	// A change that ends a wait keeps it.
	for i := range 12 {
		id := fmt.Sprint("w", i)
		create(t, e, id)
		enqueue(t, e, id, "presale", t0.UnixMilli(), false)
		c := get(t, e, id)
		n := c
		n.Status, n.Agent = handoff.StatusActive, "alice"
		if _, err := e.Conversations.Commit(ctx, handoff.Change{Conv: id, Rev: c.Rev, Prev: &c, Next: &n, Owner: "alice", Load: i,
			Waited: time.Duration(i+1) * time.Second, KeepWaits: 10, Append: []handoff.Message{msg("claim:"+id, "")}}); err != nil {
			t.Fatal(err)
		}
	}
	waits, err := e.Roster.Waits(ctx)
	if err != nil || len(waits) != 10 || waits[0] != 12*time.Second || waits[9] != 3*time.Second {
		t.Errorf("Waits = %v, %v; want the latest 10, newest first", waits, err)
	}
}

func testAnnals(t *testing.T, e Engine) {
	ctx := context.Background()
	create(t, e, "c1")
	for i := range 6 {
		d := handoff.Decision{Key: fmt.Sprint("k", i), Action: "answer", Confidence: 0.5, Hits: []handoff.Candidate{{ID: "a", Score: 0.9}}}
		if err := e.Annals.AddDecision(ctx, "c1", d, 4); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Annals.AddDecision(ctx, "c1", handoff.Decision{Key: "k5", Action: "handoff"}, 4); err != nil {
		t.Fatal(err)
	}
	decs, err := e.Annals.Decisions(ctx, "c1")
	if err != nil || len(decs) != 4 || decs[0].Key != "k2" || decs[3].Key != "k5" || decs[3].Action != "answer" || decs[0].Hits[0].Score != 0.9 {
		t.Errorf("Decisions = %+v, %v; want k2…k5, oldest first, k5 kept once", decs, err)
	}
	if err := e.Annals.AddDecision(ctx, "nope", handoff.Decision{Key: "k"}, 4); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("AddDecision(unknown) = %v, want ErrNotFound", err)
	}

	n := handoff.Note{ID: "n1", Kind: handoff.NoteAgent, Author: "alice", Text: "客户很着急", AfterSeq: 3, TS: t0.UnixMilli()}
	if got, dup, err := e.Annals.AddNote(ctx, "c1", n, 2); err != nil || dup || got.Text != n.Text {
		t.Fatalf("AddNote = %+v, %v, %v", got, dup, err)
	}
	again := n
	again.Text = "changed"
	if got, dup, err := e.Annals.AddNote(ctx, "c1", again, 2); err != nil || !dup || got.Text != n.Text {
		t.Errorf("AddNote of the same id = %+v, %v, %v; want the first, dup", got, dup, err)
	}
	if _, _, err := e.Annals.AddNote(ctx, "c1", handoff.Note{ID: "n2", Text: "b"}, 2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Annals.AddNote(ctx, "c1", handoff.Note{ID: "n3", Text: "c"}, 2); !errors.Is(err, handoff.ErrNoteLimit) {
		t.Errorf("a note past the limit: %v, want ErrNoteLimit", err)
	}
	if _, _, err := e.Annals.AddNote(ctx, "nope", n, 2); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("AddNote(unknown) = %v, want ErrNotFound", err)
	}
	notes, err := e.Annals.Notes(ctx, "c1")
	if err != nil || len(notes) != 2 || notes[0].ID != "n1" || notes[1].ID != "n2" || notes[0].AfterSeq != 3 {
		t.Errorf("Notes = %+v, %v", notes, err)
	}

	for _, c := range []string{"a", "b", "c", "b"} {
		if err := e.Annals.AddShopperConversation(ctx, "u1", c, 2); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := e.Annals.ShopperConversations(ctx, "u1"); err != nil || !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("ShopperConversations = %v, %v; want b, c", got, err)
	}
	if got, err := e.Annals.ShopperConversations(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("ShopperConversations(nobody) = %v, %v", got, err)
	}
}

func testTickets(t *testing.T, e Engine) {
	ctx := context.Background()
	mk := func(conv, typ string, at time.Time) handoff.Ticket {
		t.Helper()
		tk := handoff.Ticket{Conversation: conv, Order: "o1", Type: typ, Reason: "破损", Evidence: []string{}, Status: handoff.TicketOpen,
			CreatedBy: "alice", CreatedAt: at, UpdatedAt: at}
		got, err := e.Tickets.CreateTicket(ctx, "20261207", tk, handoff.TicketEvent{To: handoff.TicketOpen, By: "alice", Role: "agent", At: at})
		if err != nil {
			t.Fatalf("CreateTicket: %v", err)
		}
		return got
	}
	a := mk("c1", handoff.TicketRefund, t0)
	b := mk("c2", handoff.TicketReturn, t0.Add(time.Second))
	if a.ID != "AS-20261207-000001" || b.ID != "AS-20261207-000002" || a.Rev != 1 || len(a.History) != 1 {
		t.Fatalf("created %+v and %s", a, b.ID)
	}
	if got, err := e.Tickets.Ticket(ctx, a.ID); err != nil || got.Conversation != "c1" || len(got.History) != 1 || !got.CreatedAt.Equal(t0) {
		t.Errorf("Ticket = %+v, %v", got, err)
	}
	if _, err := e.Tickets.Ticket(ctx, "AS-x"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("Ticket(unknown) = %v, want ErrNotFound", err)
	}
	list, err := e.Tickets.Tickets(ctx, handoff.TicketFilter{})
	if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].History != nil {
		t.Errorf("Tickets = %+v, %v; want newest first, without history", list, err)
	}
	if list, _ := e.Tickets.Tickets(ctx, handoff.TicketFilter{Conversation: "c1"}); len(list) != 1 || list[0].ID != a.ID {
		t.Errorf("Tickets(conversation c1) = %+v", list)
	}
	if list, _ := e.Tickets.Tickets(ctx, handoff.TicketFilter{Limit: 1}); len(list) != 1 {
		t.Errorf("Tickets(limit 1) = %d tickets", len(list))
	}

	next := a
	next.History, next.Status = nil, handoff.TicketAwaitingConfirmation
	next.Remedy = handoff.Remedy{Text: "退款", AmountFen: 1000}
	ev := handoff.TicketEvent{From: handoff.TicketOpen, To: handoff.TicketAwaitingConfirmation, By: "alice", Role: "agent", At: t0}
	got, err := e.Tickets.UpdateTicket(ctx, next, ev)
	if err != nil || got.Rev != 2 || got.Status != handoff.TicketAwaitingConfirmation || len(got.History) != 2 {
		t.Fatalf("UpdateTicket = %+v, %v", got, err)
	}
	if _, err := e.Tickets.UpdateTicket(ctx, next, ev); !errors.Is(err, handoff.ErrTicketStale) {
		t.Errorf("UpdateTicket at a stale revision = %v, want ErrTicketStale", err)
	}
	if list, _ := e.Tickets.Tickets(ctx, handoff.TicketFilter{Status: handoff.TicketAwaitingConfirmation}); len(list) != 1 || list[0].Remedy.AmountFen != 1000 {
		t.Errorf("Tickets(awaiting confirmation) = %+v", list)
	}
	if list, _ := e.Tickets.Tickets(ctx, handoff.TicketFilter{Status: handoff.TicketOpen}); len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("Tickets(open) = %+v", list)
	}
	unknown := next
	unknown.ID = "AS-20261207-000099"
	if _, err := e.Tickets.UpdateTicket(ctx, unknown, ev); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("UpdateTicket(unknown) = %v, want ErrNotFound", err)
	}
}
