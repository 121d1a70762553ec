package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/kefu-im/kefu/internal/browsertest"
)

// screenshotDir is $KEFU_SCREENSHOTS, or a temporary directory
// (browsertest.ScreenshotDir, which the browser tests of other packages use too).
func screenshotDir(t *testing.T) string {
	t.Helper()
	return browsertest.ScreenshotDir(t)
}

// browserSteps runs steps in a tab with a deadline per step, and fails the test
// with what the page shows when one fails.
type browserSteps struct {
	t     *testing.T
	shots string
}

func (b browserSteps) do(tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(tab, what, err)
	}
}

// fail saves a screenshot and the page's visible error messages, then fails.
func (b browserSteps) fail(tab context.Context, what string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	if png, serr := chromedp.Run(ctx, chromedp.CaptureScreenshot()); serr == nil {
		p := filepath.Join(b.shots, strings.ReplaceAll(b.t.Name(), "/", "-")+"-failure.png")
		if os.WriteFile(p, png, 0o644) == nil {
			b.t.Logf("screenshot of the failure: %s", p)
		}
	}
	msgs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('.form-error:not([hidden]), .toast')].map(e => (e.id || 'toast') + ': ' + e.textContent)`))
	b.t.Fatalf("%s: %v\nmessages on the page: %q", what, err, msgs)
}

// newTab opens another tab in the browser of tab, in front, closed when the test ends.
func (b browserSteps) newTab(tab context.Context, opts ...chromedp.ContextOption) context.Context {
	b.t.Helper()
	next, cancel := chromedp.NewContext(tab, opts...)
	b.t.Cleanup(cancel)
	// The first Run binds the tab's life to its context: this one, not a step's.
	if err := chromedp.Do(next); err != nil {
		b.t.Fatalf("opening a tab: %v", err)
	}
	b.front(next)
	return next
}

// front brings a tab to the front: a tab in the background draws no frames, so it
// cannot be captured.
func (b browserSteps) front(tab context.Context) {
	b.t.Helper()
	if _, err := chromedp.Call(b.within(tab), page.BringToFront, cdp.Empty{}); err != nil {
		b.t.Fatalf("bringing a tab to the front: %v", err)
	}
}

// within is tab with a deadline for one call; the deadline is cancelled when the
// test ends.
func (b browserSteps) within(tab context.Context) context.Context {
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	b.t.Cleanup(cancel)
	return ctx
}

func (b browserSteps) screenshot(tab context.Context, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.within(tab), chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(b.shots, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
}

func (b browserSteps) attr(tab context.Context, sel, name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		b.fail(tab, "reading "+sel+"@"+name, err)
	}
	return v.Value
}

// selectAll selects the text of a field, as Ctrl+A does, so that typing replaces it.
// (chromedp.SetValue cannot set an empty value, and Clear empties only a textarea's
// initial text.)
func selectAll(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.getElementById(` + quoteJS(id) + `).select()`)
}

// signIn opens the page at url (the console or the editor) and signs in with the UI
// kit's form.
func signIn(url, user, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("login-username")),
		chromedp.SendKeys(chromedp.ID("login-username"), user),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
}

// askInWidget opens the shop's page at url, opens the widget and sends text.
func askInWidget(url, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(url),
		chromedp.WaitVisible(shadow("kefu-launcher")),
		chromedp.Click(shadow("kefu-launcher")),
		chromedp.WaitVisible(shadow("kefu-input")),
		chromedp.SendKeys(shadow("kefu-input"), text+kb.Enter),
	)
}

// shadow is a JS path to an element of the shop widget, which lives in a shadow root.
func shadow(testid string) chromedp.JSPath {
	return chromedp.JSPath(`document.querySelector("kefu-widget").shadowRoot.querySelector('[data-testid="` + testid + `"]')`)
}

// quoteJS quotes s as a JavaScript string literal.
func quoteJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
