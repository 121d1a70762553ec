package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/kefu-im/kefu/internal/browsertest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/knowledge"
)

// TestSmallTalkBrowser is a polite shopper in a real browser: 你好 is greeted, a real
// question answered, and 谢谢 after the answer closes the loop with 「还有其他可以帮您的
// 吗」; nothing goes to a person nor to the editors' unanswered questions, and the
// small-talk replies are marked for the widget. With KEFU_SCREENSHOTS set to a directory it
// keeps screenshots there (smalltalk-*.png, desktop and 375 px wide).
func TestSmallTalkBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	b := browserSteps{t: t, shots: screenshotDir(t)}
	k := startKefu(t, "")
	admin := adminAdding(t, k)
	phrases, err := knowledge.Phrases()
	if err != nil {
		t.Fatal(err)
	}

	bot := inWidget(`[data-testid="kefu-msg"][data-from="bot"]`)
	// The messages have faded in: a screenshot shows them as the shopper reads them.
	settled := inWidget(`[data-testid="kefu-msg"]`) + `.every(m => getComputedStyle(m).opacity === "1")`
	say := func(text string) chromedp.Action[chromedp.Void] {
		return chromedp.SendKeys(shadow("kefu-input"), text+kb.Enter)
	}
	b.do(tab, "the shopper says 你好 and is greeted",
		chromedp.EmulateViewport(1280, 900),
		askInWidget(k.url("/"), "你好"),
		waitJS(bot+`.some(m => m.dataset.smalltalk === "greeting" && m.textContent.includes(`+quoteJS(phrases["smalltalk_greeting"])+`))`),
	)
	b.do(tab, "a real question is answered from an article",
		say("可以开发票吗？"),
		waitJS(bot+`.some(m => !m.dataset.smalltalk && m.querySelector(".src"))`),
	)
	b.do(tab, "谢谢 after the answer closes the loop",
		say("谢谢"),
		waitJS(bot+`.some(m => m.dataset.smalltalk === "thanks" && m.textContent.includes(`+quoteJS(phrases["smalltalk_thanks_more"])+`))`),
		waitJS(`window.Kefu.state().status === "bot"`),
		waitJS(settled),
	)
	b.screenshot(tab, "smalltalk-desktop.png")
	b.do(tab, "on a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile), waitJS(settled))
	b.screenshot(tab, "smalltalk-mobile.png")

	conv, err := chromedp.Run(b.within(tab), chromedp.Evaluate[string](`window.Kefu.state().conversation`))
	if err != nil || conv == "" {
		t.Fatalf("the widget's conversation: %q, %v", conv, err)
	}
	var got struct {
		Conversation struct{ Status string }
		Messages     []struct{ Kind, From, Text string }
	}
	if status := admin.do("GET", "/api/conversations/"+conv, nil, &got); status != 200 {
		t.Fatalf("GET the conversation: %d", status)
	}
	var log []string
	for _, m := range got.Messages {
		log = append(log, m.Kind+"/"+m.From)
		if m.Kind == "handoff" {
			t.Errorf("the polite shopper was handed off: %+v", got.Messages)
		}
	}
	if got.Conversation.Status != "bot" || len(got.Messages) != 6 {
		t.Errorf("conversation %s with %q, want the bot's with three messages and three replies", got.Conversation.Status, log)
	}

	// The editors' unanswered questions: an out-of-scope question of the public bot
	// API is not recorded; one asked in a conversation afterwards is (in order, after
	// anything recorded before), and it is the only one.
	resp, err := http.Post(k.url("/api/bot/ask"), "application/json", bytes.NewReader([]byte(`{"text":"明天北京下雪吗"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s, _ := dialShopper(t, k, "")
	s.send(map[string]any{"type": "message", "id": "q1", "text": "明天上海下雨吗"})
	s.until("the hand-off", isType("handoff"))
	var inbox struct {
		Total  int
		Groups []struct{ Text string }
	}
	timetest.Poll(t, 10*time.Second, "the out-of-scope question is recorded", func() bool {
		return admin.do("GET", "/api/unanswered", nil, &inbox) == 200 && inbox.Total > 0
	})
	if inbox.Total != 1 || !strings.Contains(inbox.Groups[0].Text, "上海") {
		t.Errorf("unanswered questions %+v, want only the out-of-scope one", inbox)
	}
}
