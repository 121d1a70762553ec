package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestAsset(t *testing.T) {
	body := []byte(strings.Repeat("var kefu = 'widget';\n", 200))
	a := NewAsset(body, "text/javascript; charset=utf-8", "public, max-age=300")
	serve := func(method string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/widget.js", nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		return w
	}

	plain := serve("GET")
	if plain.Code != 200 || !bytes.Equal(plain.Body.Bytes(), body) || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("GET without Accept-Encoding: %d, %d bytes, encoding %q", plain.Code, plain.Body.Len(), plain.Header().Get("Content-Encoding"))
	}
	etag := plain.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || plain.Header().Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("headers %v", plain.Header())
	}

	for _, accept := range []string{"gzip", "br, gzip;q=0.8", "*", "deflate, GZIP"} {
		w := serve("GET", "Accept-Encoding", accept)
		if w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: encoding %q, vary %q", accept, w.Header().Get("Content-Encoding"), w.Header().Get("Vary"))
			continue
		}
		zr, err := gzip.NewReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("Accept-Encoding %q: gunzipped %d bytes (%v), want the %d of the body", accept, len(got), err, len(body))
		}
	}
	for _, accept := range []string{"gzip;q=0", "br", "gzip; q=0.000, identity"} {
		if w := serve("GET", "Accept-Encoding", accept); w.Header().Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: encoded %q", accept, w.Header().Get("Content-Encoding"))
		}
	}

	if a.Size() >= len(body) {
		t.Errorf("compressed size %d, the body's %d", a.Size(), len(body))
	}

	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		if w := serve("GET", "If-None-Match", inm); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("If-None-Match %s: %d with %d bytes, want 304 and none", inm, w.Code, w.Body.Len())
		}
	}
	if w := serve("GET", "If-None-Match", `"stale"`); w.Code != 200 {
		t.Errorf("stale If-None-Match: %d", w.Code)
	}
	if w := serve("HEAD", "Accept-Encoding", "gzip"); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != strconv.Itoa(a.Size()) {
		t.Errorf("HEAD: %d, %d bytes, length %s", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}

	// A body that does not shrink is sent as it is.
	tiny := NewAsset([]byte("x"), "text/plain", "no-cache")
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	tiny.ServeHTTP(w, r)
	if w.Header().Get("Content-Encoding") != "" || w.Body.String() != "x" {
		t.Errorf("tiny asset: encoding %q, body %q", w.Header().Get("Content-Encoding"), w.Body.String())
	}
}
