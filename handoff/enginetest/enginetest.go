// Package enginetest is the contract every storage engine of the desk passes, in the
// manner of testing/fstest: an engine's own tests call Run with a function that opens a
// fresh, empty engine, and the suite checks what the desk relies on — compare-and-set
// commits, idempotent records, the queue order and its versions, the indexes, events in
// commit order, presence, decisions, notes and tickets — and then runs the rules of
// after-sales tickets and the desk's own scenarios (claims, caps, assignment, priority,
// offline agents, transfers, reopening, leaving a message, queue positions and what a
// waiting shopper is told, ticket cards) on top of it.
package enginetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
)

// Opener opens a fresh, empty engine for one test; it closes it when the test ends.
type Opener func(t *testing.T) handoff.Engine

// Run runs the whole contract on engines made by open.
func Run(t *testing.T, open Opener) {
	runEach(t, open, engineTests)
	t.Run("ticket rules", func(t *testing.T) { runEach(t, open, ticketTests) })
	t.Run("desk", func(t *testing.T) { runDesk(t, open) })
	t.Run("people", func(t *testing.T) { runPeople(t, open) })
	t.Run("retention", func(t *testing.T) { testRetention(t, open) })
	t.Run("shopper erasure", func(t *testing.T) { withRig(testShopperErasure)(t, open) })
}

// engineTest is a test of the contract on a fresh engine.
type engineTest struct {
	name string
	test func(*testing.T, handoff.Engine)
}

// runEach runs each of tests on a fresh engine made by open.
func runEach(t *testing.T, open Opener, tests []engineTest) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open(t)) })
	}
}

// engineTests are what the engine must do on its own.
var engineTests = []engineTest{
	{"conversations", testConversations},
	{"append", testAppend},
	{"commit", testCommit},
	{"load", testLoad},
	{"queues", testQueues},
	{"events", testEvents},
	{"concurrent commits", testConcurrent},
	{"roster", testRoster},
	{"annals", testAnnals},
	{"tickets", testTickets},
	{"documents", testDocuments},
}

// t0 is the time the suite's records start at.
var t0 = time.UnixMilli(1_700_000_000_000)

func create(t *testing.T, e handoff.Engine, id string) handoff.Conversation {
	t.Helper()
	c := handoff.Conversation{ID: id, TokenHash: "hash-" + id, Epoch: "e1", Status: handoff.StatusBot, Rev: 1, CreatedAt: t0,
		Shopper: &handoff.Shopper{ID: "v_" + id}}
	if err := e.Conversations.Create(context.Background(), c); err != nil {
		t.Fatalf("Create(%q): %v", id, err)
	}
	return c
}

func get(t *testing.T, e handoff.Engine, id string) handoff.Conversation {
	t.Helper()
	c, err := e.Conversations.Conversation(context.Background(), id)
	if err != nil {
		t.Fatalf("Conversation(%q): %v", id, err)
	}
	return c
}

func msg(id, text string) handoff.Message {
	return handoff.Message{ID: id, Kind: handoff.KindMessage, From: handoff.FromShopper, Text: text, TS: t0.UnixMilli()}
}

// commit commits ch against the conversation as stored now.
func commit(t *testing.T, e handoff.Engine, id string, next func(c *handoff.Conversation), records ...handoff.Message) handoff.Committed {
	t.Helper()
	c := get(t, e, id)
	ch := handoff.Change{Conv: id, Rev: c.Rev, Append: records}
	if next != nil {
		n := c
		next(&n)
		ch.Prev, ch.Next = &c, &n
	}
	res, err := e.Conversations.Commit(context.Background(), ch)
	if err != nil {
		t.Fatalf("Commit(%q): %v", id, err)
	}
	return res
}

// enqueue puts conversation id in group's queue with score.
func enqueue(t *testing.T, e handoff.Engine, id string, group handoff.Group, score int64, front bool) {
	t.Helper()
	commit(t, e, id, func(c *handoff.Conversation) {
		c.Status, c.Group, c.Score, c.Front, c.EnqueuedAt = handoff.StatusQueued, group, score, front, time.UnixMilli(score)
	}, handoff.Message{ID: "handoff:" + id + fmt.Sprint(score), Kind: handoff.KindHandoff, Group: group})
}

// claims counts give's claims, so that each has a time of its own.
var claims atomic.Int64

// give gives conversation id to agent, who owns load conversations.
func give(e handoff.Engine, c handoff.Conversation, agent string, load int) error {
	n := c
	n.Status, n.Agent, n.ClaimedAt = handoff.StatusActive, agent, t0.Add(time.Duration(claims.Add(1))*time.Millisecond)
	_, err := e.Conversations.Commit(context.Background(), handoff.Change{
		Conv: c.ID, Rev: c.Rev, Prev: &c, Next: &n, Owner: agent, Load: load,
		Append: []handoff.Message{{ID: fmt.Sprintf("claim:%d:%s", c.Rev, agent), Kind: handoff.KindStatus, Status: handoff.StatusActive}},
	})
	return err
}

// IDs returns the ids of cs, in their order.
func IDs(cs []handoff.Conversation) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func testConversations(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	want := create(t, e, "c1")
	got := get(t, e, "c1")
	if got.ID != "c1" || got.TokenHash != want.TokenHash || got.Epoch != "e1" || got.Status != handoff.StatusBot ||
		got.Rev != 1 || got.Seq != 0 || !got.CreatedAt.Equal(t0) || got.Shopper == nil || got.Shopper.ID != "v_c1" {
		t.Errorf("Conversation = %+v, want %+v", got, want)
	}
	if err := e.Conversations.Create(ctx, want); err == nil {
		t.Error("Create of an existing id succeeded")
	}
	if _, err := e.Conversations.Conversation(ctx, "nope"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("Conversation(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := e.Conversations.Messages(ctx, "nope", 0, 0); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("Messages(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := e.Conversations.Commit(ctx, handoff.Change{Conv: "nope", Append: []handoff.Message{msg("m", "x")}}); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("Commit(unknown) error = %v, want ErrNotFound", err)
	}
	if msgs, err := e.Conversations.Messages(ctx, "c1", 0, 0); err != nil || len(msgs) != 0 {
		t.Errorf("Messages of a new conversation = %v, %v; want none", msgs, err)
	}
	// The conversation's language is kept, through commits too.
	en := handoff.Conversation{ID: "c_en", TokenHash: "hash", Epoch: "e1", Status: handoff.StatusBot, Rev: 1, CreatedAt: t0, Lang: handoff.LangEN}
	if err := e.Conversations.Create(ctx, en); err != nil {
		t.Fatal(err)
	}
	commit(t, e, "c_en", func(c *handoff.Conversation) { c.Status = handoff.StatusQueued; c.Group = handoff.GroupPresale }, msg("m1", "talk to a person"))
	if got := get(t, e, "c_en"); got.Lang != handoff.LangEN || got.Status != handoff.StatusQueued {
		t.Errorf("an English conversation after a commit = %+v, want lang en", got)
	}
	if got := get(t, e, "c1"); got.Lang != "" {
		t.Errorf("a conversation without a language came back with %q", got.Lang)
	}
}

func testAppend(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	create(t, e, "c1")
	for i := 1; i <= 5; i++ {
		res, err := e.Conversations.Commit(ctx, handoff.Change{Conv: "c1", Append: []handoff.Message{msg(fmt.Sprint("m", i), fmt.Sprint("text ", i))}})
		if err != nil || res.Dup || len(res.Messages) != 1 || res.Messages[0].Seq != int64(i) || res.Conversation.Seq != int64(i) {
			t.Fatalf("append #%d = %+v, err %v", i, res, err)
		}
	}
	res, err := e.Conversations.Commit(ctx, handoff.Change{Conv: "c1", Append: []handoff.Message{msg("m3", "changed")}})
	if err != nil || !res.Dup || res.Messages[0].Seq != 3 || res.Messages[0].Text != "text 3" {
		t.Fatalf("append of m3 again = %+v, err %v; want the first record, Dup", res, err)
	}
	all, err := e.Conversations.Messages(ctx, "c1", 0, 0)
	if err != nil || len(all) != 5 {
		t.Fatalf("Messages = %d records, err %v; want 5", len(all), err)
	}
	for i, m := range all {
		if m.Seq != int64(i+1) || m.ID != fmt.Sprint("m", i+1) || m.From != handoff.FromShopper || m.TS != t0.UnixMilli() {
			t.Errorf("record %d = %+v", i, m)
		}
	}
	if page, _ := e.Conversations.Messages(ctx, "c1", 2, 2); len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
		t.Errorf("Messages(after 2, limit 2) = %+v, want seq 3 and 4", page)
	}
	if rest, _ := e.Conversations.Messages(ctx, "c1", 5, 0); len(rest) != 0 {
		t.Errorf("Messages(after the last) = %+v, want none", rest)
	}
	if c := get(t, e, "c1"); c.Seq != 5 || c.Rev != 1 {
		t.Errorf("after appends: seq %d rev %d, want 5 and 1 (appends keep the revision)", c.Seq, c.Rev)
	}
}

func testCommit(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	create(t, e, "c1")
	c := get(t, e, "c1")
	next := c
	next.Status, next.Group, next.Intent = handoff.StatusQueued, "presale", "aftersale"
	next.Context = &handoff.Context{Reason: "after_sales", Confidence: 0.5, Hits: []handoff.Candidate{{ID: "a", Score: 1.5}}}
	first := handoff.Change{Conv: "c1", Rev: c.Rev, Prev: &c, Next: &next, Append: []handoff.Message{
		{ID: "handoff:k", Kind: handoff.KindHandoff, Group: "presale"}, msg("transfer:k", "请稍候"),
	}}
	res, err := e.Conversations.Commit(ctx, first)
	if err != nil || res.Dup || res.Conversation.Rev != 2 || res.Conversation.Seq != 2 || len(res.Messages) != 2 || res.Messages[1].Seq != 2 {
		t.Fatalf("Commit = %+v, %v; want rev 2, two records", res, err)
	}
	got := get(t, e, "c1")
	if got.Status != handoff.StatusQueued || got.Intent != "aftersale" || got.Context == nil || got.Context.Hits[0].Score != 1.5 || got.TokenHash != c.TokenHash {
		t.Errorf("stored record = %+v", got)
	}
	// A stale revision is refused and changes nothing.
	stale := next
	stale.Status = handoff.StatusActive
	if _, err := e.Conversations.Commit(ctx, handoff.Change{Conv: "c1", Rev: c.Rev, Prev: &c, Next: &stale, Append: []handoff.Message{msg("x", "x")}}); !errors.Is(err, handoff.ErrConflict) {
		t.Errorf("Commit at a stale revision: %v, want ErrConflict", err)
	}
	if _, err := e.Conversations.Commit(ctx, handoff.Change{Conv: "c1", Rev: c.Rev, Append: []handoff.Message{msg("y", "y")}}); !errors.Is(err, handoff.ErrConflict) {
		t.Errorf("append guarded by a stale revision: %v, want ErrConflict", err)
	}
	if after := get(t, e, "c1"); after.Rev != 2 || after.Seq != 2 || after.Status != handoff.StatusQueued {
		t.Errorf("refused commits changed the record: %+v", after)
	}
	// The same change again (a retry whose reply was lost) is recognised by its first
	// record, whatever its revision, and stores nothing.
	res, err = e.Conversations.Commit(ctx, first)
	if err != nil || !res.Dup || len(res.Messages) != 2 || res.Messages[0].Seq != 1 || res.Messages[1].Seq != 2 || res.Conversation.Rev != 2 {
		t.Errorf("retried Commit = %+v, %v; want Dup with the stored records", res, err)
	}
	// An append at the current revision, and one without a revision, both go through;
	// a later record that is stored already is left out.
	res, err = e.Conversations.Commit(ctx, handoff.Change{Conv: "c1", Rev: 2, Append: []handoff.Message{msg("m3", "a"), msg("transfer:k", "again")}})
	if err != nil || res.Dup || res.Messages[0].Seq != 3 || res.Messages[1].Seq != 2 || res.Conversation.Seq != 3 {
		t.Errorf("append with a stored later record = %+v, %v", res, err)
	}
	if res, err := e.Conversations.Commit(ctx, handoff.Change{Conv: "c1", Append: []handoff.Message{msg("m4", "b")}}); err != nil || res.Messages[0].Seq != 4 {
		t.Errorf("append without a revision = %+v, %v", res, err)
	}
	if msgs, _ := e.Conversations.Messages(ctx, "c1", 0, 0); len(msgs) != 4 {
		t.Errorf("log has %d records, want 4", len(msgs))
	}
}

func testLoad(t *testing.T, e handoff.Engine) {
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		create(t, e, id)
		enqueue(t, e, id, "presale", t0.UnixMilli(), false)
	}
	if err := give(e, get(t, e, "a"), "alice", 0); err != nil {
		t.Fatal(err)
	}
	// Decided on a load of 0, but alice owns 1 now.
	if err := give(e, get(t, e, "b"), "alice", 0); !errors.Is(err, handoff.ErrConflict) {
		t.Errorf("give at a stale load: %v, want ErrConflict", err)
	}
	if err := give(e, get(t, e, "b"), "alice", 1); err != nil {
		t.Errorf("give at the current load: %v", err)
	}
	loads, err := e.Conversations.Loads(ctx, "alice", "bob")
	if err != nil || !slices.Equal(loads, []int{2, 0}) {
		t.Errorf("Loads(alice, bob) = %v, %v; want [2 0]", loads, err)
	}
	owned, err := e.Conversations.Owned(ctx, "alice")
	if err != nil || !slices.Equal(IDs(owned), []string{"a", "b"}) {
		t.Errorf("Owned(alice) = %v, %v; want a, b in claim order", IDs(owned), err)
	}
	// Resolving takes it off the agent's load; a transfer moves it to the new owner.
	commit(t, e, "a", func(c *handoff.Conversation) { c.Status = handoff.StatusResolved }, msg("res:a", ""))
	commit(t, e, "b", func(c *handoff.Conversation) { c.Agent = "bob" }, msg("tr:b", ""))
	if loads, _ := e.Conversations.Loads(ctx, "alice", "bob"); !slices.Equal(loads, []int{0, 1}) {
		t.Errorf("Loads after resolve and transfer = %v, want [0 1]", loads)
	}
}

func testRoster(t *testing.T, e handoff.Engine) {
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

func testAnnals(t *testing.T, e handoff.Engine) {
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

func testTickets(t *testing.T, e handoff.Engine) {
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
