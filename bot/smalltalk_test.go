package bot_test

import (
	"context"
	"testing"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/triage"
)

func TestSmallTalk(t *testing.T) {
	tests := []struct {
		in   string
		want triage.Intent // "" for not small talk
	}{
		// Greetings.
		{"你好", triage.IntentGreeting},
		{"您好！", triage.IntentGreeting},
		{"你好呀～", triage.IntentGreeting},
		{"哈喽", triage.IntentGreeting},
		{"早上好", triage.IntentGreeting},
		{"亲", triage.IntentGreeting},
		{"客服你好", triage.IntentGreeting},
		{"hi", triage.IntentGreeting},
		{"Hello!", triage.IntentGreeting},
		{"ＨＥＬＬＯ", triage.IntentGreeting},
		{"hiii", triage.IntentGreeting},
		{"hey there", triage.IntentGreeting},
		{"good morning", triage.IntentGreeting},
		{"👋", triage.IntentGreeting},
		// Presence checks.
		{"在吗", triage.IntentPresence},
		{"在吗？？", triage.IntentPresence},
		{"亲在吗", triage.IntentPresence},
		{"有人吗", triage.IntentPresence},
		{"你好，在吗", triage.IntentPresence},
		{"客服在不在", triage.IntentPresence},
		{"are you there?", triage.IntentPresence},
		{"hello anyone there", triage.IntentPresence},
		// Thanks.
		{"谢谢", triage.IntentThanks},
		{"好的谢谢", triage.IntentThanks},
		{"好的，谢谢！", triage.IntentThanks},
		{"谢谢啦", triage.IntentThanks},
		{"多谢", triage.IntentThanks},
		{"非常感谢", triage.IntentThanks},
		{"辛苦了", triage.IntentThanks},
		{"谢谢亲", triage.IntentThanks},
		{"谢谢你的帮助", triage.IntentThanks},
		{"嗯嗯谢谢", triage.IntentThanks},
		{"3Q", triage.IntentThanks},
		{"thanks", triage.IntentThanks},
		{"Thank you so much!", triage.IntentThanks},
		{"ok thanks", triage.IntentThanks},
		{"ok，谢谢", triage.IntentThanks},
		{"thx 🙏", triage.IntentThanks},
		{"🙏", triage.IntentThanks},
		// Goodbyes.
		{"拜拜", triage.IntentGoodbye},
		{"再见～", triage.IntentGoodbye},
		{"谢谢，拜拜", triage.IntentGoodbye},
		{"没有了，谢谢", triage.IntentGoodbye},
		{"不用了谢谢", triage.IntentGoodbye},
		{"886", triage.IntentGoodbye},
		{"bye", triage.IntentGoodbye},
		{"ok bye", triage.IntentGoodbye},
		{"that's all, thanks", triage.IntentGoodbye},
		// Acknowledgements.
		{"好的", triage.IntentAck},
		{"好", triage.IntentAck},
		{"嗯嗯嗯", triage.IntentAck},
		{"哦哦", triage.IntentAck},
		{"收到", triage.IntentAck},
		{"知道了", triage.IntentAck},
		{"好的呢亲", triage.IntentAck},
		{"ok", triage.IntentAck},
		{"OKKK", triage.IntentAck},
		{"got it", triage.IntentAck},
		{"🙂", triage.IntentAck},
		{"👍👍", triage.IntentAck},
		{":)", triage.IntentAck},
		// Not small talk: a question with small talk around it, or nothing at all.
		{"你好，我想退货", ""},
		{"你好我想退货", ""},
		{"hi, where is my order", ""},
		{"hello, do you ship to Canada?", ""},
		{"在吗？我的快递到哪了", ""},
		{"谢谢，请问运费多少", ""},
		{"ok, when will it arrive", ""},
		{"好评返现吗", ""},
		{"早点发货", ""},
		{"可以开发票吗", ""},
		{"没了吗", ""},
		{"人工客服在吗", ""},
		{"转人工", ""},
		{"客服", ""},
		{"你", ""},
		{"thanks but I want a refund", ""},
		{"thank you for nothing", ""},
		{"123456789", ""},
		{"？？？", ""},
		{"", ""},
		{"ありがとう", ""},
	}
	for _, tt := range tests {
		got, ok := bot.SmallTalk(tt.in)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("SmallTalk(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

// TestDecideSmallTalk: small talk gets its intent, no text (the desk words the reply)
// and searches nothing; small talk that opens a question is left out of the search, so
// the question is answered.
func TestDecideSmallTalk(t *testing.T) {
	b := newBot(t, bot.Config{})
	ctx := context.Background()
	for _, tt := range []struct {
		in     string
		intent triage.Intent
	}{
		{"谢谢", triage.IntentThanks},
		{"你好", triage.IntentGreeting},
		{"在吗", triage.IntentPresence},
		{"hello", triage.IntentGreeting},
	} {
		in := bot.Input{Text: tt.in, Previous: &bot.Turn{Text: "能开发票吗", Article: "invoice"}}
		d, err := b.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, in, d)
		if d.Action != triage.SmallTalk || d.Intent != tt.intent || d.Text != "" || len(d.Hits) != 0 {
			t.Errorf("Decide(%q) = %s/%s %q with %d hits; want smalltalk/%s, no text or hits", tt.in, d.Action, d.Intent, d.Text, len(d.Hits), tt.intent)
		}
	}
	for _, q := range []string{"你好，可以开发票吗", "在吗？？可以开发票吗", "亲 可以开发票吗"} {
		d, err := b.Decide(ctx, bot.Input{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if d.Action != triage.Answer || d.Article == nil || d.Article.ID != "invoice" {
			t.Errorf("Decide(%q) = %s %+v; want the invoice article's answer", q, d.Action, d.Article)
		}
	}
	d, err := b.Decide(ctx, bot.Input{Text: "你好，我想退货"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != triage.Handoff || d.Reason != triage.ReasonAfterSales {
		t.Errorf("Decide(你好，我想退货) = %s/%s; want an after-sales hand-off", d.Action, d.Reason)
	}
}
