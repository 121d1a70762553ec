package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kefu-im/kefu/internal/browsertest"
)

// TestEditorStaleBanner signs an editor in on a node with Redis, stops Redis, and
// checks that the editor says the bot may answer from an out-of-date index rather than
// look as if all were well, and that the warning goes once Redis is back.
func TestEditorStaleBanner(t *testing.T) {
	t.Parallel() // waits mostly on servers and timers: it overlaps the rest
	tab := browsertest.Tab(t)
	b := browserSteps{t: t, shots: screenshotDir(t)}
	rs, env := redisEnv(t)
	k := startKefu(t, "", env...)
	addUser(t, env, "mei", "editor", "presale", "editor-secret")

	b.do(tab, "signing in",
		signIn(k.url("/editor"), "mei", "editor-secret"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="article-item"]`)),
		chromedp.WaitNotVisible(chromedp.ID("index-banner")),
	)
	rs.Stop()
	// The editor polls the node's state every 5 s.
	b.do(tab, "waiting for the warning",
		chromedp.Poll[chromedp.Void](`!document.getElementById('index-banner').hidden`, chromedp.WithPollingTimeout(12*time.Second)),
	)
	if state := b.attr(tab, "#index-banner", "data-state"); state != "unavailable" && state != "stale" {
		t.Errorf("the banner's state = %q, want unavailable or stale", state)
	}
	b.screenshot(tab, "editor-stale-banner.png")
	rs.Restart()
	b.do(tab, "waiting for the warning to go",
		chromedp.Poll[chromedp.Void](`document.getElementById('index-banner').hidden`, chromedp.WithPollingTimeout(14*time.Second)),
	)
}
