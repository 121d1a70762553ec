package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// serve runs newServer(h, t) on a free port until the test ends and returns its address.
func serve(t *testing.T, h http.Handler, to serverTimeouts) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(h, to, func(net.Listener) context.Context { return context.Background() })
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestSlowBodyClosed: a connection that sends its body too slowly is closed, and its
// handler sees the body fail.
func TestSlowBodyClosed(t *testing.T) {
	t.Parallel()
	bodyErr := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		bodyErr <- err
	}), serverTimeouts{ReadHeader: time.Minute, Read: 100 * time.Millisecond, Write: time.Minute, Idle: time.Minute})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Ten bytes of a thousand, then nothing.
	if _, err := io.WriteString(c, "POST /api/uploads HTTP/1.1\r\nHost: kefu\r\nContent-Length: 1000\r\n\r\n0123456789"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // only so that a failure does not hang the run
	rest, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the slow connection is still open (read %q)", rest)
	}
	if err := <-bodyErr; err == nil {
		t.Error("the handler read the whole body of a connection that never sent it")
	}
}

// TestStreamsOutliveTimeouts: the event stream keeps its context and may still write
// past the read and write timeouts that end any other request.
func TestStreamsOutliveTimeouts(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			w.Write([]byte("ended"))
		case <-time.After(5 * timeout):
			w.Write([]byte("alive"))
		}
	}), serverTimeouts{ReadHeader: time.Minute, Read: timeout, Write: timeout, Idle: time.Minute})
	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return "error"
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return "error"
		}
		return string(b)
	}
	if got := get("/api/events"); got != "alive" {
		t.Errorf("the event stream past the timeouts: %q, want alive", got)
	}
	if got := get("/api/queue"); got == "alive" {
		t.Errorf("another request past the timeouts: %q, want it ended", got)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := withSecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/console" {
			w.Header().Set("Content-Security-Policy", "default-src 'self'") // a page's own
		}
	}))
	for _, tc := range []struct {
		path, proto      string
		frame, csp, hsts string
	}{
		{"/api/queue", "", "DENY", "default-src 'none'; frame-ancestors 'none'", ""},
		{"/console", "", "DENY", "default-src 'self'", ""},
		{"/widget.js", "", "", "", ""},
		{"/", "", "", "", ""},
		{"/api/queue", "https", "DENY", "default-src 'none'; frame-ancestors 'none'", "max-age=31536000"},
	} {
		req := httptest.NewRequest("GET", tc.path, nil)
		if tc.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header()
		if got.Get("X-Content-Type-Options") != "nosniff" || got.Get("Referrer-Policy") != "same-origin" ||
			got.Get("X-Frame-Options") != tc.frame || got.Get("Content-Security-Policy") != tc.csp ||
			got.Get("Strict-Transport-Security") != tc.hsts {
			t.Errorf("%s (proto %q): headers %v", tc.path, tc.proto, got)
		}
	}
}

// TestReadyzHungStorage: /readyz answers 503 in its own time when the storage accepts
// the connection and never answers, and 200 when it answers.
func TestReadyzHungStorage(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c) // reads, never answers
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ReadTimeout: time.Minute, MaxRetries: -1})
	defer rdb.Close()
	ready := func() (bool, string) { return true, "" }
	hung := &readiness{ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }, ready: ready,
		wait: 50 * time.Millisecond, pingLimit: 2 * time.Minute}
	srv := httptest.NewServer(hung)
	defer srv.Close()
	client := &http.Client{Timeout: 30 * time.Second} // far below the ping's minute
	for i := 0; i < 2; i++ {                          // the second probe shares the ping in flight
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatalf("probe %d of a hung storage: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("probe %d of a hung storage: %d, want 503", i, resp.StatusCode)
		}
	}

	fine := httptest.NewRecorder()
	(&readiness{ping: func(context.Context) error { return nil }, ready: ready, wait: time.Minute}).ServeHTTP(fine, httptest.NewRequest("GET", "/readyz", nil))
	if fine.Code != http.StatusOK || !strings.HasPrefix(fine.Body.String(), "ready") {
		t.Errorf("a storage that answers: %d %q", fine.Code, fine.Body)
	}
	notBuilt := httptest.NewRecorder()
	(&readiness{ping: func(context.Context) error { return nil }, ready: func() (bool, string) { return false, "index not built" }, wait: time.Minute}).
		ServeHTTP(notBuilt, httptest.NewRequest("GET", "/readyz", nil))
	if notBuilt.Code != http.StatusServiceUnavailable {
		t.Errorf("an index not built: %d", notBuilt.Code)
	}
}
