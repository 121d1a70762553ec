package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/kefu-im/kefu/internal/browsertest"
	"github.com/kefu-im/kefu/internal/files/filestest"
)

// TestPeopleBrowser is people, not logins, and the shopper's rating, in real browsers:
// the agent gives themselves a display name and a photo in 个人资料 and serves (接待中);
// the shopper who asks for a return is greeted by that name and never sees the login;
// the agent resolves the chat, the shopper rates it 5 stars with a comment, and the
// agent's chat view shows the rating. With KEFU_SCREENSHOTS set to a directory, screenshots
// go there, on a desktop and 375 px wide (people-*.png, rating-*.png).
func TestPeopleBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	b := browserSteps{t: t, shots: screenshotDir(t)}
	shot := b.screenshot
	k := startKefu(t, "")
	const user, password = "xiaomei01", "agent-secret"
	adminAdding(t, k, map[string]string{"username": user, "password": password, "role": "agent", "group": "aftersale"})
	photo := filepath.Join(t.TempDir(), "me.png")
	if err := os.WriteFile(photo, filestest.PNG(t, 96, 96, 140), 0o644); err != nil {
		t.Fatal(err)
	}

	agent := b.newTab(tab, chromedp.WithNewBrowserContext())
	b.do(agent, "the agent signs in, serving by default, and sets a display name and a photo",
		chromedp.EmulateViewport(1280, 900),
		signIn(k.url("/console"), user, password),
		chromedp.WaitVisible(chromedp.CSS(`#serving-btn[data-serving="on"]`)),
		chromedp.Click(chromedp.ID("profile-btn")),
		chromedp.WaitVisible(chromedp.ID("profile-form")),
		chromedp.SendKeys(chromedp.ID("profile-name"), "小美"),
		chromedp.SetUploadFiles(chromedp.ID("profile-avatar-input"), []string{photo}),
		waitJS(`!document.getElementById('profile-avatar').hidden && document.getElementById('profile-avatar').src.includes('/avatars/')`),
	)
	shot(agent, "people-1-console-profile.png")
	b.do(agent, "saving the profile",
		chromedp.Click(chromedp.ID("profile-submit")),
		waitJS(`document.getElementById('me-name').textContent === '小美（`+user+`）' && !!document.querySelector('#me-avatar img')`),
	)

	b.front(tab)
	status := inWidget(`[data-testid="kefu-status"]`) + `[0]?.textContent`
	b.do(tab, "the shopper asks for a return and is greeted by 小美",
		chromedp.EmulateViewport(1280, 900),
		askInWidget(k.url("/"), "我要退货，收到的杯子碎了"),
		waitJS(`window.Kefu.state().status === "active"`),
		waitJS(status+` === "客服 小美 为您服务"`),
		waitJS(inWidget(`[data-testid="kefu-msg"][data-from="system"]`)+`.some(m => m.textContent.includes("客服小美"))`),
	)
	conv, err := chromedp.Run(b.within(tab), chromedp.Evaluate[string](`window.Kefu.state().conversation`))
	if err != nil || conv == "" {
		t.Fatalf("the widget's conversation: %q, %v", conv, err)
	}

	b.front(agent)
	mine := `#mine-list [data-conversation="` + conv + `"]`
	b.do(agent, "the agent answers",
		chromedp.WaitVisible(chromedp.CSS(mine)),
		chromedp.Click(chromedp.CSS(mine)),
		// The composer opens once the chat is read and shown to be the agent's own.
		chromedp.WaitEnabled(chromedp.ID("reply-input")),
		chromedp.SendKeys(chromedp.ID("reply-input"), "您好，请拍一张杯子破损处的照片，我马上为您处理退款。\n"),
		waitJS(`[...document.querySelectorAll('[data-testid="chat-msg"][data-from="agent"]')].length === 1`),
	)

	b.front(tab)
	b.do(tab, "the shopper sees 小美's reply with her photo, and no login anywhere",
		waitJS(inWidget(`[data-testid="kefu-msg"][data-from="agent"] [data-testid="kefu-agent-avatar"]`)+`.some(i => i.complete && i.naturalWidth === 96)`),
		waitJS(`!document.querySelector("kefu-widget").shadowRoot.textContent.includes("`+user+`")`),
	)
	shot(tab, "people-2-widget.png")
	b.do(tab, "on a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	shot(tab, "people-3-widget-375.png")

	b.front(agent)
	b.do(agent, "the agent resolves the chat",
		chromedp.Click(chromedp.ID("resolve-btn")),
		waitJS(`document.querySelector('[data-testid="chat-status"]').textContent.includes('已结束')`),
	)

	b.front(tab)
	star5 := inWidget(`[data-testid="kefu-star"][data-score="5"]`) + `[0]`
	b.do(tab, "the shopper rates the chat 5 stars with a comment",
		chromedp.EmulateViewport(1280, 900),
		waitJS(inWidget(`[data-testid="kefu-rating"]`)+`.length === 1`),
		chromedp.Evaluate[chromedp.Void](star5+`.click()`),
		chromedp.SendKeys(shadow("kefu-rating-comment"), "小美很耐心，退款也很快"),
	)
	shot(tab, "rating-1-widget-card.png")
	b.do(tab, "submitting",
		chromedp.Click(shadow("kefu-rating-submit")),
		waitJS(inWidget(`[data-testid="kefu-rating-done"][data-score="5"]:not([hidden])`)+`.length === 1`),
	)
	shot(tab, "rating-2-widget-rated.png")
	b.do(tab, "on a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	shot(tab, "rating-3-widget-rated-375.png")

	b.front(agent)
	b.do(agent, "the agent sees the rating on the chat",
		waitJS(`document.getElementById('ctx-rating').getAttribute('data-score') === '5' && document.getElementById('ctx-rating').textContent.includes('小美很耐心')`),
		waitJS(`[...document.querySelectorAll('[data-testid="chat-msg"][data-kind="rating"]')].some(e => e.textContent.includes('5 星'))`),
	)
	shot(agent, "rating-4-console.png")
	var got struct {
		Conversation struct {
			Rating *struct {
				Score   int
				Comment string
			}
		}
	}
	a := login(t, k, user, password)
	if code := a.do("GET", "/api/conversations/"+conv, nil, &got); code != 200 || got.Conversation.Rating == nil || got.Conversation.Rating.Score != 5 {
		t.Errorf("GET the conversation: %d, rating %+v; want score 5", code, got.Conversation.Rating)
	}
}
