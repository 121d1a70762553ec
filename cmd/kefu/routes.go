package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/kefu-im/kefu/internal/account"
	"github.com/rs/zerolog"
)

// routes is every URL prefix Kefu serves, in one place. The packages of the console,
// the editor and the accounts register their own routes (their Routes methods), under
// the prefixes listed here.
func routes(a *app, log zerolog.Logger) http.Handler {
	mux := http.NewServeMux()
	g := a.gateway

	// Shoppers (package widget).
	mux.HandleFunc("GET /{$}", g.Demo)
	mux.HandleFunc("GET /widget.js", g.Script)
	mux.Handle("GET /ws/shopper", g)
	mux.HandleFunc("POST /api/bot/ask", g.Ask)
	mux.HandleFunc("OPTIONS /api/bot/ask", g.AskPreflight)
	mux.HandleFunc("GET /api/widget/origin", g.Origin)
	mux.HandleFunc("POST /api/uploads", g.Upload)
	mux.HandleFunc("OPTIONS /api/uploads", g.UploadPreflight)

	// The photos of chats behind their signed URLs (package internal/files):
	// /files/{conv}/{id}.
	a.files.Routes(mux)

	// Signing in, users and API tokens (package internal/account), the console's and the
	// editor's: /api/login, /api/logout, /api/me, /api/users, /api/tokens.
	a.accounts.API().Routes(mux)

	// The audit log (package internal/audit), admins alone: /api/audit.
	mux.HandleFunc("GET /api/audit", a.audit.Handler(a.accounts.Require(account.RoleAdmin)))

	// A shopper's data, admins alone (privacy.go): export and erasure.
	mux.HandleFunc("GET /api/shoppers/{id}/export", a.exportShopper())
	mux.HandleFunc("DELETE /api/shoppers/{id}", a.eraseShopper())

	// Agents (package handoff/console): /console, /api/queue, /api/events,
	// /api/conversations, /api/canned, /api/presence, /api/me/load,
	// /api/users/{name}/max_chats, PATCH /api/me, PATCH /api/users/{name}, /api/avatars,
	// /api/me/serving and the avatars anyone loads, /avatars/{id}; and after-sales
	// tickets, /api/tickets.
	a.console.Routes(mux)
	a.tickets.Routes(mux)

	// Knowledge editors (package knowledge): /editor, /api/articles, /api/proposals,
	// /api/editor, /api/unanswered.
	a.knowledge.Routes(mux)

	// Admins (package webhook): /api/webhooks.
	a.webhooks.Routes(mux, a.accounts.Require(account.RoleAdmin))

	// Operations.
	mux.Handle("GET /metrics", a.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.Handle("GET /readyz", &readiness{ping: a.desk.Ping, wait: readyWithin, ready: func() (bool, string) {
		return a.knowledge.Follower().Ready(), "knowledge index not built or not following the article store"
	}})
	return withSecurityHeaders(withRequestLog(mux, log))
}

// withRequestLog gives each request an id (X-Request-Id) and a logger carrying it, and
// logs the request at debug level, or at info level when it failed. Query strings are
// not logged: they may carry a conversation token.
func withRequestLog(next http.Handler, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		l := log.With().Str("req", id).Logger()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(l.WithContext(r.Context())))
		ev := l.Debug()
		if rec.status >= 400 {
			ev = l.Info()
		}
		ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).Dur("took", time.Since(start)).Msg("request")
	})
}

// statusRecorder remembers the status a handler wrote. It passes Flush and Hijack on,
// which the event stream and the websocket need.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijacking unsupported")
	}
	s.status = http.StatusSwitchingProtocols
	return h.Hijack()
}
