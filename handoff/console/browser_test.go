package console

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/browsertest"
	"github.com/kefu-im/kefu/internal/timetest"
)

func cbDo(t *testing.T, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		shown, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText.slice(0, 3000)`))
		t.Fatalf("%s: %v\nthe page shows:\n%s", what, err, shown)
	}
}

func cbEval[T any](t *testing.T, tab context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// cbWaitJS polls js in the page until it is true.
func cbWaitJS(t *testing.T, tab context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cbEval[bool](t, tab, "!!("+js+")") {
		if time.Now().After(deadline) {
			shown := cbEval[string](t, tab, `document.body.innerText.slice(0, 3000)`)
			t.Fatalf("%s: %s is not true within 10s; the page shows:\n%s", what, js, shown)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsoleBrowser drives the agent console in headless chromium: the first-reply
// SLA colour, canned replies with "/", the one-word and contact guards, internal notes,
// back to the bot for an after-sales chat, transfer, and the mute toggle.
func TestConsoleBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	ctx := context.Background()
	// The chat started waiting 45 s ago: past the 30 s first-reply target.
	clock := timetest.NewClock(time.Now().Add(-45*time.Second).Truncate(time.Millisecond), time.Millisecond)
	acc := ctAccounts(t, clock.Now)
	d := desktest.Open(t, desktest.Options{Now: clock.Now, Desk: func(c *handoff.DeskConfig) {
		c.Staff, c.CannedReplies, c.ManualOnly = acc, gtCanned, true
	}}).Desk
	for _, name := range []string{"alice", "bob"} {
		ctAddUser(t, acc, name, account.RoleAgent, handoff.GroupAftersale)
	}
	c := ctQueue(t, d, handoff.GroupAftersale)
	clock.Advance(45 * time.Second)
	if _, err := d.Claim(ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ctRoutes(t, d, acc, clock.Now))
	t.Cleanup(func() {
		srv.CloseClientConnections() // the console's event stream stays open
		srv.Close()
	})

	item := `#mine-list [data-conversation="` + c.ID + `"]`
	cbDo(t, tab, "logging in as alice",
		chromedp.Navigate(srv.URL+"/console"),
		chromedp.WaitVisible(chromedp.ID("login-username")),
		chromedp.SendKeys(chromedp.ID("login-username"), "alice"),
		chromedp.SendKeys(chromedp.ID("login-password"), ctPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(item)),
	)
	cbWaitJS(t, tab, "the first-reply wait of the owned chat is red",
		`document.querySelector('`+item+` [data-testid="first-reply-wait"].sla-late')`)

	cbDo(t, tab, "opening the chat", chromedp.Click(chromedp.CSS(item)), chromedp.WaitEnabled(chromedp.ID("reply-input")))
	cbWaitJS(t, tab, "the header has transfer and back-to-bot", `!document.getElementById('transfer-btn').hidden && !document.getElementById('bot-btn').hidden`)

	// Canned replies: "/" lists them; "/wait" filters; arrows and Enter insert.
	cbDo(t, tab, "typing /", chromedp.SendKeys(chromedp.ID("reply-input"), "/"))
	cbWaitJS(t, tab, "the canned list shows both", `document.querySelectorAll('[data-testid="canned-item"]').length === 2`)
	cbDo(t, tab, "picking the second", chromedp.SendKeys(chromedp.ID("reply-input"), kb.ArrowDown+kb.Enter))
	cbWaitJS(t, tab, "the wait phrase is inserted", // chromedp's Enter also types a newline after the key, which a real keyboard does not.
		`document.getElementById('reply-input').value.trim() === '`+gtCanned[1].Text+`' && document.getElementById('canned-list').hidden`)
	cbEval[bool](t, tab, `(function(){const i=document.getElementById('reply-input'); i.value=''; return true})()`)
	cbDo(t, tab, "typing /greet", chromedp.SendKeys(chromedp.ID("reply-input"), "/greet"))
	cbWaitJS(t, tab, "one match", `document.querySelectorAll('[data-testid="canned-item"]').length === 1`)
	cbDo(t, tab, "Enter inserts the greeting with alice's name, Enter sends it",
		chromedp.SendKeys(chromedp.ID("reply-input"), kb.Enter))
	cbWaitJS(t, tab, "the greeting is filled in", `document.getElementById('reply-input').value.includes('客服`+account.NeutralLabel("alice")+`')`)
	cbDo(t, tab, "sending", chromedp.SendKeys(chromedp.ID("reply-input"), kb.Enter))
	cbWaitJS(t, tab, "the greeting is in the transcript", `[...document.querySelectorAll('[data-testid="chat-msg"][data-from="agent"]')].some(e => e.textContent.includes('客服`+account.NeutralLabel("alice")+`'))`)
	cbWaitJS(t, tab, "the first-reply timer is gone", `!document.querySelector('`+item+` [data-testid="first-reply-wait"]')`)

	// A one-word reply asks for confirmation.
	cbDo(t, tab, "sending 嗯", chromedp.SendKeys(chromedp.ID("reply-input"), "嗯"+kb.Enter))
	cbWaitJS(t, tab, "the short-reply guard", `!document.getElementById('guard-box').hidden && document.getElementById('guard-text').textContent.includes('这条回复过短，确认发送？')`)
	cbDo(t, tab, "confirming", chromedp.Click(chromedp.ID("guard-confirm")))
	cbWaitJS(t, tab, "嗯 is sent", `[...document.querySelectorAll('[data-testid="chat-msg"][data-from="agent"] .bubble')].some(e => e.textContent === '嗯')`)

	// Outside contact is blocked until the agent gives a reason; the override is a note.
	cbDo(t, tab, "sending a WeChat id", chromedp.SendKeys(chromedp.ID("reply-input"), "售后请加微信 kefu_2024"+kb.Enter))
	cbWaitJS(t, tab, "the contact guard names it", `document.getElementById('guard-box').classList.contains('is-block') && document.getElementById('guard-text').textContent.includes('微信号')`)
	cbDo(t, tab, "giving a reason", chromedp.SendKeys(chromedp.ID("guard-reason"), "顾客要求售后微信"), chromedp.Click(chromedp.ID("guard-confirm")))
	cbWaitJS(t, tab, "the override note shows", `document.querySelector('[data-testid="chat-note"].kind-override')`)

	// An internal note.
	cbDo(t, tab, "writing a note",
		chromedp.Click(chromedp.ID("mode-note")),
		chromedp.SendKeys(chromedp.ID("reply-input"), "老客户，已补偿优惠券"+kb.Enter))
	cbWaitJS(t, tab, "the note shows with 内部备注 and the author",
		`[...document.querySelectorAll('[data-testid="chat-note"]')].some(e => e.textContent.includes('老客户，已补偿优惠券') && e.textContent.includes('内部备注') && e.textContent.includes('alice'))`)
	for _, m := range ctLog(t, d, c.ID) {
		if strings.Contains(m.Text, "优惠券") {
			t.Errorf("a note reached the shopper's log: %+v", m)
		}
	}
	cbDo(t, tab, "back to replies", chromedp.Click(chromedp.ID("mode-reply")))

	// Back to the bot: the server refuses it for an after-sales chat, and the dialog says so.
	cbDo(t, tab, "asking to hand back", chromedp.Click(chromedp.ID("bot-btn")), chromedp.WaitVisible(chromedp.ID("confirm-ok")), chromedp.Click(chromedp.ID("confirm-ok")))
	cbWaitJS(t, tab, "the after-sales refusal", `!document.getElementById('confirm-error').hidden && document.getElementById('confirm-error').textContent.includes('售后')`)
	cbDo(t, tab, "closing", chromedp.Click(chromedp.ID("confirm-cancel")))

	// Transfer to bob, who is online.
	if _, err := d.Heartbeat(ctx, "bob", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	cbDo(t, tab, "opening the transfer dialog", chromedp.Click(chromedp.ID("transfer-btn")))
	cbWaitJS(t, tab, "bob is listed with his load", `(() => { const b = document.querySelector('[data-testid="transfer-agent"][data-agent="bob"]'); return b && !b.disabled && b.textContent.includes('0/20') })()`)
	cbWaitJS(t, tab, "the groups are listed", `document.querySelectorAll('[data-testid="transfer-group"]').length === 2`)
	cbDo(t, tab, "transferring", chromedp.Click(chromedp.CSS(`[data-testid="transfer-agent"][data-agent="bob"]`)))
	cbWaitJS(t, tab, "the dialog closes", `document.getElementById('transfer-panel').hidden`)
	if cv, err := d.Conversation(ctx, c.ID); err != nil || cv.Agent != "bob" {
		t.Errorf("after the transfer the chat is %+v, %v; want bob's", cv, err)
	}

	// The mute toggle is remembered.
	cbDo(t, tab, "muting", chromedp.Click(chromedp.ID("sound-btn")))
	cbDo(t, tab, "reloading", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("sound-btn")))
	cbWaitJS(t, tab, "still muted", `document.getElementById('sound-btn').getAttribute('aria-pressed') === 'true' && localStorage.getItem('kefu.console.sound') === 'off'`)

	// Signing out says offline first, then ends the session: a reload asks to sign in.
	timetest.Poll(t, 10*time.Second, "alice's console to say she is online", func() bool {
		a, err := d.AgentLoad(ctx, "alice")
		return err == nil && a.Status == handoff.PresenceOnline
	})
	cbDo(t, tab, "signing out", chromedp.Click(chromedp.ID("logout-btn")), chromedp.WaitVisible(chromedp.ID("login-username")))
	if a, err := d.AgentLoad(ctx, "alice"); err != nil || a.Status != handoff.PresenceOffline {
		t.Errorf("after signing out alice is %+v, %v; want offline", a, err)
	}
	cbDo(t, tab, "reloading", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("login-username")))
	cbWaitJS(t, tab, "the app stays hidden", `document.getElementById('app').hidden`)
}
