package console

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
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

// maxSeen bounds how many conversations one event stream remembers having shown its
// reader; past it the memory starts afresh (a chat that then leaves the reader's sight
// stays in their lists until they next read the queue).
const maxSeen = 10_000

// reader filters the desk's events for the user of one event stream: the stream carries
// only what they may read (handoff.MayRead). It is used by one goroutine.
type reader struct {
	c *Server
	u account.User
	// seen are the conversations the stream has shown: when one leaves the reader's
	// sight (transferred to another group), they are told it left, and no more.
	seen map[string]bool
}

// filter turns e into what the reader may see; ok is false for an event they get
// nothing of.
func (rd *reader) filter(ctx context.Context, e *handoff.Event) (streamEvent, bool) {
	switch e.Type {
	case handoff.EventConversation:
		if e.Conversation == nil {
			return streamEvent{}, false
		}
		if handoff.MayRead(rd.u, *e.Conversation) {
			if len(rd.seen) >= maxSeen {
				clear(rd.seen)
			}
			rd.seen[e.Conv] = true
			return rd.c.streamOf(e)
		}
		if !rd.seen[e.Conv] {
			return streamEvent{}, false
		}
		// It left the reader's sight: its queue line, without its records or preview,
		// takes it off their lists.
		delete(rd.seen, e.Conv)
		cv := e.Conversation
		return streamEvent{Type: e.Type, Conversation: e.Conv, Entry: &entry{Conversation: cv.ID, Status: cv.Status, Group: cv.Group}}, true
	case handoff.EventNote:
		if !rd.seen[e.Conv] && rd.u.Role != account.RoleAdmin && rd.u.Role != account.RoleLead {
			cv, err := rd.c.desk.Conversation(ctx, e.Conv)
			if err != nil || !handoff.MayRead(rd.u, cv) {
				return streamEvent{}, false
			}
		}
	case handoff.EventPresence:
		if g := groupSeen(rd.u); e.Presence == nil || (g != "" && e.Presence.Group != g) {
			return streamEvent{}, false
		}
	}
	return rd.c.streamOf(e)
}

// Events handles GET /api/events: Server-Sent Events carrying what changed at the desk
// (streamEvent) that the user may read (reader), and a resync when events were lost.
// The stream ends when the user signs out (on this node at once, on others at the next
// recheck), is disabled or changes their password.
func (c *Server) Events() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		fl, ok := w.(http.Flusher)
		if !ok {
			web.WriteError(w, http.StatusInternalServerError, web.CodeInternal, "streaming unsupported")
			return
		}
		rd := &reader{c: c, u: account.UserFrom(r), seen: map[string]bool{}}
		ended, stop := c.accounts.Ends(r)
		defer stop()
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
			case <-ended:
				return // signed out on this node
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
				out, use := rd.filter(r.Context(), e)
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
