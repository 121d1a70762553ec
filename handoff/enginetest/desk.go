package enginetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
)

// The desk's scenarios, run on the engine under test: they check the rules end to end,
// and that the engine gives the desk what it needs to keep them.

func runDesk(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Opener)
	}{
		{"shopper journey", withRig(testJourney)},
		{"claims and caps", withRig(testClaims)},
		{"auto assign", withRig(testAutoAssign)},
		{"priority", withRig(testPriority)},
		{"agent offline", withRig(testOffline)},
		{"transfers", withRig(testTransfers)},
		{"reopen", withRig(testReopen)},
		{"leave a message", withRig(testLeave)},
		{"queue positions", withRig(testPositions)},
		{"tickets", withRig(testDeskTickets)},
		{"ticket cards", withRig(testTicketCards)},
		{"read access", withRig(testReadAccess)},
		{"ticket guards", withRig(testTicketGuards)},
		{"ticket access", withRig(testTicketAccess)},
		{"queue status", withRig(testQueueStatus)},
		{"claim race", withRig(testClaimRace)},
		{"capacity", withRig(testCapacity, func(c *handoff.DeskConfig) { c.MaxChats = 2 })},
		{"assignment", testAssignment},
		{"priority order", withRig(testPriorityOrder)},
		{"hand-off twice", withRig(testHandoffTwice)},
		{"open", withRig(testOpen)},
		{"transfer rules", withRig(testTransferRules)},
		{"reopen rules", testReopenRules},
		{"bot while waiting", withRig(testBotWhileWaiting)},
		{"small talk", testSmallTalk},
		{"photos", testPhotos},
		{"report of a scripted day", withRig(testReportDay)},
		{"phrasebook", withRig(testPhrasebook, func(c *handoff.DeskConfig) { c.CannedReplies = askOrder })},
		{"drafts", withRig(testDrafts)},
		{"unattended chats expire", withRig(testUnattended)},
		{"log limits", withRig(testLogLimits, func(c *handoff.DeskConfig) { c.MaxLog = 6 })},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open) })
	}
}

// withRig runs test on a fresh rig, with the desk's configuration changed by opts.
func withRig(test func(*testing.T, *rig), opts ...func(*handoff.DeskConfig)) func(*testing.T, Opener) {
	return func(t *testing.T, open Opener) { test(t, newRig(t, open, opts...)) }
}

// NewClock returns the suite's clock, at t0: every reading moves it on by a millisecond,
// so that stored times are distinct and ordered at the engines' millisecond precision;
// Advance moves it on further.
func NewClock() *timetest.Clock { return timetest.NewClock(t0, time.Millisecond) }

// Staff is a fixed set of users for the desk.
type Staff map[string]account.User

// User implements handoff.Staff.
func (s Staff) User(_ context.Context, name string) (account.User, error) {
	u, ok := s[name]
	if !ok {
		return account.User{}, account.ErrNotFound
	}
	return u, nil
}

// Bot answers by the first keyword of its script found in a question, and hands off
// everything else as out of scope.
type Bot []struct {
	Word     string
	Decision handoff.BotDecision
}

// Decide implements handoff.Bot.
func (b Bot) Decide(_ context.Context, q handoff.Question) (handoff.BotDecision, error) {
	for _, s := range b {
		if strings.Contains(q.Text, s.Word) {
			return s.Decision, nil
		}
	}
	return handoff.BotDecision{Action: triage.Handoff, Reason: triage.ReasonOutOfScope, Intent: triage.IntentOther}, nil
}

// ShopBot is the Bot of the scenarios: it answers invoice questions and hands returns
// to after-sales.
var ShopBot = Bot{
	{"发票", handoff.BotDecision{Action: triage.Answer, Intent: triage.IntentPresale, Confidence: 0.9, Text: "可以开发票。",
		Article: &triage.ArticleRef{ID: "invoice", Title: "发票", Category: "presale"},
		Hits:    []handoff.Candidate{{ID: "invoice", Title: "发票", Score: 0.9}}}},
	{"退货", handoff.BotDecision{Action: triage.Handoff, Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Confidence: 0.4,
		Hits: []handoff.Candidate{{ID: "return", Title: "退货流程", Score: 0.4}}}},
	{"投诉", handoff.BotDecision{Action: triage.Handoff, Reason: triage.ReasonNegativeSentiment, Intent: triage.IntentAftersale}},
}

// rig is a desk on the engine under test, running until the test ends.
type rig struct {
	open  Opener
	e     handoff.Engine
	desk  *handoff.Desk
	clock *timetest.Clock
	staff Staff
}

func newRig(t *testing.T, open Opener, opts ...func(*handoff.DeskConfig)) *rig {
	t.Helper()
	e := open(t)
	r := &rig{open: open, e: e, clock: NewClock(), staff: Staff{
		"alice": {Name: "alice", Role: "agent", Group: "presale"},
		"bob":   {Name: "bob", Role: "agent", Group: "presale"},
		"carol": {Name: "carol", Role: "agent", Group: "aftersale", MaxChats: 2},
		"lead":  {Name: "lead", Role: "lead", Group: "aftersale"},
	}}
	cfg := handoff.DeskConfig{
		Engine: e, Staff: r.staff, Bot: ShopBot, Now: r.clock.Now, ManualOnly: true, SweepInterval: time.Hour,
	}
	for _, o := range opts {
		o(&cfg)
	}
	d, err := handoff.NewDesk(cfg)
	if err != nil {
		t.Fatalf("NewDesk: %v", err)
	}
	r.desk = d
	run(t, e, d)
	return r
}

// run runs d until the test ends, and returns once its Run hears the engine's events.
func run(t *testing.T, e handoff.Engine, d *handoff.Desk) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	probe := d.Subscribe("")
	defer probe.Close()
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	// Run listens in the background: wait until events come through.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := e.Bus.Publish(ctx, handoff.Event{Type: handoff.EventResync}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-probe.C:
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no event came through the desk's Run within 10s")
		}
	}
}

// start starts a conversation of a verified shopper with VIP level vip.
func (r *rig) start(t *testing.T, vip int) handoff.Conversation {
	t.Helper()
	c, _, err := r.desk.StartAs(context.Background(), &handoff.Shopper{ID: fmt.Sprint("u", r.clock.Now().UnixNano()), VIP: vip, Verified: true})
	if err != nil {
		t.Fatalf("StartAs: %v", err)
	}
	return c
}

// say has the shopper of conv say text, with a fresh message id.
func (r *rig) say(t *testing.T, conv, text string) handoff.Said {
	t.Helper()
	said, err := r.desk.ShopperSays(context.Background(), conv, handoff.ShopperMessage{ID: fmt.Sprint("m", r.clock.Now().UnixNano()), Text: text}, nil)
	if err != nil {
		t.Fatalf("ShopperSays(%q): %v", text, err)
	}
	return said
}

// queued starts a conversation and has its shopper ask for a return: it waits in the
// after-sale queue.
func (r *rig) queued(t *testing.T) handoff.Conversation {
	t.Helper()
	c := r.start(t, 0)
	r.say(t, c.ID, "我要退货")
	return r.get(t, c.ID)
}

func (r *rig) get(t *testing.T, id string) handoff.Conversation {
	t.Helper()
	c, err := r.desk.Conversation(context.Background(), id)
	if err != nil {
		t.Fatalf("Conversation(%q): %v", id, err)
	}
	return c
}

// texts returns the log's texts, with the kind of records without one.
func (r *rig) texts(t *testing.T, id string) []string {
	t.Helper()
	msgs, err := r.desk.Messages(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		switch {
		case m.Text != "":
			out = append(out, string(m.From)+":"+m.Text)
		default:
			out = append(out, string(m.Kind)+":"+string(m.Status)+string(m.Group))
		}
	}
	return out
}

// handoff hands conversation id to group's queue for reason.
func (r *rig) handoff(t *testing.T, id string, reason triage.Reason, group handoff.Group) {
	t.Helper()
	if err := r.desk.Handoff(context.Background(), id, handoff.HandoffRequest{Key: "k-" + id, Reason: reason, Group: group}); err != nil {
		t.Fatalf("Handoff(%s): %v", id, err)
	}
}

// waiting starts a conversation of a shopper with VIP level vip and hands it to group's
// queue for reason.
func (r *rig) waiting(t *testing.T, group handoff.Group, reason triage.Reason, vip int) string {
	t.Helper()
	c := r.start(t, vip)
	r.handoff(t, c.ID, reason, group)
	return c.ID
}

// asking starts a conversation of a shopper with VIP level vip who asks desk d (the
// rig's, or another on its engine) for a person.
func (r *rig) asking(t *testing.T, d *handoff.Desk, vip int) handoff.Conversation {
	t.Helper()
	c := r.start(t, vip)
	if err := d.AskForPerson(context.Background(), c.ID, "k"); err != nil {
		t.Fatalf("AskForPerson(%s): %v", c.ID, err)
	}
	return c
}

// statusRecords counts the records of conversation id's log that change its status to
// status.
func (r *rig) statusRecords(t *testing.T, id string, status handoff.Status) int {
	t.Helper()
	return CountStatus(t, r.desk, id, status)
}

// CountStatus counts the records of conversation id's log that change its status to
// status: a claim or a hand-off written twice counts twice.
func CountStatus(t testing.TB, d *handoff.Desk, id string, status handoff.Status) int {
	t.Helper()
	msgs, err := d.Messages(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Kind == handoff.KindStatus && m.Status == status {
			n++
		}
	}
	return n
}

// lastSystem returns the text of the last record the desk wrote to the shopper.
func (r *rig) lastSystem(t *testing.T, id string) string {
	t.Helper()
	return LastNote(t, r.desk, id)
}

// LastNote returns the text of the last system message of conversation id's log, what
// the desk last told its shopper; "" when there is none.
func LastNote(t testing.TB, d *handoff.Desk, id string) string {
	t.Helper()
	msgs, err := d.Messages(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := msgs[i]; m.Kind == handoff.KindMessage && m.From == handoff.FromSystem {
			return m.Text
		}
	}
	return ""
}

// joined is the phrase of agent, who has no display name, taking a chat: shoppers see a
// neutral label, never the login (docs/domain.md rule 18).
func joined(agent string) string {
	return strings.ReplaceAll(handoff.DefaultPhrases.AgentJoined, "{agent}", account.NeutralLabel(agent))
}

func (r *rig) online(t *testing.T, agents ...string) {
	t.Helper()
	for _, a := range agents {
		if _, err := r.desk.Heartbeat(context.Background(), a, handoff.PresenceOnline); err != nil {
			t.Fatalf("Heartbeat(%s): %v", a, err)
		}
	}
}

func testJourney(t *testing.T, r *rig) {
	ctx := context.Background()
	c := r.start(t, 0)
	said := r.say(t, c.ID, "可以开发票吗")
	if said.Decision == nil || said.Decision.Action != triage.Answer || said.Message.Seq != 1 {
		t.Fatalf("an answerable question: %+v", said)
	}
	// The same message again is stored once and not answered twice.
	again, err := r.desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: said.Message.ID, Text: "可以开发票吗"}, nil)
	if err != nil || !again.Dup || again.Decision != nil {
		t.Errorf("a resend = %+v, %v; want Dup without a decision", again, err)
	}
	said = r.say(t, c.ID, "我要退货，衣服有个洞")
	got := r.get(t, c.ID)
	if got.Status != handoff.StatusQueued || got.Group != handoff.GroupAftersale || got.Reason != triage.ReasonAfterSales ||
		got.Context == nil || got.Context.Question != "我要退货，衣服有个洞" || len(got.Context.Hits) != 1 {
		t.Fatalf("after an after-sales message: %+v", got)
	}
	want := []string{"shopper:可以开发票吗", "bot:可以开发票。", "shopper:我要退货，衣服有个洞", "handoff:aftersale", "system:" + handoff.DefaultPhrases.TransferAftersale}
	if got := r.texts(t, c.ID); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("log = %q\nwant %q", got, want)
	}
	decs, err := r.desk.Packet(ctx, c.ID)
	if err != nil || len(decs.Decisions) != 2 || decs.Decisions[1].Reason != triage.ReasonAfterSales {
		t.Errorf("packet decisions = %+v, %v", decs.Decisions, err)
	}
	// While queued, what the bot cannot answer waits for the person; asking for one
	// again changes nothing.
	r.say(t, c.ID, "在吗")
	if got := r.texts(t, c.ID); got[len(got)-1] != "shopper:在吗" || r.get(t, c.ID).Group != handoff.GroupAftersale {
		t.Errorf("a message the bot cannot answer while queued: log ends %q", got[len(got)-2:])
	}
	if err := r.desk.AskForPerson(ctx, c.ID, "again"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if _, err := r.desk.Reply(ctx, c.ID, "carol", "r1", "您好，请提供订单号"); err != nil {
		t.Fatalf("Reply: %v", err)
	}
	if _, err := r.desk.Reply(ctx, c.ID, "alice", "r2", "hi"); !errors.Is(err, handoff.ErrNotOwner) {
		t.Errorf("a reply by another agent: %v, want ErrNotOwner", err)
	}
	if _, err := r.desk.Resolve(ctx, c.ID, "carol"); err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if _, err := r.desk.Reply(ctx, c.ID, "carol", "r3", "还在吗"); !errors.Is(err, handoff.ErrResolved) {
		t.Errorf("a reply after the resolve: %v, want ErrResolved", err)
	}
	if got := r.get(t, c.ID); got.Status != handoff.StatusResolved || got.Agent != "carol" || got.ClosedAt.IsZero() {
		t.Errorf("after resolve: %+v", got)
	}
	// 「转人工」 from the bot goes to the queue of the latest intent.
	c2 := r.start(t, 0)
	r.say(t, c2.ID, "可以开发票吗")
	if err := r.desk.AskForPerson(ctx, c2.ID, "h1"); err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, c2.ID); got.Status != handoff.StatusQueued || got.Group != handoff.GroupPresale || got.Reason != triage.ReasonRequested {
		t.Errorf("after 转人工: %+v", got)
	}
}

// testHandoffTwice: a chat with people is not handed off again, but a retry of the
// hand-off that put it there succeeds and changes nothing.
func testHandoffTwice(t *testing.T, r *rig) {
	ctx := context.Background()
	c := r.start(t, 0)
	first := handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Group: handoff.GroupAftersale,
		Context: &handoff.Context{Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Confidence: 0.42, Question: "我要退货",
			Hits: []handoff.Candidate{{ID: "return-policy", Title: "七天无理由退货", Score: 3.25}}}}
	if err := r.desk.Handoff(ctx, c.ID, first); err != nil {
		t.Fatal(err)
	}
	c = r.get(t, c.ID)
	before := r.texts(t, c.ID)
	again := handoff.HandoffRequest{Key: "m2", Reason: triage.ReasonRequested, Group: handoff.GroupPresale, Intent: triage.IntentPresale}
	if err := r.desk.Handoff(ctx, c.ID, again); !errors.Is(err, handoff.ErrWrongStatus) {
		t.Errorf("Handoff of a queued conversation: error = %v, want ErrWrongStatus", err)
	}
	if err := r.desk.Handoff(ctx, c.ID, first); err != nil {
		t.Errorf("retried Handoff: %v", err)
	}
	if after := r.texts(t, c.ID); !slices.Equal(after, before) {
		t.Errorf("log went from %q to %q", before, after)
	}
	got := r.get(t, c.ID)
	if got.Status != handoff.StatusQueued || got.Group != handoff.GroupAftersale || !got.EnqueuedAt.Equal(c.EnqueuedAt) || got.Rev != c.Rev ||
		got.Context == nil || got.Context.Question != "我要退货" {
		t.Errorf("conversation now %+v, want unchanged (%+v)", got, c)
	}
	if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if err := r.desk.Handoff(ctx, c.ID, handoff.HandoffRequest{Key: "m3", Group: handoff.GroupAftersale}); !errors.Is(err, handoff.ErrWrongStatus) {
		t.Errorf("Handoff of an active conversation: error = %v, want ErrWrongStatus", err)
	}
	if w, err := r.desk.Waiting(ctx, ""); err != nil || len(w) != 0 {
		t.Errorf("Waiting = %v, %v; want none", IDs(w), err)
	}
	// A group the desk does not have is the desk's choice.
	o := r.start(t, 0)
	if err := r.desk.Handoff(ctx, o.ID, handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonAfterSales, Group: "nosuch"}); err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, o.ID); got.Group != handoff.GroupAftersale || got.Status != handoff.StatusQueued {
		t.Errorf("hand-off to an unknown group: %s in %q, want queued in aftersale", got.Status, got.Group)
	}
}

// testOpen: a conversation opens with its token only, and a verified shopper's only for
// that shopper; every refusal looks the same.
func testOpen(t *testing.T, r *rig) {
	ctx := context.Background()
	c, token, err := r.desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.desk.Open(ctx, c.ID, token); err != nil || got.ID != c.ID {
		t.Fatalf("Open with the right token = %q, %v", got.ID, err)
	}
	for _, tc := range []struct{ name, id, token string }{
		{"wrong token", c.ID, token + "x"},
		{"unknown id", "c_unknown", token},
		{"no token", c.ID, ""},
		{"no id", "", token},
	} {
		if _, err := r.desk.Open(ctx, tc.id, tc.token); !errors.Is(err, handoff.ErrBadToken) {
			t.Errorf("Open with %s: error = %v, want ErrBadToken", tc.name, err)
		}
	}
	v, vtoken, err := r.desk.StartAs(ctx, &handoff.Shopper{ID: "buyer-1", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.OpenAs(ctx, v.ID, vtoken, "buyer-1"); err != nil {
		t.Errorf("OpenAs by its shopper: %v", err)
	}
	for _, who := range []string{"buyer-2", ""} {
		if _, err := r.desk.OpenAs(ctx, v.ID, vtoken, who); !errors.Is(err, handoff.ErrBadToken) {
			t.Errorf("OpenAs(%q) of buyer-1's conversation: error = %v, want ErrBadToken", who, err)
		}
	}
}
