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

// sseRecheck is how often an event stream checks that its user may still read it.
var sseRecheck = 5 * time.Second

// streamEvent is an event as the console reads it off the stream: what changed, so that
// it updates its lists and the open chat without reading them again.
type streamEvent struct {
	Type         handoff.EventType `json:"type"`
	Conversation string            `json:"conversation,omitempty"`
	// Entry is the changed conversation's queue line (EventConversation).
	Entry *entry `json:"entry,omitempty"`
	// Messages are the records the change added.
	Messages []handoff.Message `json:"messages,omitempty"`
	Presence *handoff.Presence `json:"presence,omitempty"`
}

// streamOf turns a desk event into what the console reads; ok is false for events it
// has no use for (queue moves: the conversations' own events tell the console more).
func (c *Server) streamOf(e *handoff.Event) (streamEvent, bool) {
	out := streamEvent{Type: e.Type, Conversation: e.Conv, Messages: c.withURLs(e.Conv, e.Messages), Presence: e.Presence}
	switch e.Type {
	case handoff.EventQueue:
		return out, false
	case handoff.EventConversation:
		if e.Conversation == nil {
			return out, true
		}
		en := entryOf(*e.Conversation, c.now())
		if p, ok := preview(e.Messages); ok {
			en.Preview = &p
		}
		out.Entry = &en
	}
	return out, true
}

// Events handles GET /api/events: Server-Sent Events carrying what changed at the desk
// (streamEvent), and a resync when events were lost.
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
		recheck := time.NewTicker(sseRecheck)
		defer recheck.Stop()
		send := func(e streamEvent) bool {
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
			case <-recheck.C:
				// A user disabled or signed out meanwhile gets no more events.
				if c.accounts.Recheck(r) != nil {
					return
				}
				continue
			case e, ok := <-sub.C:
				if !ok {
					return
				}
				out, use := c.streamOf(e)
				if sub.Missed() {
					out, use = streamEvent{Type: handoff.EventResync}, true
				}
				if !use {
					continue
				}
				if !send(out) {
					return
				}
			}
			fl.Flush()
		}
	})
}
