package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"
)

// The public server's hygiene (docs/security.md "Server hygiene"): timeouts that end
// connections which send slowly or not at all, the security headers of every answer,
// and a readiness check that answers in time when the storage does not.

// serverTimeouts are the public server's limits on one connection.
type serverTimeouts struct {
	// ReadHeader bounds reading a request's headers (slowloris).
	ReadHeader time.Duration
	// Read bounds reading a whole request with its body: a 10 MB photo needs 1.4 Mbit/s
	// at 60 s. A connection that sends its body more slowly is closed.
	Read time.Duration
	// Write bounds writing an answer, from the end of the request's headers.
	Write time.Duration
	// Idle bounds the wait for the next request on a kept-alive connection.
	Idle time.Duration
}

// defaultTimeouts are the public server's timeouts.
var defaultTimeouts = serverTimeouts{
	ReadHeader: 10 * time.Second,
	Read:       60 * time.Second,
	Write:      2 * time.Minute,
	Idle:       2 * time.Minute,
}

// newServer returns the public server of h with the timeouts t. The event stream and
// the websockets live for hours: streams lifts the read and write deadlines of the
// event stream once its request is read, and the websocket library lifts them when it
// takes the connection over (its read and write loops keep deadlines of their own).
func newServer(h http.Handler, t serverTimeouts, base func(net.Listener) context.Context) *http.Server {
	return &http.Server{
		BaseContext:       base,
		Handler:           streams(h),
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
	}
}

// streamPaths are the paths of answers that stay open: the agents' event stream.
var streamPaths = map[string]bool{"/api/events": true}

// streams lifts the server's read and write deadlines for the requests of streamPaths.
// Without it the stream would end at the write timeout, and its context at the read
// timeout (the server's read of the idle connection fails then, which cancels it). The
// stream ends when its client goes, its user signs out or the server shuts down.
func streams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && streamPaths[r.URL.Path] {
			rc := http.NewResponseController(w)
			if err := errors.Join(rc.SetReadDeadline(time.Time{}), rc.SetWriteDeadline(time.Time{})); err != nil {
				zerolog.Ctx(r.Context()).Warn().Err(err).Msg("lifting the deadlines of an event stream")
			}
		}
		next.ServeHTTP(w, r)
	})
}

// framedPaths are what shops embed in their own pages, which may therefore be framed:
// the widget's script and the demo shop. Everything else is never shown in a frame.
var framedPaths = map[string]bool{"/widget.js": true, "/": true}

// withSecurityHeaders sets the headers every answer carries: no content-type sniffing,
// no referrer beyond the origin, no frames (but for framedPaths), and HSTS when the
// request came over TLS, here or at a proxy. Pages set their own Content-Security-Policy
// (internal/web.Page); the rest get one that forbids everything but being read, so an
// API answer opened as a page runs nothing.
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !framedPaths[r.URL.Path] {
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		// A browser honours HSTS only over HTTPS, so believing a forged
		// X-Forwarded-Proto costs nothing.
		if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// readyWithin bounds /readyz's wait for the storage: load balancers probe with short
// timeouts, and a hung Redis must read as not ready, not as a hung node.
const readyWithin = time.Second

// readiness answers /readyz: ready when ping answers within wait and ready says so.
// One ping is in flight at a time, shared by the probes that come while it runs, so a
// hung storage does not gather a ping per probe; a ping that answers late is dropped
// after pingLimit.
type readiness struct {
	ping  func(context.Context) error
	ready func() (bool, string) // the other checks: false with why
	wait  time.Duration
	// pingLimit bounds a ping's own life; 0 means 10 s.
	pingLimit time.Duration
	pings     singleflight.Group
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	limit := rd.pingLimit
	if limit == 0 {
		limit = 10 * time.Second
	}
	ch := rd.pings.DoChan("ping", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), limit)
		defer cancel()
		return nil, rd.ping(ctx)
	})
	timer := time.NewTimer(rd.wait)
	defer timer.Stop()
	var err error
	select {
	case res := <-ch:
		err = res.Err
	case <-timer.C:
		err = fmt.Errorf("the storage did not answer within %v", rd.wait)
	case <-r.Context().Done():
		return
	}
	if err != nil {
		zerolog.Ctx(r.Context()).Warn().Err(err).Msg("not ready")
		http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
		return
	}
	if ok, why := rd.ready(); !ok {
		http.Error(w, why, http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}
