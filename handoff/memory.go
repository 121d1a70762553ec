package handoff

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemoryStore is the in-process Store: everything lives in maps and is gone when the
// process ends. It is the default for a single node.
type MemoryStore struct {
	*hub
	now func() time.Time

	mu    sync.Mutex // guards everything below
	convs map[string]*memConv
	waits []time.Duration

	// Routing state, as the Redis engine keeps it under {q} (memory_route.go).
	routes   map[string]*Route           // conversation → route
	revs     map[string]int64            // conversation → routing revision
	pending  map[string]RouteOp          // conversation → pending change
	queues   map[string]map[string]int64 // group → conversation → queue score
	owned    map[string]map[string]bool  // agent → conversations
	presence map[string]Presence         // agent → last heartbeat
	seen     map[string]int64            // tracked agent → last heartbeat, ms; 0 once offline

	shoppers map[string][]string // verified shopper → conversations, newest first (memory_shopper.go)
}

type memConv struct {
	c         Conversation
	log       []Message
	ids       map[string]int64
	decisions []Decision // the last maxDecisions, oldest first
	notes     []Note     // agents-only notes, oldest first (memory_notes.go)
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore. now is the clock; nil means time.Now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{
		hub:      newHub(),
		now:      now,
		convs:    make(map[string]*memConv),
		routes:   make(map[string]*Route),
		revs:     make(map[string]int64),
		pending:  make(map[string]RouteOp),
		queues:   make(map[string]map[string]int64),
		owned:    make(map[string]map[string]bool),
		presence: make(map[string]Presence),
		seen:     make(map[string]int64),
		shoppers: make(map[string][]string),
	}
}

// Create implements Store.
func (s *MemoryStore) Create(_ context.Context, c Conversation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.convs[c.ID]; ok {
		return fmt.Errorf("creating conversation %q: already exists", c.ID)
	}
	c.Seq = 0
	s.convs[c.ID] = &memConv{c: c, ids: make(map[string]int64)}
	return nil
}

// Conversation implements Store.
func (s *MemoryStore) Conversation(_ context.Context, id string) (Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc, ok := s.convs[id]
	if !ok {
		return Conversation{}, ErrNotFound
	}
	return mc.c, nil
}

// Append implements Store.
func (s *MemoryStore) Append(ctx context.Context, id string, m Message) (Message, bool, error) {
	return s.Apply(ctx, id, Transition{}, m)
}

// Apply implements Store.
func (s *MemoryStore) Apply(_ context.Context, id string, t Transition, m Message) (Message, bool, error) {
	if m.ID == "" {
		return Message{}, false, fmt.Errorf("appending to %q: message without id", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mc, ok := s.convs[id]
	if !ok {
		return Message{}, false, ErrNotFound
	}
	if seq, ok := mc.ids[m.ID]; ok {
		return mc.log[seq-1], true, nil
	}
	if err := checkTransition(mc.c.Status, mc.c.Agent, t); err != nil {
		return Message{}, false, err
	}
	now := s.now()
	applyTransition(&mc.c, t, now)
	mc.c.Seq++
	m.Seq = mc.c.Seq
	m.TS = now.UnixMilli()
	mc.log = append(mc.log, m)
	mc.ids[m.ID] = m.Seq
	return m, false, nil
}

// checkTransition is the rule both engines apply (the Redis engine in Lua).
func checkTransition(status, agent string, t Transition) error {
	if len(t.From) > 0 && !slices.Contains(t.From, status) {
		if t.Owner != "" && status != StatusResolved {
			return ErrNotOwner // an agent acting on a chat that is not theirs
		}
		switch status {
		case StatusActive:
			if t.To == StatusActive {
				return ErrAlreadyClaimed
			}
		case StatusResolved:
			return ErrResolved
		case StatusBot:
			if t.To == StatusActive {
				return ErrNotQueued
			}
		}
		return ErrWrongStatus
	}
	if t.Owner != "" && agent != t.Owner {
		return ErrNotOwner
	}
	return nil
}

func applyTransition(c *Conversation, t Transition, now time.Time) {
	if t.To == "" {
		return
	}
	c.Status = t.To
	switch t.To {
	case StatusQueued:
		c.Group, c.Reason, c.Intent, c.Context, c.VIP = t.Group, t.Reason, t.Intent, t.Context, t.VIP
		c.EnqueuedAt = now
		if !t.Since.IsZero() {
			c.EnqueuedAt = t.Since
		}
		c.Agent = ""
	case StatusActive:
		c.Agent = t.Agent
		c.ClaimedAt = now
		if !t.Since.IsZero() {
			c.EnqueuedAt = t.Since
		}
	case StatusResolved:
		c.ClosedAt = now
	}
}

// Messages implements Store.
func (s *MemoryStore) Messages(_ context.Context, id string, after int64, limit int) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc, ok := s.convs[id]
	if !ok {
		return nil, ErrNotFound
	}
	if after < 0 {
		after = 0
	}
	if after >= int64(len(mc.log)) {
		return nil, nil
	}
	out := mc.log[after:]
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return slices.Clone(out), nil
}

// RecordWait implements Store.
func (s *MemoryStore) RecordWait(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append([]time.Duration{d}, s.waits...)
	if len(s.waits) > maxRecentWaits {
		s.waits = s.waits[:maxRecentWaits]
	}
	return nil
}

// RecentWaits implements Store.
func (s *MemoryStore) RecentWaits(_ context.Context) ([]time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits), nil
}

// Publish implements Store.
func (s *MemoryStore) Publish(_ context.Context, e Event) error {
	s.deliver(e)
	return nil
}

// Subscribe implements Store.
func (s *MemoryStore) Subscribe(conv string) *Subscription { return s.subscribe(conv) }

// Run implements Store; the memory engine has no other nodes, so it only waits.
func (s *MemoryStore) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Ping implements Store.
func (s *MemoryStore) Ping(context.Context) error { return nil }

// Close implements Store.
func (s *MemoryStore) Close() error { return nil }
