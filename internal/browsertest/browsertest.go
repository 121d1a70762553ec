// Package browsertest starts a headless chromium for the browser tests of Kefu's pages,
// and watches the dialogs a page opens.
//
// KEFU_BROWSER_TESTS=0 turns the browser tests off. Without a chromium on PATH a test
// is skipped, or failed when CI=true: a skipped browser test in CI would hide a broken
// page. It imports no package of the project, so the tests of any package may use it.
package browsertest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// StartTimeout bounds the start of the browser.
const StartTimeout = 20 * time.Second

// ScreenshotDir is where a browser test keeps its screenshots: $KEFU_SCREENSHOTS
// (made if missing), or a temporary directory of the test.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("KEFU_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Path returns the browser, or skips the test (fails it in CI).
func Path(t testing.TB) string {
	t.Helper()
	if os.Getenv("KEFU_BROWSER_TESTS") == "0" {
		t.Skip("browser tests turned off (KEFU_BROWSER_TESTS=0)")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "chromium not found: install it with `bash .ci/deps browser` (Debian's chromium package)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Tab starts a headless chromium with a fresh profile, in a window of 1440×960, and
// returns its first tab. The browser is stopped, and waited for, when the test ends.
func Tab(t testing.TB) context.Context {
	t.Helper()
	exe := Path(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 960),
	)
	// Registered after TempDir, so it runs first: the browser has exited before its
	// profile directory is removed.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	// The first Do binds the browser to tab, which has no deadline; a browser that does
	// not start within StartTimeout is stopped instead.
	start, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	go func() {
		<-start.Done()
		if errors.Is(start.Err(), context.DeadlineExceeded) {
			cancelAlloc()
		}
	}()
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return tab
}

// Dialogs dismisses every JavaScript dialog (alert, confirm, prompt) the page in tab
// opens from now on, and returns a function that reports their messages so far: a
// page that opens one, say an alert from an injected script, can fail the test.
func Dialogs(t testing.TB, tab context.Context) func() []string {
	t.Helper()
	var (
		mu   sync.Mutex // guards msgs
		msgs []string
	)
	if err := chromedp.Listen(tab, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			mu.Lock()
			msgs = append(msgs, d.Message)
			mu.Unlock()
			go func() { // no command may run in a listener
				ctx, cancel := context.WithTimeout(tab, 5*time.Second)
				defer cancel()
				chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		}
	}); err != nil {
		t.Fatalf("watching the page's dialogs: %v", err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), msgs...)
	}
}
