package console

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/web"
)

// sseKeepAlive is how often an idle event stream sends a comment, so proxies keep it open.
const sseKeepAlive = 20 * time.Second

// Events handles GET /api/events: Server-Sent Events carrying the store's wake-up events.
func (c *Server) Events() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		fl, ok := w.(http.Flusher)
		if !ok {
			web.WriteError(w, http.StatusInternalServerError, web.CodeInternal, "streaming unsupported")
			return
		}
		sub := c.desk.Subscribe("")
		defer sub.Close()
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("retry: 2000\n\n"))
		fl.Flush()
		tick := time.NewTicker(sseKeepAlive)
		defer tick.Stop()
		send := func(e handoff.Event) bool {
			b, _ := json.Marshal(e)
			_, err := w.Write(append(append([]byte("data: "), b...), '\n', '\n'))
			return err == nil
		}
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
				if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
					return
				}
			case e, ok := <-sub.C:
				if !ok {
					return
				}
				if sub.Missed() {
					e = handoff.Event{Type: handoff.EventResync}
				}
				if !send(e) {
					return
				}
			}
			fl.Flush()
		}
	})
}
