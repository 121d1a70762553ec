package widget_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/kefu-im/kefu/widget"
	"github.com/rs/zerolog"
)

// lockedBuffer is a log sink the gateway's goroutines may write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestOriginExplained: a page whose origin is not allowed is refused with the setting to
// change, in the log (once per origin, however often it retries) and in the answer, and
// may ask whether it may use the widget, which a refused websocket cannot tell it.
func TestOriginExplained(t *testing.T) {
	var log lockedBuffer
	e := newEnv(t, setup{gateway: func(c *widget.Config) { c.Logger = zerolog.New(&log) }})
	const other = "https://other-shop.example"
	for range 3 {
		_, resp, err := e.dialRaw(t, "", http.Header{"Origin": {other}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("dial from %s: %v, %v; want 403", other, resp, err)
		}
	}
	lines := strings.Count(log.String(), other)
	if lines != 1 || !strings.Contains(log.String(), "KEFU_ALLOWED_ORIGINS") {
		t.Errorf("log names %s %d times (want once) and the setting to change:\n%s", other, lines, log.String())
	}

	for origin, want := range map[string]bool{other: false, shopOrigin: true, e.srv.URL: true} {
		req, err := http.NewRequest("GET", e.srv.URL+"/api/widget/origin", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Allowed *bool `json:"allowed"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || got.Allowed == nil || *got.Allowed != want {
			t.Errorf("origin check from %s: %d %+v %v, want allowed %v", origin, resp.StatusCode, got, err, want)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("origin check from %s: headers %v", origin, resp.Header)
		}
	}
	if strings.Count(log.String(), other) != 1 {
		t.Errorf("the check logged the refused origin again within the interval:\n%s", log.String())
	}
}
