package enginetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// A chat changing hands after a claim: an agent going offline, transfers to an agent,
// a group or the bot, a shopper writing again after the resolve, and a message left
// instead of waiting.

func testOffline(t *testing.T, r *rig) {
	ctx := context.Background()
	r.online(t, "carol")
	first, second := r.queued(t), r.queued(t)
	for _, c := range []handoff.Conversation{first, second} {
		if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
			t.Fatal(err)
		}
	}
	waiting := r.queued(t)
	// carol's console falls silent past the grace period: her chats go back to the
	// front of the queue, ahead of the chat that was waiting.
	r.clock.Advance(2 * time.Minute)
	if err := r.desk.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := r.desk.Waiting(ctx, handoff.GroupAftersale)
	if len(got) != 3 || got[2].ID != waiting.ID || !slices.Contains(IDs(got[:2]), first.ID) || !slices.Contains(IDs(got[:2]), second.ID) {
		t.Fatalf("aftersale queue after carol went silent = %v", IDs(got))
	}
	if log := r.texts(t, first.ID); log[len(log)-1] != "system:"+handoff.DefaultPhrases.AgentOffline {
		t.Errorf("the shopper was not told: %q", log)
	}
	if a, _ := r.desk.AgentLoad(ctx, "carol"); a.Load != 0 || a.Status != handoff.PresenceOffline {
		t.Errorf("carol after the sweep: %+v", a)
	}
	// Saying offline gives the chats back at once.
	r.online(t, "lead")
	if _, err := r.desk.Claim(ctx, waiting.ID, "lead"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Heartbeat(ctx, "lead", handoff.PresenceOffline); err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, waiting.ID); got.Status != handoff.StatusQueued || got.Agent != "" {
		t.Errorf("after lead said offline: %+v", got)
	}
	// An agent with a fresh heartbeat keeps their chats through a sweep.
	r.online(t, "carol")
	if _, err := r.desk.Claim(ctx, first.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if err := r.desk.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, first.ID); got.Status != handoff.StatusActive {
		t.Errorf("a chat of an online agent after a sweep: %+v", got)
	}
}

func testTransfers(t *testing.T, r *rig) {
	ctx := context.Background()
	c := r.asking(t, r.desk, 0)
	if _, err := r.desk.Claim(ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Transfer(ctx, c.ID, "alice", "bob"); !errors.Is(err, handoff.ErrAgentUnavailable) {
		t.Errorf("transfer to an offline agent: %v, want ErrAgentUnavailable", err)
	}
	r.online(t, "bob")
	if _, err := r.desk.Transfer(ctx, c.ID, "alice", "bob"); err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	if got := r.get(t, c.ID); got.Agent != "bob" || got.Status != handoff.StatusActive {
		t.Errorf("after transfer: %+v", got)
	}
	if loads, _ := r.e.Conversations.Loads(ctx, "alice", "bob"); !slices.Equal(loads, []int{0, 1}) {
		t.Errorf("loads after transfer = %v", loads)
	}
	if _, err := r.desk.Transfer(ctx, c.ID, "alice", "carol"); !errors.Is(err, handoff.ErrAgentUnavailable) && !errors.Is(err, handoff.ErrNotOwner) {
		t.Errorf("transfer by a former owner: %v", err)
	}
	enq := r.get(t, c.ID).EnqueuedAt
	if _, err := r.desk.TransferGroup(ctx, c.ID, "bob", handoff.GroupAftersale); err != nil {
		t.Fatalf("TransferGroup: %v", err)
	}
	got := r.get(t, c.ID)
	if got.Status != handoff.StatusQueued || got.Group != handoff.GroupAftersale || !got.EnqueuedAt.Equal(enq) {
		t.Errorf("after TransferGroup: %+v (enqueued %v, was %v)", got, got.EnqueuedAt, enq)
	}
	if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.BackToBot(ctx, c.ID, "carol"); !errors.Is(err, handoff.ErrAftersaleStays) {
		t.Errorf("after-sales chat back to the bot: %v, want ErrAftersaleStays", err)
	}
	if _, err := r.desk.TransferGroup(ctx, c.ID, "carol", "nosuch"); !errors.Is(err, handoff.ErrUnknownGroup) {
		t.Errorf("transfer to an unknown group: %v", err)
	}
	p := r.asking(t, r.desk, 0)
	if _, err := r.desk.Claim(ctx, p.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.BackToBot(ctx, p.ID, "alice"); err != nil {
		t.Fatalf("BackToBot: %v", err)
	}
	if got := r.get(t, p.ID); got.Status != handoff.StatusBot {
		t.Errorf("after BackToBot: %+v", got)
	}
	if s := r.say(t, p.ID, "可以开发票吗"); s.Decision == nil {
		t.Error("the bot did not answer after BackToBot")
	}
}

// testTransferRules: a chat goes to another agent only if they are online and below
// their limit, and only from its owner; to another group's queue keeping its waiting
// time; back to the bot, except after-sales (docs/domain.md rule 7). The shopper is told
// each time, and the loads follow.
func testTransferRules(t *testing.T, r *rig) {
	ctx := context.Background()
	for _, u := range []account.User{
		{Name: "pete", Role: account.RoleAgent, Group: string(handoff.GroupPresale)},
		{Name: "amy", Role: account.RoleAgent, Group: string(handoff.GroupAftersale), MaxChats: 1},
		{Name: "ben", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)},
	} {
		r.staff[u.Name] = u
	}
	loads := func() []int {
		t.Helper()
		n, err := r.e.Conversations.Loads(ctx, "pete", "amy")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	c1 := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if _, err := r.desk.Claim(ctx, c1, "pete"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Transfer(ctx, c1, "pete", "amy"); !errors.Is(err, handoff.ErrAgentUnavailable) {
		t.Errorf("transfer to offline amy: error = %v, want ErrAgentUnavailable", err)
	}
	if _, err := r.desk.Transfer(ctx, c1, "pete", "nobody"); !errors.Is(err, handoff.ErrAgentUnavailable) {
		t.Errorf("transfer to an unknown agent: error = %v, want ErrAgentUnavailable", err)
	}
	r.online(t, "amy")
	if _, err := r.desk.Transfer(ctx, c1, "amy", "pete"); !errors.Is(err, handoff.ErrNotOwner) {
		t.Errorf("transfer by a non-owner: error = %v, want ErrNotOwner", err)
	}
	if _, err := r.desk.Transfer(ctx, c1, "pete", "pete"); err == nil {
		t.Error("a transfer to oneself succeeded")
	}
	c, err := r.desk.Transfer(ctx, c1, "pete", "amy")
	if err != nil || c.Status != handoff.StatusActive || c.Agent != "amy" {
		t.Fatalf("Transfer = %s with %q, %v", c.Status, c.Agent, err)
	}
	if got := r.lastSystem(t, c1); got != joined("amy") {
		t.Errorf("log ends with %q, want amy's greeting", got)
	}
	if _, err := r.desk.Reply(ctx, c1, "pete", "", "还在吗"); !errors.Is(err, handoff.ErrNotOwner) {
		t.Errorf("pete's reply after the transfer: error = %v, want ErrNotOwner", err)
	}
	if got := loads(); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("loads of pete and amy = %v, want [0 1]", got)
	}
	c2 := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if _, err := r.desk.Claim(ctx, c2, "pete"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Transfer(ctx, c2, "pete", "amy"); !errors.Is(err, handoff.ErrAtCapacity) {
		t.Errorf("transfer to full amy: error = %v, want ErrAtCapacity", err)
	}

	// To the after-sales queue, keeping the waiting time: ahead of a newer after-sales
	// chat.
	since := r.get(t, c2).EnqueuedAt
	r.clock.Advance(10 * time.Minute)
	newer := r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0)
	c, err = r.desk.TransferGroup(ctx, c2, "pete", handoff.GroupAftersale)
	if err != nil || c.Status != handoff.StatusQueued || c.Group != handoff.GroupAftersale || !c.EnqueuedAt.Equal(since) || c.Agent != "" {
		t.Fatalf("TransferGroup = %+v, %v; want queued in aftersale since %v", c, err, since)
	}
	if w, _ := r.desk.Waiting(ctx, handoff.GroupAftersale); !slices.Equal(IDs(w), []string{c2, newer}) {
		t.Errorf("aftersale queue = %v, want the transferred chat (waiting longer) first", IDs(w))
	}
	if got := r.lastSystem(t, c2); got != handoff.DefaultPhrases.TransferAftersale {
		t.Errorf("log ends with %q, want the after-sales transfer phrase", got)
	}
	if got := loads(); got[0] != 0 {
		t.Errorf("pete's load after the transfer to a group = %d, want 0", got[0])
	}
	if _, err := r.desk.TransferGroup(ctx, c2, "pete", handoff.GroupPresale); !errors.Is(err, handoff.ErrNotOwner) {
		t.Errorf("TransferGroup of a queued chat: error = %v, want ErrNotOwner", err)
	}
	if _, err := r.desk.TransferGroup(ctx, c1, "amy", "vip"); !errors.Is(err, handoff.ErrUnknownGroup) {
		t.Errorf("TransferGroup to an unknown group: error = %v, want ErrUnknownGroup", err)
	}
	if _, err := r.desk.Claim(ctx, c2, "ben"); err != nil {
		t.Fatal(err)
	}

	// Back to the bot: not for after-sales.
	if _, err := r.desk.BackToBot(ctx, c2, "ben"); !errors.Is(err, handoff.ErrAftersaleStays) {
		t.Errorf("BackToBot of an after-sales chat: error = %v, want ErrAftersaleStays", err)
	}
	c3 := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if _, err := r.desk.Claim(ctx, c3, "pete"); err != nil {
		t.Fatal(err)
	}
	if c, err = r.desk.BackToBot(ctx, c3, "pete"); err != nil || c.Status != handoff.StatusBot || c.Agent != "" {
		t.Fatalf("BackToBot = %s with %q, %v", c.Status, c.Agent, err)
	}
	if got := r.lastSystem(t, c3); got != handoff.DefaultPhrases.BackToBot {
		t.Errorf("log ends with %q, want the back-to-bot phrase", got)
	}
	if got := loads(); got[0] != 0 {
		t.Errorf("pete's load after handing back = %d", got[0])
	}
	if _, err := r.desk.BackToBot(ctx, c3, "pete"); !errors.Is(err, handoff.ErrNotOwner) {
		t.Errorf("second BackToBot: error = %v, want ErrNotOwner", err)
	}
	if err := r.desk.Handoff(ctx, c3, handoff.HandoffRequest{Key: "m9", Reason: triage.ReasonRequested, Group: handoff.GroupPresale}); err != nil {
		t.Errorf("a new hand-off after the bot got it back: %v", err)
	}
	if got := r.get(t, c3); got.Status != handoff.StatusQueued {
		t.Errorf("after the new hand-off: %s, want queued", got.Status)
	}
}

func testReopen(t *testing.T, r *rig) {
	ctx := context.Background()
	resolved := func() handoff.Conversation {
		c := r.queued(t)
		if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.desk.Resolve(ctx, c.ID, "carol"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Within the window, with carol online: back to her.
	r.online(t, "carol")
	c := resolved()
	s := r.say(t, c.ID, "还有一个问题")
	if got := r.get(t, c.ID); got.Status != handoff.StatusActive || got.Agent != "carol" || s.Decision != nil {
		t.Errorf("reopened within the window: %+v", got)
	}
	log := r.texts(t, c.ID)
	if !strings.Contains(log[len(log)-2], "继续为您服务") || log[len(log)-1] != "shopper:还有一个问题" {
		t.Errorf("log after reopening = %q", log)
	}
	// carol offline: to the front of the after-sale queue.
	c2 := resolved()
	if _, err := r.desk.Heartbeat(ctx, "carol", handoff.PresenceOffline); err != nil {
		t.Fatal(err)
	}
	other := r.queued(t)
	r.say(t, c2.ID, "在吗")
	// (The first chat, which carol had again, went back to the front too when she went
	// offline.)
	got, _ := r.desk.Waiting(ctx, handoff.GroupAftersale)
	if i, j := slices.Index(IDs(got), c2.ID), slices.Index(IDs(got), other.ID); i < 0 || j < 0 || i > j {
		t.Errorf("aftersale queue after a reopen with carol away = %v, want %s ahead of %s", IDs(got), c2.ID, other.ID)
	}
	if got := r.get(t, c2.ID); got.Reason != triage.ReasonReopened {
		t.Errorf("reopened chat's reason = %q", got.Reason)
	}
	// Past the window: the bot.
	r.online(t, "carol")
	c3 := resolved()
	r.clock.Advance(time.Hour)
	if s := r.say(t, c3.ID, "可以开发票吗"); s.Decision == nil || r.get(t, c3.ID).Status != handoff.StatusBot {
		t.Errorf("after the window: %+v, status %s", s, r.get(t, c3.ID).Status)
	}
}

// testReopenRules: a shopper who writes again within the reopen window goes back to the
// agent who resolved the chat when they are online and below their limit, else to the
// front of the chat's group's queue; after the window, or when no agent resolved it, to
// the bot, from where a hand-off goes through as for any chat. A resend reopens once.
func testReopenRules(t *testing.T, open Opener) {
	ctx := context.Background()
	r := newRig(t, open)
	r.staff["dan"] = account.User{Name: "dan", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)}
	r.online(t, "carol", "dan") // carol owns 2 chats at most
	// served hands off a chat, has agent claim it and resolve it.
	served := func(agent string) string {
		t.Helper()
		id := r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 1)
		if _, err := r.desk.Claim(ctx, id, agent); err != nil {
			t.Fatal(err)
		}
		if _, err := r.desk.Resolve(ctx, id, agent); err != nil {
			t.Fatal(err)
		}
		return id
	}
	reopen := func(id, key string, want handoff.Status) {
		t.Helper()
		for range 2 { // the second is a resend
			st, err := r.desk.Reopen(ctx, id, key)
			if err != nil || st != want {
				t.Fatalf("Reopen(%s) = %q, %v; want %s", id, st, err, want)
			}
		}
	}
	// routed reports whether the chat waits in a queue or is owned by someone.
	routed := func(id string) bool {
		t.Helper()
		w, err := r.desk.Waiting(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		routed := slices.Contains(IDs(w), id)
		for _, a := range []string{"carol", "dan"} {
			o, err := r.desk.Owned(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			routed = routed || slices.Contains(IDs(o), id)
		}
		return routed
	}

	back := served("carol")
	reopen(back, "m2", handoff.StatusActive)
	if c, n := r.get(t, back), r.statusRecords(t, back, handoff.StatusActive); c.Agent != "carol" || n != 2 {
		t.Errorf("reopened chat is %s with %q and %d claims, want carol's again once", c.Status, c.Agent, n)
	}
	if got := r.lastSystem(t, back); got != "您好，客服"+account.NeutralLabel("carol")+"继续为您服务，请问还有什么可以帮到您？" {
		t.Errorf("reopened chat ends with %q", got)
	}

	// carol is full (back and another): the front of the queue, ahead of an older
	// complaint of a VIP.
	full := served("carol")
	older := r.waiting(t, handoff.GroupAftersale, triage.ReasonNegativeSentiment, 5)
	if _, err := r.desk.Claim(ctx, r.waiting(t, handoff.GroupAftersale, triage.ReasonAfterSales, 0), "carol"); err != nil {
		t.Fatal(err)
	}
	reopen(full, "m2", handoff.StatusQueued)
	if w, _ := r.desk.Waiting(ctx, handoff.GroupAftersale); !slices.Equal(IDs(w), []string{full, older}) {
		t.Errorf("queue = %v, want the reopened chat %s ahead of %s", IDs(w), full, older)
	}
	if c := r.get(t, full); c.Group != handoff.GroupAftersale || c.Reason != triage.ReasonReopened || c.Agent != "" {
		t.Errorf("reopened chat = %+v", c)
	}
	if got := r.lastSystem(t, full); got != handoff.DefaultPhrases.ReopenedQueue {
		t.Errorf("reopened chat ends with %q, want the reopened-queue phrase", got)
	}

	// dan went offline: the queue.
	gone := served("dan")
	if _, err := r.desk.Heartbeat(ctx, "dan", handoff.PresenceOffline); err != nil {
		t.Fatal(err)
	}
	reopen(gone, "m2", handoff.StatusQueued)

	// After the window: the bot, even with dan online again. The shopper may ask for a
	// person again.
	late := served("dan")
	r.online(t, "dan")
	r.clock.Advance(31 * time.Minute)
	r.online(t, "dan")
	reopen(late, "m2", handoff.StatusBot)
	if c := r.get(t, late); c.Agent != "" || routed(late) {
		t.Errorf("the chat back with the bot is %+v, routed %v", c, routed(late))
	}
	if err := r.desk.AskForPerson(ctx, late, "h3"); err != nil {
		t.Fatalf("asking for a person after the bot took the chat back: %v", err)
	}
	if c := r.get(t, late); c.Status != handoff.StatusQueued || !routed(late) {
		t.Errorf("after asking for a person again: %+v, routed %v; want queued", c, routed(late))
	}

	// Not resolved: nothing changes.
	if st, err := r.desk.Reopen(ctx, back, "m3"); err != nil || st != handoff.StatusActive {
		t.Errorf("Reopen of an active chat = %q, %v; want active, nil", st, err)
	}

	// A chat the shopper left a message in was resolved by no agent: the bot, and from
	// there to a person when the shopper asks.
	left := r.queued(t)
	if _, _, err := r.desk.LeaveMessage(ctx, left.ID, handoff.LeftMessage{Key: "l1", Text: "请回电"}); err != nil {
		t.Fatal(err)
	}
	if err := r.desk.AskForPerson(ctx, left.ID, "h1"); err != nil {
		t.Fatalf("asking for a person after leaving a message: %v", err)
	}
	if c := r.get(t, left.ID); c.Status != handoff.StatusQueued || c.Reason != triage.ReasonRequested {
		t.Errorf("after asking for a person again: %s for %q, want queued as requested", c.Status, c.Reason)
	}

	// No window: the bot.
	off := newRig(t, open, func(c *handoff.DeskConfig) { c.ReopenWindow = -1 })
	off.online(t, "alice")
	id := off.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if _, err := off.desk.Claim(ctx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := off.desk.Resolve(ctx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	if st, err := off.desk.Reopen(ctx, id, "m2"); err != nil || st != handoff.StatusBot {
		t.Errorf("Reopen with no window = %q, %v; want bot", st, err)
	}
}

func testLeave(t *testing.T, r *rig) {
	ctx := context.Background()
	c := r.queued(t)
	m := handoff.LeftMessage{Key: "l1", Text: "请尽快联系我", Contact: "晚上在家"}
	tk, note, err := r.desk.LeaveMessage(ctx, c.ID, m)
	if err != nil {
		t.Fatalf("LeaveMessage: %v", err)
	}
	if tk.Type != handoff.TicketMessage || tk.Group != handoff.GroupAftersale || !strings.Contains(note.Text, tk.ID) {
		t.Errorf("ticket %+v, note %+v", tk, note)
	}
	if got := r.get(t, c.ID); got.Status != handoff.StatusResolved {
		t.Errorf("after leaving a message: %s", got.Status)
	}
	if w, _ := r.desk.Waiting(ctx, handoff.GroupAftersale); slices.Contains(IDs(w), c.ID) {
		t.Error("the chat still waits after leaving a message")
	}
	tk2, note2, err := r.desk.LeaveMessage(ctx, c.ID, m)
	if err != nil || tk2.ID != tk.ID || note2.Seq != note.Seq {
		t.Errorf("a resend = %s %+v, %v; want the same ticket and note", tk2.ID, note2, err)
	}
	taken := r.queued(t)
	if _, err := r.desk.Claim(ctx, taken.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.desk.LeaveMessage(ctx, taken.ID, handoff.LeftMessage{Key: "l2", Text: "x"}); !errors.Is(err, handoff.ErrAlreadyClaimed) {
		t.Errorf("leaving a message in a claimed chat: %v, want ErrAlreadyClaimed", err)
	}
	if _, _, err := r.desk.LeaveMessage(ctx, r.queued(t).ID, handoff.LeftMessage{Key: "l3", Text: ""}); !errors.Is(err, handoff.ErrBadTicket) {
		t.Errorf("an empty message: %v, want ErrBadTicket", err)
	}
}
