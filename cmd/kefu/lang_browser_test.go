package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/kefu-im/kefu/internal/browsertest"
)

// cjkText matches Chinese characters and CJK punctuation.
var cjkText = regexp.MustCompile(`[\p{Han}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]`)

// widgetText is a JS expression for what the widget's panel shows: its texts, and the
// placeholders, labels and titles of its controls.
const widgetText = `(() => {
	const p = document.querySelector("kefu-widget").shadowRoot.querySelector(".panel");
	const attrs = [...p.querySelectorAll("[placeholder],[aria-label],[title]")]
		.flatMap(e => [e.getAttribute("placeholder"), e.getAttribute("aria-label"), e.getAttribute("title")]);
	return [p.innerText, ...attrs.filter(Boolean)].join("\n");
})()`

// TestEnglishBrowser: a shop embeds the English widget (data-lang="en") on the demo
// page; its controls are in English, and asking for a person while nobody is online
// brings the English notices (the transfer, the offer to leave a message with the
// opening hours) and no Chinese. The admin then edits the English greeting in the
// console's 话术设置 (a greeting with a phone number is refused first), and the next
// shopper is greeted with it. Last, the admin adds a webhook in the console's Webhooks
// screen, tests it and deletes it. With KEFU_SCREENSHOTS set, the screenshots go there.
func TestEnglishBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	b := browserSteps{t: t, shots: screenshotDir(t)}
	k := startKefu(t, "", "KEFU_WEBHOOK_ALLOW_PRIVATE=1")
	adminAdding(t, k)
	password := k.adminPassword()

	b.do(tab, "the English widget opens on the demo page",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(k.url("/?lang=en")),
		chromedp.WaitVisible(shadow("kefu-launcher")),
		chromedp.Click(shadow("kefu-launcher")),
		chromedp.WaitVisible(shadow("kefu-input")),
		waitJS(inWidget(`[data-greeting]`)+`.some(g => g.textContent.includes("How can I help you today?"))`),
	)
	ui, err := chromedp.Run(b.within(tab), chromedp.Evaluate[string](widgetText))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Talk to a person", "Send", "Assistant", "Type your question"} {
		if !strings.Contains(ui, want) {
			t.Errorf("the English widget lacks %q: %q", want, ui)
		}
	}
	if cjkText.MatchString(ui) {
		t.Errorf("the English widget shows Chinese: %q", ui)
	}
	b.screenshot(tab, "english-1-widget.png")

	b.do(tab, "the shopper asks for a person: English notices",
		chromedp.Click(shadow("kefu-handoff")),
		waitJS(`window.Kefu.state().status === "queued"`),
		waitJS(inWidget(`[data-testid="kefu-msg"][data-from="system"]`)+`.some(m => m.textContent.includes("Connecting you to a customer service agent"))`),
		chromedp.WaitVisible(shadow("kefu-leave")),
		waitJS(inWidget(`[data-testid="kefu-leave-title"]`)+`.some(m => m.textContent.includes("every day 9:00–23:00"))`),
	)
	ui, err = chromedp.Run(b.within(tab), chromedp.Evaluate[string](widgetText))
	if err != nil {
		t.Fatal(err)
	}
	if cjkText.MatchString(ui) {
		t.Errorf("after asking for a person the English widget shows Chinese: %q", ui)
	}
	b.screenshot(tab, "english-2-handoff.png")

	// After a reload the widget resumes the same chat; the token went in the hello
	// frame, never in a websocket URL (which proxies log).
	conv, err := chromedp.Run(b.within(tab), chromedp.Evaluate[string](`window.Kefu.state().conversation`))
	if err != nil || conv == "" {
		t.Fatalf("the widget's conversation: %q, %v", conv, err)
	}
	if _, err := chromedp.Call(b.within(tab), page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		window.__wsURLs = [];
		const WS = window.WebSocket;
		window.WebSocket = function (url, protocols) { window.__wsURLs.push(String(url)); return new WS(url, protocols); };
		window.WebSocket.prototype = WS.prototype;`}); err != nil {
		t.Fatal(err)
	}
	b.do(tab, "after a reload the widget resumes the chat",
		chromedp.Reload(),
		waitJS(`!!window.Kefu && window.Kefu.state().connected && window.Kefu.state().status === "queued" && window.Kefu.state().conversation === `+strconv.Quote(conv)),
	)
	urls, err := chromedp.Run(b.within(tab), chromedp.Evaluate[[]string](`window.__wsURLs`))
	if err != nil || len(urls) == 0 {
		t.Fatalf("websocket URLs after the reload: %q, %v", urls, err)
	}
	for _, u := range urls {
		if strings.Contains(u, "token") || strings.Contains(u, conv) {
			t.Errorf("the websocket URL %q names the conversation or its token", u)
		}
	}
	b.do(tab, "on a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	b.screenshot(tab, "english-3-handoff-mobile.png")

	// The admin edits the English greeting in 话术设置.
	const greeting = "Welcome to Mountain Shop! Ask us anything about sizes, delivery or returns."
	admin := b.newTab(tab, chromedp.WithNewBrowserContext())
	greetingText := chromedp.CSS(`#pb-list [data-kind="phrases"][data-key="greeting"] textarea`)
	b.do(admin, "the admin opens 话术设置 in English",
		chromedp.EmulateViewport(1280, 900),
		signIn(k.url("/console"), "admin", password),
		chromedp.WaitVisible(chromedp.ID("phrasebook-btn")),
		chromedp.Click(chromedp.ID("phrasebook-btn")),
		chromedp.WaitVisible(chromedp.CSS(`#pb-list [data-key="greeting"]`)),
		chromedp.Click(chromedp.ID("pb-lang-en")),
		waitJS(`document.querySelector('#pb-list [data-kind="phrases"][data-key="greeting"] textarea').value.startsWith("Hello!")`),
	)
	selectGreeting := chromedp.Evaluate[chromedp.Void](`document.querySelector('#pb-list [data-kind="phrases"][data-key="greeting"] textarea').select()`)
	b.do(admin, "a greeting with a phone number is refused with the guard's reason",
		selectGreeting,
		chromedp.SendKeys(greetingText, "Call us on 13800138000 for a discount!"),
		chromedp.Click(chromedp.ID("pb-save")),
		chromedp.WaitVisible(chromedp.ID("pb-error")),
		waitJS(`document.getElementById("pb-error").textContent.includes("手机号")`),
		waitJS(`!!document.querySelector('#pb-list [data-key="greeting"].is-invalid')`),
	)
	b.screenshot(admin, "phrasebook-1-refused.png")
	b.do(admin, "the admin saves a good greeting",
		selectGreeting,
		chromedp.SendKeys(greetingText, greeting),
		chromedp.Click(chromedp.ID("pb-save")),
		waitJS(`[...document.querySelectorAll('[data-testid="toast"]')].some(t => t.textContent.includes("话术已保存"))`),
		chromedp.WaitVisible(chromedp.CSS(`#pb-list [data-key="greeting"] [data-testid="pb-reset"]`)),
	)
	b.screenshot(admin, "phrasebook-2-saved.png")
	b.do(admin, "on a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	b.screenshot(admin, "phrasebook-3-mobile.png")

	// The next English shopper is greeted with it.
	next := b.newTab(tab, chromedp.WithNewBrowserContext())
	b.do(next, "a new shopper sees the edited greeting",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(k.url("/?lang=en")),
		chromedp.WaitVisible(shadow("kefu-launcher")),
		chromedp.Click(shadow("kefu-launcher")),
		waitJS(inWidget(`[data-greeting]`)+`.some(g => g.textContent.includes("Welcome to Mountain Shop!"))`),
	)
	b.screenshot(next, "english-4-edited-greeting.png")

	// The admin adds a webhook in the console's Webhooks screen, tests it (测试) and
	// reads its delivery log; the receiver got the ping, signed.
	rcv := newHookReceiver(t, "console-hook-secret")
	b.front(admin)
	b.do(admin, "the admin opens Webhooks; a URL that is no http(s) one is refused",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(k.url("/console")),
		chromedp.WaitVisible(chromedp.ID("webhooks-btn")),
		chromedp.Click(chromedp.ID("webhooks-btn")),
		chromedp.WaitVisible(chromedp.ID("webhook-form")),
		waitJS(`document.querySelectorAll('[data-testid="webhook-event"]:checked').length === 7`),
		chromedp.SendKeys(chromedp.ID("webhook-url"), "ftp://crm.example.com/hook"),
		chromedp.Click(chromedp.ID("webhook-submit")),
		chromedp.WaitVisible(chromedp.ID("webhook-form-error")),
	)
	b.do(admin, "the admin adds the receiver and tests it",
		selectAll("webhook-url"),
		chromedp.SendKeys(chromedp.ID("webhook-url"), rcv.URL+"/kefu"),
		chromedp.SendKeys(chromedp.ID("webhook-secret"), "console-hook-secret"),
		chromedp.Click(chromedp.ID("webhook-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="webhook-row"]`)),
		waitJS(`document.getElementById("webhook-form-ok").textContent.includes("console-hook-secret")`),
		waitJS(`!document.querySelector('[data-testid="webhook-row"]').textContent.includes("console-hook-secret")`),
		chromedp.Click(chromedp.CSS(`[data-testid="webhook-test"]`)),
		waitJS(`[...document.querySelectorAll('[data-testid="webhook-log-row"][data-result="ok"]')].some(r => r.textContent.includes("ping") && r.textContent.includes("HTTP 200"))`),
	)
	if got := rcv.events(); len(got) != 1 || got[0] != "ping" {
		t.Errorf("the receiver got %q, want one ping", got)
	}
	b.screenshot(admin, "webhooks-1-tested.png")
	b.do(admin, "on a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	b.screenshot(admin, "webhooks-2-mobile.png")
	b.do(admin, "the admin deletes it, confirming on the button",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Click(chromedp.CSS(`[data-testid="webhook-delete"]`)),
		waitJS(`document.querySelector('[data-testid="webhook-delete"]').textContent === "确认删除"`),
		chromedp.Click(chromedp.CSS(`[data-testid="webhook-delete"]`)),
		waitJS(`!document.querySelector('[data-testid="webhook-row"]') && document.getElementById("webhooks-body").textContent.includes("暂无 Webhook")`),
	)
}
