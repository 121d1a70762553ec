package widget_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// maxScriptGzip is the most widget.js may weigh on the wire: a shop page loads it on
// every visit.
const maxScriptGzip = 30 << 10

// TestScript: widget.js is one script, its parts joined in one function scope, sent
// compressed to a browser that accepts it, under maxScriptGzip, and revalidated by its
// ETag.
func TestScript(t *testing.T) {
	e := newEnv(t, setup{})
	get := func(path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", e.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		// The transport asks for gzip and unpacks it only when the request did not.
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}

	resp, wire := get("/widget.js", "Accept-Encoding", "gzip, deflate, br")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("GET /widget.js: %d, encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	if len(wire) > maxScriptGzip {
		t.Errorf("widget.js is %d bytes compressed, more than %d", len(wire), maxScriptGzip)
	}
	zr, err := gzip.NewReader(strings.NewReader(string(wire)))
	if err != nil {
		t.Fatal(err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSpace(string(js))
	if !strings.HasPrefix(text, "/*") || !strings.Contains(text, "(function () {") || !strings.HasSuffix(text, "})();") {
		t.Errorf("widget.js is not one function scope: starts %.40q, ends %q", text, text[max(0, len(text)-40):])
	}
	if strings.Count(text, "(function () {\n  'use strict';") != 1 {
		t.Errorf("widget.js opens its scope %d times", strings.Count(text, "(function () {\n  'use strict';"))
	}
	t.Logf("widget.js: %d bytes, %d compressed", len(js), len(wire))

	etag := resp.Header.Get("ETag")
	if resp, b := get("/widget.js", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Errorf("GET /widget.js with its ETag: %d, %d bytes; want 304", resp.StatusCode, len(b))
	}
	if resp, b := get("/"); resp.StatusCode != 200 || !strings.Contains(string(b), `<script src="/widget.js"`) {
		t.Errorf("GET /: %d, the demo page lacks the widget's tag", resp.StatusCode)
	}
}
