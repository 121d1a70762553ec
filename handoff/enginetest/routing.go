package enginetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/triage"
)

func testAutoAssign(t *testing.T, open *rig) {
	ctx := context.Background()
	r := open
	// The rig's desk assigns by hand; one that assigns by itself is made here on the
	// same engine.
	d, err := handoff.NewDesk(handoff.DeskConfig{
		Conversations: r.e.Conversations, Roster: r.e.Roster, Annals: r.e.Annals, Bus: r.e.Bus, Tickets: r.e.Tickets,
		Staff: r.staff, Bot: ShopBot, Now: r.clock.Now, SweepInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	var convs []string
	for range 3 {
		c := r.start(t, 0)
		if err := d.AskForPerson(ctx, c.ID, "k"); err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c.ID)
	}
	if n, err := d.AutoAssign(ctx, handoff.GroupPresale); err != nil || n != 0 {
		t.Fatalf("AutoAssign with nobody online = %d, %v", n, err)
	}
	if _, err := d.Heartbeat(ctx, "alice", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	// alice went online and took every waiting chat: she is the only one.
	if a, _ := d.AgentLoad(ctx, "alice"); a.Load != 3 || a.Status != handoff.PresenceOnline {
		t.Fatalf("alice after going online: %+v", a)
	}
	if _, err := d.Heartbeat(ctx, "bob", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c := r.start(t, 0)
		if err := d.AskForPerson(ctx, c.ID, "k"); err != nil {
			t.Fatal(err)
		}
	}
	// The two new chats went to bob, the least loaded.
	agents, err := d.Agents(ctx, handoff.GroupPresale)
	if err != nil || len(agents) != 2 || agents[0].Load != 3 || agents[1].Load != 2 {
		t.Errorf("Agents = %+v, %v; want alice 3, bob 2", agents, err)
	}
	// Away agents keep their chats and take no new ones.
	if _, err := d.Heartbeat(ctx, "bob", handoff.PresenceAway); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Heartbeat(ctx, "alice", handoff.PresenceAway); err != nil {
		t.Fatal(err)
	}
	c := r.start(t, 0)
	if err := d.AskForPerson(ctx, c.ID, "k"); err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, c.ID); got.Status != handoff.StatusQueued {
		t.Errorf("a chat with everyone away: %s", got.Status)
	}
}

func testPriority(t *testing.T, r *rig) {
	ctx := context.Background()
	plain := r.start(t, 0)
	if err := r.desk.AskForPerson(ctx, plain.ID, "k"); err != nil {
		t.Fatal(err)
	}
	vip := r.start(t, 3)
	if err := r.desk.AskForPerson(ctx, vip.ID, "k"); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Minute)
	later := r.start(t, 0)
	if err := r.desk.AskForPerson(ctx, later.ID, "k"); err != nil {
		t.Fatal(err)
	}
	got, err := r.desk.Waiting(ctx, handoff.GroupPresale)
	if err != nil {
		t.Fatal(err)
	}
	// VIP 3 is six minutes' head start.
	if want := []string{vip.ID, plain.ID, later.ID}; !slices.Equal(IDs(got), want) {
		t.Errorf("presale queue = %v, want %v", IDs(got), want)
	}
	ret := r.queued(t)
	angry := r.start(t, 0)
	r.say(t, angry.ID, "我要投诉")
	got, _ = r.desk.Waiting(ctx, handoff.GroupAftersale)
	if want := []string{angry.ID, ret.ID}; !slices.Equal(IDs(got), want) {
		t.Errorf("aftersale queue = %v, want the complaint first: %v", IDs(got), want)
	}
}

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
	c := r.start(t, 0)
	if err := r.desk.AskForPerson(ctx, c.ID, "k"); err != nil {
		t.Fatal(err)
	}
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
	p := r.start(t, 0)
	if err := r.desk.AskForPerson(ctx, p.ID, "k"); err != nil {
		t.Fatal(err)
	}
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
