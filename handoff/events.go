package handoff

import (
	"encoding/json"
	"sync"
	"sync/atomic"
)

// EventType says what an Event tells.
type EventType string

// Event types.
const (
	// EventConversation: conversation Conv changed; Conversation is its record after the
	// change and Messages the records the change added.
	EventConversation EventType = "conversation"
	// EventQueue: Group's queue changed to version Ver; Left and Joined are the places
	// that left it and joined it.
	EventQueue EventType = "queue"
	// EventPresence: an agent's presence changed to Presence.
	EventPresence EventType = "presence"
	// EventNote: a note was added to Conv.
	EventNote EventType = "note"
	// EventPhrasebook: an admin saved the phrasebook at revision Ver; every node
	// reloads it (Desk.SavePhrasebook).
	EventPhrasebook EventType = "phrasebook"
	// EventResync: events may have been lost; a subscriber reads again what it shows.
	EventResync EventType = "resync"
)

// Event tells subscribers what changed, so that they need not read it again: a reader
// does constant work per event. Only after an EventResync, or when its Subscription
// missed events, does a reader go back to the engine.
type Event struct {
	Type         EventType     `json:"type"`
	Conv         string        `json:"conversation,omitempty"`
	Conversation *Conversation `json:"-"`
	Messages     []Message     `json:"messages,omitempty"`
	Group        Group         `json:"group,omitempty"`
	Ver          int64         `json:"ver,omitempty"`
	Left         *QueueKey     `json:"left,omitempty"`
	Joined       *QueueKey     `json:"joined,omitempty"`
	Presence     *Presence     `json:"presence,omitempty"`
}

// MarshalJSON writes the event with its record as engines carry it between nodes (the
// queue order with it, never the token).
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	w := struct {
		plain
		Record *record `json:"record,omitempty"`
	}{plain: plain(e)}
	if c := e.Conversation; c != nil {
		w.Record = &record{Conversation: *c, Score: c.Score, Front: c.Front, Key: c.Key}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON wrote; a token in the record is dropped.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var w struct {
		plain
		Record *record `json:"record,omitempty"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = Event(w.plain)
	if r := w.Record; r != nil {
		c := r.Conversation
		c.Score, c.Front, c.Key = r.Score, r.Front, r.Key
		e.Conversation = &c
	}
	return nil
}

// Subscription receives events: those of one conversation, and of a queue while it
// watches one (WatchQueue), or all of them. C is closed by Close. An event is shared by
// every subscriber it goes to: read it, never change it.
type Subscription struct {
	C <-chan *Event

	c      chan *Event
	conv   string
	hub    *hub
	missed atomic.Bool
	queue  Group  // guarded by hub.mu
	wake   func() // guarded by hub.mu
}

// OnEvent makes the hub call wake after it hands the subscription an event (or drops
// one, see Missed), so that a subscriber need not keep a goroutine waiting on C: it
// drains C when woken. wake runs on the delivering goroutine with the hub locked: it
// must only note the wake-up or start a goroutine, never block or subscribe.
func (s *Subscription) OnEvent(wake func()) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.wake = wake
}

// Missed reports, and clears, whether events were dropped because C was full. A
// subscriber that sees it reads again what it shows.
func (s *Subscription) Missed() bool { return s.missed.Swap(false) }

// WatchQueue makes the subscription receive the events of group's queue as well, or of
// no queue when group is empty.
func (s *Subscription) WatchQueue(group Group) { s.hub.watch(s, group) }

// Close ends the subscription.
func (s *Subscription) Close() { s.hub.unsubscribe(s) }

// Each subscriber's backlog is bounded; past it events are dropped and the subscriber
// told through Missed. A conversation's subscriber (a shopper's socket) drains its few
// events as they come; a subscriber of all events (an agent's console) sees every
// conversation's and gets more room.
const (
	convBuffer = 16
	allBuffer  = 256
)

// hub fans events out to this node's subscribers, indexed so that an event reaches only
// those it concerns. It never blocks on a slow subscriber.
type hub struct {
	mu     sync.Mutex // guards the maps below and every Subscription.queue
	all    map[*Subscription]struct{}
	convs  map[string]map[*Subscription]struct{}
	queues map[Group]map[*Subscription]struct{}
}

func newHub() *hub {
	return &hub{
		all:    make(map[*Subscription]struct{}),
		convs:  make(map[string]map[*Subscription]struct{}),
		queues: make(map[Group]map[*Subscription]struct{}),
	}
}

func (h *hub) subscribe(conv string) *Subscription {
	size := convBuffer
	if conv == "" {
		size = allBuffer
	}
	c := make(chan *Event, size)
	s := &Subscription{C: c, c: c, conv: conv, hub: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if conv == "" {
		h.all[s] = struct{}{}
	} else {
		add(h.convs, conv, s)
	}
	return s
}

func add[K comparable](m map[K]map[*Subscription]struct{}, k K, s *Subscription) {
	if m[k] == nil {
		m[k] = make(map[*Subscription]struct{})
	}
	m[k][s] = struct{}{}
}

func remove[K comparable](m map[K]map[*Subscription]struct{}, k K, s *Subscription) {
	delete(m[k], s)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}

func (h *hub) watch(s *Subscription, group Group) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.queue != "" {
		remove(h.queues, s.queue, s)
	}
	s.queue = group
	if group != "" {
		add(h.queues, group, s)
	}
}

func (h *hub) unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.all[s]; ok {
		delete(h.all, s)
	} else if _, ok := h.convs[s.conv][s]; ok {
		remove(h.convs, s.conv, s)
	} else {
		return // closed before
	}
	if s.queue != "" {
		remove(h.queues, s.queue, s)
	}
	close(s.c)
}

// deliver hands e to the subscribers it concerns: a conversation's events to that
// conversation's, a queue's and its group's presence to those watching the queue, and
// every event to those of all. A resync goes to everyone.
func (h *hub) deliver(ev Event) {
	e := &ev
	h.mu.Lock()
	defer h.mu.Unlock()
	send := func(s *Subscription) {
		select {
		case s.c <- e:
		default:
			s.missed.Store(true)
		}
		if s.wake != nil {
			s.wake()
		}
	}
	for s := range h.all {
		send(s)
	}
	switch e.Type {
	case EventConversation, EventNote:
		for s := range h.convs[e.Conv] {
			send(s)
		}
	case EventQueue:
		for s := range h.queues[e.Group] {
			send(s)
		}
	case EventPresence:
		// Whether anybody of the group is online changes what its waiting shoppers
		// are offered.
		if e.Presence != nil {
			for s := range h.queues[e.Presence.Group] {
				send(s)
			}
		}
	default:
		for _, subs := range h.convs {
			for s := range subs {
				send(s)
			}
		}
	}
}
