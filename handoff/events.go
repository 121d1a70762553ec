package handoff

import (
	"sync"
	"sync/atomic"
)

// Event kinds.
const (
	EventMessage  = "message"  // a record was appended to Conv's log, Seq is its number
	EventStatus   = "status"   // Conv's status changed
	EventQueue    = "queue"    // the waiting queue changed
	EventPresence = "presence" // an agent's presence changed
	EventResync   = "resync"   // events may have been lost: re-read everything
)

// Event is a wake-up signal. It says that something changed, not what: the store is the
// truth, and a subscriber reads what is new from it.
type Event struct {
	Type string `json:"type"`
	Conv string `json:"conversation,omitempty"`
	Seq  int64  `json:"seq,omitempty"`
}

// Subscription receives events. C is closed by Close.
type Subscription struct {
	C <-chan Event

	c      chan Event
	conv   string
	hub    *hub
	missed atomic.Bool
}

// Missed reports, and clears, whether events were dropped because C was full. A
// subscriber that sees it re-reads everything it shows.
func (s *Subscription) Missed() bool { return s.missed.Swap(false) }

// Close ends the subscription.
func (s *Subscription) Close() { s.hub.unsubscribe(s) }

// subscriptionBuffer bounds each subscriber's backlog; past it events are dropped and
// the subscriber told through Missed.
const subscriptionBuffer = 64

// hub fans events out to this node's subscribers. It never blocks on a slow subscriber.
type hub struct {
	mu   sync.Mutex // guards subs
	subs map[*Subscription]struct{}
}

func newHub() *hub { return &hub{subs: make(map[*Subscription]struct{})} }

func (h *hub) subscribe(conv string) *Subscription {
	c := make(chan Event, subscriptionBuffer)
	s := &Subscription{C: c, c: c, conv: conv, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.c)
	}
}

func (h *hub) deliver(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.conv != "" && s.conv != e.Conv && e.Type != EventQueue && e.Type != EventResync {
			continue
		}
		select {
		case s.c <- e:
		default:
			s.missed.Store(true)
		}
	}
}
