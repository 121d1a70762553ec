package handoff

import (
	"context"
	"sort"
	"time"
)

// The memory engine's routing: the same state and rules as the Redis scripts
// (redis_scripts.go), under the store's one mutex.

func cloneRoute(r *Route) *Route {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

func sameRoute(a, b *Route) bool { return encodeRoute(a) == encodeRoute(b) }

// Waiting implements Store.
func (s *MemoryStore) Waiting(_ context.Context) ([]Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type entry struct {
		id    string
		score int64
	}
	var es []entry
	for _, q := range s.queues {
		for id, score := range q {
			es = append(es, entry{id, score})
		}
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].score != es[j].score {
			return es[i].score < es[j].score
		}
		return es[i].id < es[j].id
	})
	var out []Conversation
	for _, e := range es {
		if mc, ok := s.convs[e.id]; ok && mc.c.Status == StatusQueued {
			out = append(out, mc.c)
		}
	}
	return out, nil
}

// Owned implements Store.
func (s *MemoryStore) Owned(_ context.Context, agent string) ([]Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Conversation
	for id := range s.owned[agent] {
		mc, ok := s.convs[id]
		if !ok || mc.c.Status != StatusActive || mc.c.Agent != agent {
			continue // a change whose conversation side is still being written
		}
		out = append(out, mc.c)
	}
	sortByClaim(out)
	return out, nil
}

// Load implements Store.
func (s *MemoryStore) Load(_ context.Context, agent string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.owned[agent]), nil
}

// RouteState implements Store.
func (s *MemoryStore) RouteState(_ context.Context, conv string) (RouteState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := RouteState{Route: cloneRoute(s.routes[conv]), Rev: s.revs[conv]}
	if op, ok := s.pending[conv]; ok {
		st.Pending = &op
	}
	return st, nil
}

// Reroute implements Store.
func (s *MemoryStore) Reroute(_ context.Context, ch RouteChange) (RouteOp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.routes[ch.Conv]
	if s.revs[ch.Conv] != ch.Rev || !sameRoute(prev, ch.Prev) {
		return RouteOp{}, errConflict
	}
	if _, ok := s.pending[ch.Conv]; ok {
		return RouteOp{}, errBusy
	}
	next := ch.Next
	if next != nil && next.Agent != "" && (prev == nil || prev.Agent != next.Agent) && len(s.owned[next.Agent]) >= ch.Cap {
		return RouteOp{}, ErrAtCapacity
	}
	s.unroute(ch.Conv, prev)
	s.route(ch.Conv, next, false)
	s.revs[ch.Conv]++
	op := ch.Op
	op.Conv, op.Rev, op.Prev, op.Next = ch.Conv, s.revs[ch.Conv], cloneRoute(prev), cloneRoute(next)
	s.pending[ch.Conv] = op
	return op, nil
}

// unroute removes conv from the queue or owner set r puts it in. The caller holds s.mu.
func (s *MemoryStore) unroute(conv string, r *Route) {
	switch {
	case r == nil:
	case r.Agent == "":
		delete(s.queues[r.Group], conv)
	default:
		delete(s.owned[r.Agent], conv)
	}
}

// route sets conv's route to r and puts it in its owner's set, or in its queue when
// queue is true. The caller holds s.mu.
func (s *MemoryStore) route(conv string, r *Route, queue bool) {
	if r == nil {
		delete(s.routes, conv)
		return
	}
	s.routes[conv] = cloneRoute(r)
	switch {
	case r.Agent != "":
		if s.owned[r.Agent] == nil {
			s.owned[r.Agent] = make(map[string]bool)
		}
		s.owned[r.Agent][conv] = true
	case queue:
		if s.queues[r.Group] == nil {
			s.queues[r.Group] = make(map[string]int64)
		}
		s.queues[r.Group][conv] = r.queueScore()
	}
}

// Assign implements Store.
func (s *MemoryStore) Assign(_ context.Context, group string, candidates []string, cutoff, at time.Time) (RouteOp, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	conv, found := "", false
	var best int64
	for id, score := range s.queues[group] {
		if !found || score < best || score == best && id < conv {
			conv, best, found = id, score, true
		}
	}
	if !found {
		return RouteOp{}, false, nil
	}
	if _, ok := s.pending[conv]; ok {
		return RouteOp{}, false, errBusy
	}
	prev := s.routes[conv]
	if prev == nil || prev.Agent != "" || prev.Group != group {
		delete(s.queues[group], conv) // left over: the route says otherwise
		return RouteOp{}, false, errConflict
	}
	agent, load := "", 0
	for _, a := range candidates {
		p, ok := s.presence[a]
		seen, tracked := s.seen[a]
		if !ok || !tracked || p.Group != group || p.Status != PresenceOnline || seen < cutoff.UnixMilli() {
			continue
		}
		n := len(s.owned[a])
		if n < p.Cap && (agent == "" || n < load) {
			agent, load = a, n
		}
	}
	if agent == "" {
		return RouteOp{}, false, nil
	}
	next := cloneRoute(prev)
	next.Agent = agent
	s.unroute(conv, prev)
	s.route(conv, next, false)
	s.revs[conv]++
	op := RouteOp{Conv: conv, Rev: s.revs[conv], Kind: opAssign, Agent: agent, To: agent, At: time.UnixMilli(at.UnixMilli()), Prev: cloneRoute(prev), Next: cloneRoute(next)}
	s.pending[conv] = op
	return op, true, nil
}

// FinishRoute implements Store.
func (s *MemoryStore) FinishRoute(_ context.Context, op RouteOp) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[op.Conv]
	if !ok || p.Rev != op.Rev {
		return nil
	}
	if r := s.routes[op.Conv]; p.Enter && r != nil && r.Agent == "" {
		s.route(op.Conv, r, true)
	}
	delete(s.pending, op.Conv)
	return nil
}

// UndoRoute implements Store.
func (s *MemoryStore) UndoRoute(_ context.Context, op RouteOp) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[op.Conv]
	if !ok || p.Rev != op.Rev {
		return nil
	}
	// Next is never in a queue while pending: it joins one at FinishRoute.
	s.unroute(op.Conv, p.Next)
	s.route(op.Conv, p.Prev, true)
	s.revs[op.Conv]++
	delete(s.pending, op.Conv)
	return nil
}

// PendingRoutes implements Store.
func (s *MemoryStore) PendingRoutes(_ context.Context, before time.Time) ([]RouteOp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RouteOp
	for _, op := range s.pending {
		if op.At.Before(before) {
			out = append(out, op)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Conv < out[j].Conv
	})
	return out, nil
}

// Heartbeat implements Store.
func (s *MemoryStore) Heartbeat(_ context.Context, p Presence) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Seen = time.UnixMilli(p.Seen.UnixMilli())
	s.presence[p.Agent] = p
	if p.Status == PresenceOffline {
		s.seen[p.Agent] = 0
	} else {
		s.seen[p.Agent] = p.Seen.UnixMilli()
	}
	return nil
}

// Presences implements Store.
func (s *MemoryStore) Presences(_ context.Context) ([]Presence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Presence, 0, len(s.presence))
	for _, p := range s.presence {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Agent < out[j].Agent })
	return out, nil
}

// Expired implements Store.
func (s *MemoryStore) Expired(_ context.Context, cutoff time.Time) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for a, seen := range s.seen {
		if seen < cutoff.UnixMilli() {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Expire implements Store.
func (s *MemoryStore) Expire(_ context.Context, agent string, cutoff, at time.Time) ([]RouteOp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.presence[agent]
	seen, tracked := s.seen[agent]
	if !ok || !tracked {
		delete(s.seen, agent)
		return nil, nil
	}
	if p.Status != PresenceOffline && seen >= cutoff.UnixMilli() {
		return nil, nil
	}
	at = time.UnixMilli(at.UnixMilli())
	var ops []RouteOp
	left := 0
	for conv := range s.owned[agent] {
		if _, busy := s.pending[conv]; busy {
			left++
			continue
		}
		prev := s.routes[conv]
		if prev == nil || prev.Agent != agent {
			delete(s.owned[agent], conv)
			continue
		}
		next := cloneRoute(prev)
		next.Agent, next.Front, next.Since = "", true, at
		s.unroute(conv, prev)
		s.route(conv, next, false)
		s.revs[conv]++
		op := RouteOp{Conv: conv, Rev: s.revs[conv], Kind: opRequeue, Agent: agent, Enter: true, At: at, Prev: cloneRoute(prev), Next: cloneRoute(next)}
		s.pending[conv] = op
		ops = append(ops, op)
	}
	p.Status = PresenceOffline
	s.presence[agent] = p
	if left == 0 {
		delete(s.seen, agent)
	}
	return ops, nil
}

// LegacyWaiting implements Store: a memory store never had the old index.
func (s *MemoryStore) LegacyWaiting(context.Context) ([]string, error) { return nil, nil }

// ForgetLegacy implements Store.
func (s *MemoryStore) ForgetLegacy(context.Context, string) error { return nil }
