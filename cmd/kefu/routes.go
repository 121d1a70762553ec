package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// routes is every URL Kefu serves, in one place.
func routes(a *app, log zerolog.Logger) http.Handler {
	mux := http.NewServeMux()
	g, c := a.gateway, a.console

	// Shoppers (package widget).
	mux.HandleFunc("GET /{$}", g.Demo)
	mux.HandleFunc("GET /widget.js", g.Script)
	mux.Handle("GET /ws/shopper", g)
	mux.HandleFunc("POST /api/bot/ask", g.Ask)
	mux.HandleFunc("OPTIONS /api/bot/ask", g.AskPreflight)

	// Signing in, users and API tokens (package internal/account): the console's and the
	// editor's.
	acc := a.accounts.API()
	mux.HandleFunc("POST /api/login", acc.Login)
	mux.HandleFunc("POST /api/logout", acc.Logout)
	mux.HandleFunc("GET /api/me", acc.Me())
	mux.HandleFunc("GET /api/users", acc.Users())
	mux.HandleFunc("POST /api/users", acc.AddUser())
	mux.HandleFunc("GET /api/tokens", acc.Tokens())
	mux.HandleFunc("POST /api/tokens", acc.AddToken())
	mux.HandleFunc("DELETE /api/tokens/{id}", acc.RevokeToken())

	// Agents (package handoff/console).
	mux.HandleFunc("GET /console", c.Page)
	mux.HandleFunc("GET /console/static/{file}", c.Static)
	mux.HandleFunc("GET /api/queue", c.Queue())
	mux.HandleFunc("GET /api/events", c.Events())
	mux.HandleFunc("GET /api/conversations/{id}", c.Conversation())
	mux.HandleFunc("GET /api/conversations/{id}/messages", c.Messages())
	mux.HandleFunc("POST /api/conversations/{id}/claim", c.Claim())
	mux.HandleFunc("POST /api/conversations/{id}/messages", c.Reply())
	mux.HandleFunc("POST /api/conversations/{id}/resolve", c.Resolve())
	mux.HandleFunc("GET /api/canned", c.Canned())
	mux.HandleFunc("GET /api/conversations/{id}/notes", c.GetNotes())
	mux.HandleFunc("POST /api/conversations/{id}/notes", c.PostNote())
	mux.HandleFunc("POST /api/conversations/{id}/transfer", c.Transfer())
	mux.HandleFunc("POST /api/conversations/{id}/bot", c.BackToBot())
	mux.HandleFunc("POST /api/presence", c.Presence())
	mux.HandleFunc("GET /api/presence", c.Agents())
	mux.HandleFunc("GET /api/me/load", c.Load())
	mux.HandleFunc("POST /api/tickets", a.tickets.Create())
	mux.HandleFunc("GET /api/tickets", a.tickets.List())
	mux.HandleFunc("GET /api/tickets/{id}", a.tickets.Get())
	mux.HandleFunc("POST /api/tickets/{id}/transition", a.tickets.Transition())
	mux.HandleFunc("POST /api/tickets/{id}/approve", a.tickets.Approve())
	mux.HandleFunc("POST /api/tickets/{id}/reject", a.tickets.Reject())
	mux.HandleFunc("PUT /api/users/{name}/max_chats", c.SetMaxChats())

	// Knowledge editors (package knowledge).
	k := a.knowledge
	mux.HandleFunc("GET /editor", k.Page)
	mux.HandleFunc("GET /editor/static/{file}", k.Static)
	mux.HandleFunc("GET /api/articles", k.List())
	mux.HandleFunc("POST /api/articles", k.Create())
	mux.HandleFunc("POST /api/articles/import", k.Import())
	mux.HandleFunc("GET /api/articles/export", k.Export())
	mux.HandleFunc("GET /api/articles/{id}", k.Get())
	mux.HandleFunc("PUT /api/articles/{id}", k.Update())
	mux.HandleFunc("DELETE /api/articles/{id}", k.Delete())
	mux.HandleFunc("GET /api/articles/{id}/versions", k.Versions())
	mux.HandleFunc("GET /api/articles/{id}/versions/{n}", k.Version())
	mux.HandleFunc("POST /api/articles/{id}/restore", k.Restore())
	mux.HandleFunc("POST /api/proposals", k.Propose())
	mux.HandleFunc("POST /api/editor/preview", k.Preview())
	mux.HandleFunc("POST /api/editor/ask", k.Ask())
	mux.HandleFunc("GET /api/editor/status", k.Status())
	mux.HandleFunc("GET /api/unanswered", k.Unanswered())
	mux.HandleFunc("POST /api/unanswered/dismiss", k.DismissUnanswered())
	mux.HandleFunc("POST /api/unanswered/attach", k.AttachUnanswered())

	// Operations.
	mux.HandleFunc("GET /metrics", metrics(a))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.desk.Ping(r.Context()); err != nil {
			zerolog.Ctx(r.Context()).Warn().Err(err).Msg("not ready")
			http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
			return
		}
		if !a.knowledge.Follower().Ready() {
			http.Error(w, "knowledge index not built or not following the article store", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return withRequestLog(mux, log)
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
