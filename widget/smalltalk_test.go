package widget_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/triage"
)

// TestAskSmallTalk: POST /api/bot/ask answers small talk with action smalltalk, its
// intent and a reply, never a hand-off; a question opened by a greeting is still asked.
func TestAskSmallTalk(t *testing.T) {
	e := newEnv(t, setup{})
	for text, intent := range map[string]triage.Intent{
		"你好": triage.IntentGreeting, "谢谢": triage.IntentThanks, "好的谢谢": triage.IntentThanks,
		"在吗": triage.IntentPresence, "hello": triage.IntentGreeting, "thanks": triage.IntentThanks,
	} {
		resp, raw := e.post(t, shopOrigin, mustJSON(map[string]string{"text": text}))
		var d bot.Decision
		if err := json.Unmarshal(raw, &d); resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("%s: status %d, body %s, %v", text, resp.StatusCode, raw, err)
		}
		// The reply is in the question's language: English for Latin letters alone.
		lang := handoff.LangZH
		if text[0] < 0x80 {
			lang = handoff.LangEN
		}
		want := e.desk.SmallTalkReply(lang, intent, false)
		if d.Action != triage.SmallTalk || d.Intent != intent || d.Reason != "" || d.Text != want {
			t.Errorf("%s: %s/%s reason %q text %q; want smalltalk/%s with %q", text, d.Action, d.Intent, d.Reason, d.Text, intent, want)
		}
		if cjk.MatchString(d.Text) == (lang == handoff.LangEN) {
			t.Errorf("%s: reply %q is not in %s", text, d.Text, lang)
		}
	}
	// lang chooses the language whatever the question's script.
	_, raw := e.post(t, shopOrigin, mustJSON(map[string]string{"text": "你好", "lang": "en"}))
	var en bot.Decision
	if err := json.Unmarshal(raw, &en); err != nil || en.Text != handoff.DefaultPhrasesEN.SmallTalkGreeting {
		t.Errorf("你好 with lang en: %s, %v; want the English greeting", raw, err)
	}
	_, raw = e.post(t, shopOrigin, mustJSON(map[string]string{"text": "你好，" + askInvoice}))
	var d bot.Decision
	if err := json.Unmarshal(raw, &d); err != nil || d.Action != triage.Answer || d.Article == nil || d.Article.ID != invoiceArticle.ID {
		t.Errorf("a greeting and a question: %s, %v; want the invoice answer", raw, err)
	}
}

// TestSmallTalkFrames: the bot's reply to small talk is a bot message frame marked with
// smalltalk: <intent>; the chat stays the bot's, and an answer carries no mark.
func TestSmallTalkFrames(t *testing.T) {
	e := newEnv(t, setup{})
	sh := e.connect(t, "")
	sh.say(t, "m1", askInvoice)
	readUntil(t, sh.c, "the answer", isMessageFrom("bot"))
	sh.say(t, "m2", "谢谢！")
	fs := readUntil(t, sh.c, "the reply", all(isMessageFrom("bot"), isSeq(4)))
	reply, _ := find(fs, isSeq(4))
	checkFields(t, reply, map[string]any{
		"type": "message", "seq": 4, "from": "bot", "text": handoff.DefaultPhrases.SmallTalkThanksMore, "smalltalk": "thanks", "ts": nil,
	})
	for _, m := range e.logOf(t, sh.conv) {
		if m.From == handoff.FromBot && m.Seq == 2 && m.SmallTalk != "" {
			t.Errorf("the answer is marked as small talk: %+v", m)
		}
	}
	if c, err := e.desk.Conversation(context.Background(), sh.conv); err != nil || c.Status != handoff.StatusBot || c.Seq != 4 {
		t.Errorf("conversation = %+v, %v; want the bot's, seq 4", c, err)
	}
}
