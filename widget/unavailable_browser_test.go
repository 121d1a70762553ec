package widget_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kefu-im/kefu/internal/browsertest"
)

// TestUnavailableBrowser: a shop page on an origin the server does not allow gets, in a
// real browser, a widget that says the chat is unavailable and stops connecting,
// instead of 「正在连接…」 forever.
func TestUnavailableBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	e := newEnv(t, setup{})
	page := fmt.Sprintf(`<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>other shop</title><script src="%s/widget.js"></script>`, e.srv.URL)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	}))
	t.Cleanup(shop.Close)

	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	type state struct {
		Status   string `json:"status"`
		Text     string `json:"text"`
		Disabled bool   `json:"disabled"`
	}
	const read = `(() => {
		const root = document.querySelector('kefu-widget').shadowRoot;
		return {status: root.querySelector('.status').textContent,
			text: root.querySelector('.msgs').textContent, disabled: root.querySelector('.input').disabled};
	})()`
	err := chromedp.Do(ctx,
		chromedp.Navigate(shop.URL),
		chromedp.WaitReady("kefu-widget"),
		chromedp.Evaluate[chromedp.Void](`Kefu.open()`),
		chromedp.Poll[chromedp.Void](`Kefu.state().unavailable`, chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	if err != nil {
		t.Fatalf("the widget on a refused origin: %v", err)
	}
	st, err := chromedp.Run(ctx, chromedp.Evaluate[state](read))
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "在线客服暂不可用" || !st.Disabled {
		t.Errorf("status %q, input disabled %v; want 在线客服暂不可用 and a disabled input", st.Status, st.Disabled)
	}
	if want := "本页面尚未开通在线客服"; !strings.Contains(st.Text, want) {
		t.Errorf("transcript %q lacks %q", st.Text, want)
	}
}
