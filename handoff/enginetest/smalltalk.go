package enginetest

import (
	"context"
	"slices"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/triage"
)

// talkBot is ShopBot that also reads small talk, as package bot does: 谢谢 thanks, 在吗
// checks presence, 你好 greets, 好的 acknowledges.
var talkBot = append(Bot{
	{"谢谢", handoff.BotDecision{Action: triage.SmallTalk, Intent: triage.IntentThanks, Text: "不客气"}},
	{"在吗", handoff.BotDecision{Action: triage.SmallTalk, Intent: triage.IntentPresence, Text: "在的"}},
	{"你好", handoff.BotDecision{Action: triage.SmallTalk, Intent: triage.IntentGreeting, Text: "您好"}},
	{"好的", handoff.BotDecision{Action: triage.SmallTalk, Intent: triage.IntentAck, Text: "好的"}},
}, ShopBot...)

// previousBot is talkBot recording the previous turn each question came with.
type previousBot struct{ prev []*handoff.Turn }

func (b *previousBot) Decide(ctx context.Context, q handoff.Question) (handoff.BotDecision, error) {
	b.prev = append(b.prev, q.Previous)
	return talkBot.Decide(ctx, q)
}

// testSmallTalk: small talk gets the desk's phrase as a bot message marked with its
// intent, is not kept among the bot's decisions and never hands off; thanks right after
// an answer closes the loop; small talk in between keeps a follow-up's context; while
// the chat waits, small talk is told it waits and the queue stays as it was; while an
// agent has the chat the bot says nothing; after the resolve it does not reopen the chat.
func testSmallTalk(t *testing.T, open Opener) {
	ctx := context.Background()
	bot := &previousBot{}
	r := newRig(t, open, func(c *handoff.DeskConfig) { c.Bot = bot })
	c := r.start(t, 0)
	r.say(t, c.ID, "你好")
	r.say(t, c.ID, "可以开发票吗")
	r.say(t, c.ID, "好的")
	said := r.say(t, c.ID, "谢谢")
	if said.Decision == nil || said.Decision.Action != triage.SmallTalk || said.Decision.Intent != triage.IntentThanks {
		t.Fatalf("谢谢: decision %+v, want small talk / thanks", said.Decision)
	}
	p := handoff.DefaultPhrases
	want := []string{"shopper:你好", "bot:" + p.SmallTalkGreeting, "shopper:可以开发票吗", "bot:可以开发票。",
		"shopper:好的", "bot:" + p.SmallTalkAck, "shopper:谢谢", "bot:" + p.SmallTalkThanksMore}
	if got := r.texts(t, c.ID); !slices.Equal(got, want) {
		t.Fatalf("log %q, want %q", got, want)
	}
	if got := r.get(t, c.ID); got.Status != handoff.StatusBot {
		t.Errorf("after small talk the chat is %s, want still the bot's", got.Status)
	}
	msgs, err := r.desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var marks []triage.Intent
	for _, m := range msgs {
		if m.From == handoff.FromBot {
			marks = append(marks, m.SmallTalk)
		}
	}
	if want := []triage.Intent{triage.IntentGreeting, "", triage.IntentAck, triage.IntentThanks}; !slices.Equal(marks, want) {
		t.Errorf("bot messages marked %q, want %q", marks, want)
	}
	// A question after the small talk still follows the answer before it.
	r.say(t, c.ID, "那电子的呢")
	if prev := bot.prev[len(bot.prev)-1]; prev == nil || prev.Article != "invoice" || prev.Text != "可以开发票吗" {
		t.Errorf("a follow-up after small talk came with previous turn %+v, want the invoice question", prev)
	}
	decs, err := r.e.Annals.Decisions(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range decs {
		if d.Action == triage.SmallTalk {
			t.Errorf("small talk kept among the decisions: %+v", decs)
		}
	}
	if len(decs) != 2 {
		t.Errorf("kept decisions %+v, want the answer and the follow-up's", decs)
	}

	// Thanks out of the blue is thanked without the follow-up question.
	fresh := r.start(t, 0)
	r.say(t, fresh.ID, "谢谢")
	if got := r.texts(t, fresh.ID); !slices.Equal(got, []string{"shopper:谢谢", "bot:" + p.SmallTalkThanks}) {
		t.Errorf("thanks first: log %q", got)
	}

	// While waiting: a reply that says so, and the queue as it was.
	w := r.asking(t, r.desk, 0)
	before := r.get(t, w.ID)
	r.say(t, w.ID, "在吗")
	r.say(t, w.ID, "谢谢")
	got := r.get(t, w.ID)
	if got.Status != handoff.StatusQueued || got.Group != before.Group || !got.EnqueuedAt.Equal(before.EnqueuedAt) || got.Score != before.Score || got.Reason != before.Reason {
		t.Errorf("after small talk while waiting: %+v, want it waiting as before %+v", got, before)
	}
	texts := r.texts(t, w.ID)
	if want := []string{"shopper:在吗", "bot:" + p.SmallTalkPresenceQueued, "shopper:谢谢", "bot:" + p.SmallTalkQueued}; !slices.Equal(texts[len(texts)-4:], want) {
		t.Errorf("log ends %q, want %q", texts[len(texts)-4:], want)
	}

	// With an agent: silence, as for any message.
	r.online(t, "alice")
	if _, err := r.desk.Claim(ctx, w.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	r.say(t, w.ID, "你好")
	if texts := r.texts(t, w.ID); texts[len(texts)-1] != "shopper:你好" {
		t.Errorf("small talk to an agent's chat got %q", texts[len(texts)-1])
	}

	// After the agent's resolve: thanks gets a reply and the chat stays resolved; a
	// question reopens it to the agent as before.
	if _, err := r.desk.Resolve(ctx, w.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	r.say(t, w.ID, "谢谢")
	if got := r.get(t, w.ID); got.Status != handoff.StatusResolved {
		t.Errorf("thanks after the resolve: the chat is %s, want resolved", got.Status)
	}
	texts = r.texts(t, w.ID)
	if want := []string{"shopper:谢谢", "bot:" + p.SmallTalkThanks}; !slices.Equal(texts[len(texts)-2:], want) {
		t.Errorf("log ends %q, want %q", texts[len(texts)-2:], want)
	}
	r.say(t, w.ID, "可以开发票吗")
	if got := r.get(t, w.ID); got.Status != handoff.StatusActive || got.Agent != "alice" {
		t.Errorf("a question after the resolve: the chat is %s with %q, want reopened to alice", got.Status, got.Agent)
	}
}
