package widget_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/widget"
)

// cjk matches Chinese characters and CJK punctuation.
var cjk = regexp.MustCompile(`[\p{Han}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]`)

// checkNoCJK fails for every frame that holds Chinese: none of what the desk says to an
// English shopper may.
func checkNoCJK(t *testing.T, what string, fs []frame) {
	t.Helper()
	for _, f := range fs {
		b, _ := json.Marshal(f)
		if cjk.Match(b) {
			t.Errorf("%s: frame with Chinese: %s", what, b)
		}
	}
}

// TestEnglishShopper: a shopper whose widget speaks English (lang=en) has the language
// echoed in the welcome with an English greeting and opening hours; asking for a person
// (「talk to a person」), being offered to leave a message while nobody is online, being
// taken by an agent, an error and the chat's end all come in English: no frame holds a
// Chinese character. The conversation keeps its language; a shopper without one is
// Chinese.
func TestEnglishShopper(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		ctx := context.Background()
		e := newEnv(t, setup{engine: eng, gateway: func(c *widget.Config) { c.Greeting = "" }})
		sh := e.connect(t, "lang=en-GB")
		checkFields(t, sh.welcome, map[string]any{
			"type": "welcome", "conversation": nil, "token": nil, "seq": 0, "epoch": nil, "status": "bot",
			"lang": "en", "greeting": handoff.DefaultPhrasesEN.Greeting, "hours": "every day 9:00–23:00, Asia/Shanghai time",
		})
		if _, err := e.desk.Conversation(ctx, sh.conv); !errors.Is(err, handoff.ErrNotFound) {
			t.Fatalf("the conversation before the first message: %v; want none stored", err)
		}

		sh.say(t, "m1", "talk to a person")
		transfer := func(f frame) bool {
			return isMessageFrom("system")(f) && f.str("text") == handoff.DefaultPhrasesEN.TransferPresale
		}
		offer := func(f frame) bool { return f.str("type") == "leave_message" && f.str("reason") == handoff.OfferOffline }
		fs := readUntil(t, sh.c, "the transfer message and the leave-a-message offer", all(transfer, offer))
		if c, err := e.desk.Conversation(ctx, sh.conv); err != nil || c.Lang != handoff.LangEN {
			t.Fatalf("the conversation's language = %q, %v; want en", c.Lang, err)
		}
		if f, _ := find(fs, offer); !strings.Contains(f.str("text"), "every day 9:00–23:00") {
			t.Errorf("the offer = %v, want the English no_agent text with the opening hours", f)
		}
		fs = append(fs, sh.barrier(t)...) // an error frame, in English
		e.online(t, "alice", handoff.GroupPresale)
		if _, err := e.desk.Claim(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Claim: %v", err)
		}
		joined := strings.ReplaceAll(handoff.DefaultPhrasesEN.AgentJoined, "{agent}", e.desk.Person(ctx, "alice").Name) // the shown name, never the login
		fs = append(fs, readUntil(t, sh.c, "the agent's greeting", func(f frame) bool { return f.str("text") == joined })...)
		if _, err := e.desk.Resolve(ctx, sh.conv, "alice"); err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		fs = append(fs, readUntil(t, sh.c, "the closing", func(f frame) bool { return f.str("text") == handoff.DefaultPhrasesEN.Resolved })...)
		checkNoCJK(t, "after asking for a person", fs)

		zh := e.connect(t, "")
		if zh.welcome.str("lang") != "zh" || !cjk.MatchString(zh.welcome.str("greeting")) {
			t.Errorf("a shopper without a language: welcome %v, want lang zh and the Chinese greeting", zh.welcome)
		}
	})
}
