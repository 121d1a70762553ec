package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kefu-im/kefu/internal/browsertest"
)

// inWidget is a JS expression for the shop widget's elements matching sel.
func inWidget(sel string) string {
	return `[...(document.querySelector("kefu-widget")?.shadowRoot?.querySelectorAll(` + quoteJS(sel) + `) || [])]`
}

// waitJS polls js in the tab until it is true.
func waitJS(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void]("!!("+js+")", chromedp.WithPollingTimeout(10*time.Second))
}

// TestTicketBrowser is after-sales as the people involved do it in real browsers,
// before and after hours: with nobody online, one shopper keeps waiting and another
// leaves a message, which the after-sales agent finds in the console; the agent
// the chat is given to opens a refund ticket in the console and changes the remedy
// before proposing it, the shopper confirms it in the widget, and the after-sales lead
// finds it among the tickets waiting for approval and approves it; each step reaches the
// others.
func TestTicketBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	b := browserSteps{t: t, shots: screenshotDir(t)}
	k := startKefu(t, "")
	admin := adminAdding(t, k,
		map[string]string{"username": "li", "password": "agent-secret", "role": "agent", "group": "aftersale"},
		map[string]string{"username": "zhang", "password": "lead-secret", "role": "lead", "group": "aftersale"},
	)

	// The shopper asks to return an item: the bot hands the chat to after-sales. Nobody
	// is online yet: the widget offers to leave a message, and the shopper keeps waiting.
	b.do(tab, "asking for a return in the widget, and waiting",
		askInWidget(k.url("/"), "我要退货，收到的杯子碎了"),
		waitJS(`window.Kefu.state().status === "queued"`),
		chromedp.WaitVisible(shadow("kefu-leave")),
	)
	b.screenshot(tab, "ticket-0-widget-offer.png")
	b.do(tab, "keeping the place in the queue",
		chromedp.Click(shadow("kefu-leave-wait")),
		chromedp.WaitVisible(shadow("kefu-leave-open")),
		waitJS(`window.Kefu.state().status === "queued" && !window.Kefu.state().leave.open`),
	)
	conv, err := chromedp.Run(b.within(tab), chromedp.Evaluate[string](`window.Kefu.state().conversation`))
	if err != nil || conv == "" {
		t.Fatalf("the widget's conversation: %q, %v", conv, err)
	}

	// Another shopper leaves a message instead: a ticket for after-sales.
	other := b.newTab(tab, chromedp.WithNewBrowserContext())
	b.do(other, "leaving a message",
		askInWidget(k.url("/"), "杯子漏水，我要退货"),
		chromedp.WaitVisible(shadow("kefu-leave")),
		chromedp.SendKeys(shadow("kefu-leave-text"), "杯子漏水，麻烦上班后联系我"),
		chromedp.SendKeys(shadow("kefu-leave-contact"), "wang@example.com"),
		chromedp.Click(shadow("kefu-leave-send")),
		waitJS(inWidget(`[data-testid="kefu-msg"][data-from="system"]`)+`.some(m => m.textContent.includes("已收到您的留言"))`),
		waitJS(`window.Kefu.state().status === "resolved" && !window.Kefu.state().leave.open`),
	)
	b.screenshot(other, "ticket-0-widget-left.png")
	left, err := chromedp.Run(b.within(other), chromedp.Evaluate[string](`window.Kefu.state().conversation`))
	if err != nil || left == "" {
		t.Fatalf("the second widget's conversation: %q, %v", left, err)
	}

	// The agent signs in; being online, they are given the chat.
	agent := b.newTab(tab, chromedp.WithNewBrowserContext())
	mine := `#mine-list [data-conversation="` + conv + `"]`
	b.do(agent, "the agent signs in, gets the chat and sees the message left",
		signIn(k.url("/console"), "li", "agent-secret"),
		chromedp.WaitVisible(chromedp.CSS(mine)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="msg-ticket-item"][data-conversation="`+left+`"]`)),
		chromedp.Click(chromedp.CSS(mine)),
		chromedp.WaitVisible(chromedp.ID("ticket-btn")),
		chromedp.Click(chromedp.ID("ticket-btn")),
		chromedp.WaitVisible(chromedp.ID("ticket-form")),
		chromedp.SetValue(chromedp.ID("ticket-type"), "refund"),
		selectAll("ticket-order"),
		chromedp.SendKeys(chromedp.ID("ticket-order"), "2026112300042"),
		chromedp.SendKeys(chromedp.ID("ticket-reason"), "收到时杯子已碎"),
		chromedp.Click(chromedp.CSS(`[data-testid="ticket-ev-defect_photo"]`)),
		chromedp.SendKeys(chromedp.ID("ticket-remedy"), "退款 20 元"),
		chromedp.SendKeys(chromedp.ID("ticket-amount"), "20"),
		chromedp.Click(chromedp.ID("ticket-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="ticket-item"][data-status="open"] [data-testid="ticket-edit-remedy"]`)),
	)
	// The remedy is changed before it goes to the shopper.
	b.do(agent, "the agent changes the remedy and proposes it",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="ticket-edit-remedy"]').select()`),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="ticket-edit-remedy"]`), "全额退款 25.50 元，无需退回"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="ticket-edit-amount"]').select()`),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="ticket-edit-amount"]`), "25.5"),
		chromedp.Click(chromedp.CSS(`[data-testid="ticket-move"][data-to="awaiting_confirmation"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="ticket-item"][data-status="awaiting_confirmation"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-ticket"][data-event="proposed"]`)),
	)
	b.screenshot(agent, "ticket-1-console-proposed.png")

	// The shopper sees the remedy and confirms it.
	b.front(tab)
	proposal := inWidget(`[data-testid="kefu-ticket"][data-event="proposed"]`)
	b.do(tab, "the shopper confirms",
		waitJS(proposal+`.some(c => c.textContent.includes("全额退款 25.50 元") && c.textContent.includes("¥25.50"))`),
		chromedp.Evaluate[chromedp.Void](proposal+`[0].querySelector('[data-testid="kefu-ticket-confirm"]').click()`),
		waitJS(inWidget(`[data-testid="kefu-ticket"][data-event="confirmed"]`)+`.length === 1`),
		waitJS(proposal+`[0].querySelector('[data-testid="kefu-ticket-confirm"]').disabled`),
	)
	b.screenshot(tab, "ticket-2-widget-confirmed.png")

	b.front(agent)
	b.do(agent, "the agent sees the confirmation",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-ticket"][data-event="confirmed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="ticket-item"][data-status="awaiting_approval"]`)),
	)

	// The lead finds it among the tickets waiting for approval and approves it.
	lead := b.newTab(tab, chromedp.WithNewBrowserContext())
	b.do(lead, "the lead approves",
		signIn(k.url("/console"), "zhang", "lead-secret"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="approval-item"][data-conversation="`+conv+`"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="approval-item"][data-conversation="`+conv+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="ticket-item"][data-status="awaiting_approval"] [data-testid="ticket-move"][data-to="approve"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="ticket-item"] [data-testid="ticket-note"]`), "同意退款"),
		chromedp.Click(chromedp.CSS(`[data-testid="ticket-move"][data-to="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="ticket-item"][data-status="approved"]`)),
	)
	b.screenshot(lead, "ticket-3-lead-approved.png")

	var tickets struct {
		Tickets []struct {
			ID, Status string
			Remedy     struct {
				Text      string
				AmountFen int64 `json:"amount_fen"`
			}
			Confirmation *struct{ Shopper string }
		}
	}
	if code := admin.do("GET", "/api/tickets?conversation="+conv, nil, &tickets); code != 200 || len(tickets.Tickets) != 1 {
		t.Fatalf("tickets of the chat: %d %+v", code, tickets)
	}
	if tk := tickets.Tickets[0]; tk.Status != "approved" || tk.Remedy.AmountFen != 2550 || tk.Confirmation == nil {
		t.Errorf("the ticket is %+v, want approved, 25.50 yuan, confirmed by the shopper", tk)
	}
	b.front(tab)
	b.do(tab, "the shopper is told of the approval",
		waitJS(inWidget(`[data-testid="kefu-ticket"][data-event="approved"]`)+`.length === 1`),
	)
}
