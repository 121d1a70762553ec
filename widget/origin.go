package widget

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Embedding explains itself: a page whose origin is not allowed is refused before the
// websocket upgrade, which a browser does not let the page read. So the refusal is
// logged with the origin and the setting to change, at most once per origin and
// refusalLogEvery, and the widget, after a connection that never opened, asks
// GET /api/widget/origin whether its page may use it at all, and shows the shopper that
// the chat is unavailable instead of connecting forever.

// refusalLogEvery is how often a refused origin is logged again.
const refusalLogEvery = 10 * time.Minute

// maxRefusals bounds the origins remembered for refusalLogEvery.
const maxRefusals = 1000

// refusals remembers when each refused origin was last logged.
type refusals struct {
	mu   sync.Mutex
	last map[string]time.Time // guarded by mu
}

// due reports whether origin's refusal should be logged at now, and notes that it is.
func (rf *refusals) due(origin string, now time.Time) bool {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if t, ok := rf.last[origin]; ok && now.Sub(t) < refusalLogEvery {
		return false
	}
	if rf.last == nil || len(rf.last) >= maxRefusals {
		rf.last = make(map[string]time.Time) // a flood of origins starts the memory over
	}
	rf.last[origin] = now
	return true
}

// originAllowed reports whether a page of origin may use the widget. A request without
// an Origin header does not come from a browser page, so no page's shopper can be
// tricked by it.
func (g *Gateway) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || g.any {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return g.origins[strings.ToLower(u.Scheme+"://"+u.Host)]
}

// refuse answers a request from a page whose origin is not allowed, and logs the
// refusal.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request) {
	g.logRefusal(r)
	http.Error(w, "origin not allowed: add it to KEFU_ALLOWED_ORIGINS", http.StatusForbidden)
}

// logRefusal logs that r's page was refused, with what to do about it, unless its
// origin was logged within refusalLogEvery.
func (g *Gateway) logRefusal(r *http.Request) {
	origin := r.Header.Get("Origin")
	if g.refused.due(origin, g.cfg.Now()) {
		g.log.Warn().Str("origin", origin).Str("path", r.URL.Path).
			Msg("refused a page whose origin is not allowed to embed the widget; to allow it, add the origin to KEFU_ALLOWED_ORIGINS (comma separated, such as https://shop.example.com)")
	}
}

// Origin handles GET /api/widget/origin: whether the calling page's origin may use the
// widget, readable by any page (it tells nothing but the answer), never cached.
func (g *Gateway) Origin(w http.ResponseWriter, r *http.Request) {
	allowed := g.originAllowed(r)
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json; charset=utf-8")
	if !allowed {
		g.logRefusal(r)
	}
	json.NewEncoder(w).Encode(map[string]bool{"allowed": allowed})
}
