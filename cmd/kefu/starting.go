package main

import (
	"net/http"

	"github.com/kefu-im/kefu/internal/web"
)

// untilStarted answers, until the node's start is done (app.start), what cannot be
// served yet: /readyz says the node is starting, and the shoppers' websocket and the
// bot's API, which need the index, answer 503 unavailable rather than a bot that knows
// no article. The widget takes a refused websocket for a node that is away and
// reconnects, as it does during a restart. Everything else is served: /healthz at
// once, the pages, and the APIs, which answer from the storage or say it is
// unavailable.
func (a *app) untilStarted(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.started.Load() {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case r.URL.Path == "/readyz":
			http.Error(w, "starting: waiting for the storage or building the knowledge index", http.StatusServiceUnavailable)
		case r.URL.Path == "/ws/shopper" || r.URL.Path == "/api/bot/ask" && r.Method == http.MethodPost:
			w.Header().Set("Retry-After", "5")
			web.WriteError(w, http.StatusServiceUnavailable, web.CodeUnavailable, "服务暂时不可用，请稍后重试")
		default:
			next.ServeHTTP(w, r)
		}
	})
}
