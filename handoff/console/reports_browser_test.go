package console

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/browsertest"
)

// TestReportsBrowser is the lead's 数据报表 in headless chromium, on the scripted day of
// handoff/enginetest and a chat still waiting: the KPI tiles, the SVG charts, the agents'
// table, the CSV link, the agent filter and the live panel. With KEFU_SCREENSHOTS set to a
// directory, screenshots go there (reports-*.png, desktop width).
func TestReportsBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	shots := browsertest.ScreenshotDir(t)
	ctx := context.Background()
	clock := enginetest.NewClock()
	acc := ctAccounts(t, clock.Now)
	d := desktest.Open(t, desktest.Options{Now: clock.Now, Desk: func(c *handoff.DeskConfig) {
		c.Staff, c.Bot, c.ManualOnly, c.SweepInterval = acc, enginetest.ShopBot, true, time.Hour
	}}).Desk
	for _, u := range []struct {
		name  string
		role  account.Role
		group handoff.Group
	}{{"alice", account.RoleAgent, handoff.GroupPresale}, {"bob", account.RoleAgent, handoff.GroupPresale},
		{"carol", account.RoleAgent, handoff.GroupAftersale}, {"lena", account.RoleLead, handoff.GroupAftersale}} {
		ctAddUser(t, acc, u.name, u.role, u.group)
	}
	day := enginetest.ScriptDay(t, d, clock)
	// Now: a return waits 90 s, and carol is online with her open chat.
	ctQueue(t, d, handoff.GroupAftersale)
	clock.Advance(90 * time.Second)
	if _, err := d.Heartbeat(ctx, "carol", handoff.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ctRoutes(t, d, acc, clock.Now))
	t.Cleanup(func() {
		srv.CloseClientConnections() // the console's event stream stays open
		srv.Close()
	})
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	cbDo(t, tab, "the lead signs in and opens 数据报表",
		chromedp.EmulateViewport(1440, 1000),
		chromedp.Navigate(srv.URL+"/console"),
		chromedp.WaitVisible(chromedp.ID("login-username")),
		chromedp.SendKeys(chromedp.ID("login-username"), "lena"),
		chromedp.SendKeys(chromedp.ID("login-password"), ctPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("reports-btn")),
		chromedp.Click(chromedp.ID("reports-btn")),
	)
	// The default range is the shop's last seven days, ending on the scripted day.
	cbWaitJS(t, tab, "the report of the last seven days", `document.getElementById('rp-to').value === '`+day.Date+`' &&
		document.querySelector('[data-testid="rp-tile-conversations"] .rp-tile-value')?.textContent === '7'`)
	tile := func(key string) string {
		return cbEval[string](t, tab, `document.querySelector('[data-testid="rp-tile-`+key+`"] .rp-tile-value').textContent`)
	}
	if got := tile("handoff_rate"); got != "71.4%" { // 5 of 7: the waiting return too
		t.Errorf("转人工率 = %q", got)
	}
	if got := tile("fcr"); got != "66.7%" {
		t.Errorf("一次解决率 = %q", got)
	}
	if got := tile("csat"); got != "4.33 分" {
		t.Errorf("满意度 = %q", got)
	}
	cbWaitJS(t, tab, "the hours chart: four conversations at 06:00", `document.querySelector('#rp-hours rect[data-hour="6"][data-kind="conversations"]')?.getAttribute('data-value') === '4'`)
	cbWaitJS(t, tab, "the CSAT chart: two 5s", `document.querySelector('#rp-csat rect[data-score="5"]')?.getAttribute('data-value') === '2'`)
	cbWaitJS(t, tab, "the reasons chart", `document.querySelectorAll('#rp-reasons rect').length === 4`)
	cbWaitJS(t, tab, "three agents, carol first", `document.querySelectorAll('[data-testid="rp-agent-row"]').length === 3 &&
		document.querySelector('[data-testid="rp-agent-row"]')?.dataset.agent === 'carol'`)
	cbWaitJS(t, tab, "the CSV link has the range", `document.getElementById('rp-csv').getAttribute('href').includes('to=`+day.Date+`')`)
	// The link downloads with the console's session.
	csv := cbEval[string](t, tab, `(() => { const x = new XMLHttpRequest(); x.open('GET', document.getElementById('rp-csv').href, false); x.send();
		return x.status + ' ' + x.getResponseHeader('Content-Type') + ' ' + x.responseText.split('\n').find(l => l.startsWith('conversations,')) })()`)
	if csv != "200 text/csv; charset=utf-8 conversations,7" {
		t.Errorf("the CSV link answers %q", csv)
	}
	cbWaitJS(t, tab, "the live panel: one waiting for 90 s, carol's load", `document.getElementById('rp-live-waiting').textContent === '1' &&
		document.getElementById('rp-live-longest').textContent === '1分30秒' &&
		document.querySelector('[data-testid="rp-live-agent"][data-agent="carol"]')?.textContent.includes('1/20')`)
	shot("reports-1-overview.png")

	cbDo(t, tab, "only carol", chromedp.SetValue(chromedp.ID("rp-agent"), "carol"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('rp-agent').dispatchEvent(new Event('change'))`))
	cbWaitJS(t, tab, "carol's report", `document.querySelectorAll('[data-testid="rp-agent-row"]').length === 1 &&
		document.getElementById('rp-csv').getAttribute('href').includes('agent=carol')`)
	cbEval[bool](t, tab, `(document.querySelector('[data-testid="rp-agents"]').scrollIntoView({block: 'end'}), true)`)
	shot("reports-2-agent.png")
}
