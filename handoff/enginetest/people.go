package enginetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// People, serving, ratings and feedback: shoppers see display names, never logins;
// only users who serve get chats by assignment; a resolved chat's rating is kept on the
// conversation; 没帮助 on a bot answer reaches the editors and offers a person.

func runPeople(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Opener)
	}{
		{"display names", withRig(testDisplayNames)},
		{"serving", testServing},
		{"rating", withRig(testRating)},
		{"feedback", testFeedback},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open) })
	}
}

// testDisplayNames: the agent_joined phrase and the reopened one name the agent by
// their display name; the login appears in no text the shopper gets.
func testDisplayNames(t *testing.T, r *rig) {
	ctx := context.Background()
	u := r.staff["carol"]
	u.DisplayName = "小美"
	r.staff["carol"] = u
	c := r.queued(t)
	if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(handoff.DefaultPhrases.AgentJoined, "{agent}", "小美")
	if got := r.lastSystem(t, c.ID); got != want {
		t.Errorf("after the claim the log ends with %q, want %q", got, want)
	}
	for _, s := range r.texts(t, c.ID) {
		if strings.Contains(s, "carol") {
			t.Errorf("a text the shopper gets names the login: %q", s)
		}
	}
	if p := r.desk.Person(ctx, "carol"); p.Name != "小美" {
		t.Errorf("Person(carol) = %+v, want 小美", p)
	}
	// A changed name shows once the desk forgets the old one.
	u.DisplayName = "阿美"
	r.staff["carol"] = u
	r.desk.ForgetPerson("carol")
	if p := r.desk.Person(ctx, "carol"); p.Name != "阿美" {
		t.Errorf("Person(carol) after the change = %+v, want 阿美", p)
	}
	if p := r.desk.Person(ctx, "nobody"); p.Name != account.NeutralLabel("nobody") || p.Name == "nobody" {
		t.Errorf("Person(nobody) = %+v, want the neutral label", p)
	}
}

// testServing: automatic assignment gives chats only to users who serve: an agent by
// default, an admin only once they turn serving on; a paused agent gets none but may
// still claim.
func testServing(t *testing.T, open Opener) {
	ctx := context.Background()
	r := newRig(t, open, func(c *handoff.DeskConfig) { c.ManualOnly, c.MaxChats = false, 5 })
	r.staff["boss"] = account.User{Name: "boss", Role: account.RoleAdmin, Group: string(handoff.GroupPresale)}
	r.staff["pia"] = account.User{Name: "pia", Role: account.RoleAgent, Group: string(handoff.GroupPresale)}
	r.online(t, "boss")
	if a, err := r.desk.AgentLoad(ctx, "boss"); err != nil || a.Serving || a.Status != handoff.PresenceOnline {
		t.Fatalf("the admin online: %+v, %v; want online and not serving", a, err)
	}
	first := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if c := r.get(t, first); c.Status != handoff.StatusQueued {
		t.Fatalf("with only a manager online the chat is %s with %q, want queued", c.Status, c.Agent)
	}
	r.online(t, "pia")
	if c := r.get(t, first); c.Status != handoff.StatusActive || c.Agent != "pia" {
		t.Fatalf("once an agent is online the chat is %s with %q, want pia's", c.Status, c.Agent)
	}
	// pia pauses: the next chat waits; the admin may still claim it.
	off, on := false, true
	u := r.staff["pia"]
	u.Serving = &off
	r.staff["pia"] = u
	if err := r.desk.RenewServing(ctx, "pia"); err != nil {
		t.Fatal(err)
	}
	if a, _ := r.desk.AgentLoad(ctx, "pia"); a.Serving || a.Status != handoff.PresenceOnline || a.Load != 1 {
		t.Errorf("pia paused: %+v, want online, not serving, keeping her chat", a)
	}
	second := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if c := r.get(t, second); c.Status != handoff.StatusQueued {
		t.Fatalf("with every agent paused the chat is %s with %q, want queued", c.Status, c.Agent)
	}
	if _, err := r.desk.Claim(ctx, second, "boss"); err != nil {
		t.Fatalf("the paused admin's claim: %v", err)
	}
	// The admin turns serving on: the next chat may be theirs.
	b := r.staff["boss"]
	b.Serving = &on
	r.staff["boss"] = b
	if err := r.desk.RenewServing(ctx, "boss"); err != nil {
		t.Fatal(err)
	}
	third := r.waiting(t, handoff.GroupPresale, triage.ReasonRequested, 0)
	if c := r.get(t, third); c.Status != handoff.StatusActive || c.Agent != "boss" {
		t.Errorf("with the admin serving the chat is %s with %q, want the admin's", c.Status, c.Agent)
	}
	// The presence every node reads says who serves.
	as, err := r.desk.Agents(ctx, handoff.GroupPresale)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if want := a.Agent == "boss"; a.Serving != want {
			t.Errorf("Agents: %s serving = %v, want %v", a.Agent, a.Serving, want)
		}
	}
}

// testRating: only a resolved chat is rated; a bad score or comment stores nothing; the
// same rating sent again is stored once; a second rating replaces the first, and the
// engine keeps it on the conversation.
func testRating(t *testing.T, r *rig) {
	ctx := context.Background()
	c := r.queued(t)
	if _, err := r.desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Rate(ctx, c.ID, "r0", 5, ""); !errors.Is(err, handoff.ErrNotRatable) {
		t.Errorf("rating an active chat: %v, want ErrNotRatable", err)
	}
	if _, err := r.desk.Resolve(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	before := r.get(t, c.ID)
	for _, bad := range []struct {
		score   int
		comment string
	}{{0, ""}, {6, ""}, {-1, "好"}, {5, strings.Repeat("好", handoff.MaxRatingComment+1)}} {
		if _, err := r.desk.Rate(ctx, c.ID, "bad", bad.score, bad.comment); !errors.Is(err, handoff.ErrBadRating) {
			t.Errorf("Rate(%d, %d characters): %v, want ErrBadRating", bad.score, len([]rune(bad.comment)), err)
		}
	}
	if after := r.get(t, c.ID); after.Rating != nil || after.Seq != before.Seq {
		t.Fatalf("bad ratings stored something: rating %+v, seq %d → %d", after.Rating, before.Seq, after.Seq)
	}
	full := strings.Repeat("好", handoff.MaxRatingComment)
	m, err := r.desk.Rate(ctx, c.ID, "r1", 5, "  "+full+"  ")
	if err != nil || m.Kind != handoff.KindRating || m.Rating == nil || m.Rating.Score != 5 || m.Seq != before.Seq+1 {
		t.Fatalf("Rate(5) = %+v, %v", m, err)
	}
	again, err := r.desk.Rate(ctx, c.ID, "r1", 5, full)
	if err != nil || again.Seq != m.Seq {
		t.Errorf("the same rating again = seq %d, %v; want the stored record %d", again.Seq, err, m.Seq)
	}
	got := r.get(t, c.ID)
	if got.Rating == nil || got.Rating.Score != 5 || got.Rating.Comment != full || got.Rating.Agent != "carol" || !got.Rating.Resolved.Equal(got.ClosedAt) {
		t.Fatalf("the conversation's rating = %+v, want 5 with the comment, by carol's resolution", got.Rating)
	}
	if _, err := r.desk.Rate(ctx, c.ID, "r2", 3, "一般"); err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, c.ID); got.Rating == nil || got.Rating.Score != 3 || got.Rating.Comment != "一般" {
		t.Errorf("after a second rating the conversation's rating = %+v, want 3 一般", got.Rating)
	}
	if n := r.kindRecords(t, c.ID, handoff.KindRating); n != 2 {
		t.Errorf("%d rating records, want 2", n)
	}
	// A message left instead of waiting closes the chat, but nobody served it.
	left := r.queued(t)
	if _, _, err := r.desk.LeaveMessage(ctx, left.ID, handoff.LeftMessage{Key: "k1", Text: "请回电"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.Rate(ctx, left.ID, "r3", 5, ""); !errors.Is(err, handoff.ErrNotRatable) {
		t.Errorf("rating a left message: %v, want ErrNotRatable", err)
	}
}

// unhelpfulSink records what the desk says did not help.
type unhelpfulSink struct {
	mu  sync.Mutex
	got [][2]string
}

func (s *unhelpfulSink) Unhelpful(question, article string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, [2]string{question, article})
}

// testFeedback: 有帮助 / 没帮助 only on the bot's answers; 没帮助 tells the editors and
// offers a person.
func testFeedback(t *testing.T, open Opener) {
	ctx := context.Background()
	sink := &unhelpfulSink{}
	r := newRig(t, open, func(c *handoff.DeskConfig) { c.Unhelpful = sink })
	c := r.start(t, 0)
	said := r.say(t, c.ID, "能开发票吗")
	msgs, err := r.desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var answer int64
	for _, m := range msgs {
		if handoff.IsBotAnswer(m) {
			answer = m.Seq
		}
	}
	if answer == 0 {
		t.Fatalf("no bot answer in %+v", msgs)
	}
	for _, seq := range []int64{said.Message.Seq, answer + 100, 0} {
		if _, err := r.desk.GiveFeedback(ctx, c.ID, "f0", seq, true); !errors.Is(err, handoff.ErrNotBotAnswer) {
			t.Errorf("feedback on seq %d: %v, want ErrNotBotAnswer", seq, err)
		}
	}
	if n := r.kindRecords(t, c.ID, handoff.KindFeedback); n != 0 {
		t.Fatalf("refused feedback stored %d records", n)
	}
	m, err := r.desk.GiveFeedback(ctx, c.ID, "f1", answer, true)
	if err != nil || m.Feedback == nil || !m.Feedback.Helpful || m.Feedback.Seq != answer {
		t.Fatalf("helpful feedback = %+v, %v", m, err)
	}
	if got := r.lastSystem(t, c.ID); got == handoff.DefaultPhrases.Unhelpful {
		t.Error("有帮助 offered a person")
	}
	if _, err := r.desk.GiveFeedback(ctx, c.ID, "f2", answer, false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.GiveFeedback(ctx, c.ID, "f2", answer, false); err != nil {
		t.Fatal(err) // sent again: stored once, told once
	}
	if got := r.lastSystem(t, c.ID); got != handoff.DefaultPhrases.Unhelpful {
		t.Errorf("after 没帮助 the log ends with %q, want the offer of a person", got)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.got) != 1 || sink.got[0] != [2]string{"能开发票吗", "invoice"} {
		t.Errorf("the editors were told %v, want the question once with its article", sink.got)
	}
}

// kindRecords counts conversation id's records of kind.
func (r *rig) kindRecords(t *testing.T, id string, kind handoff.Kind) int {
	t.Helper()
	msgs, err := r.desk.Messages(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Kind == kind {
			n++
		}
	}
	return n
}
