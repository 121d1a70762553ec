package widget

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Stats counts what the gateway did since it started. It is safe for concurrent use.
type Stats struct {
	connections   atomic.Int64 // open shopper sockets
	conversations atomic.Int64 // conversations started
	messages      atomic.Int64 // shopper messages stored

	mu        sync.Mutex        // guards decisions
	decisions map[string]uint64 // "action/reason" → count
}

func (s *Stats) decided(action, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decisions == nil {
		s.decisions = make(map[string]uint64)
	}
	s.decisions[action+"/"+reason]++
}

// Snapshot is a copy of the counters.
type Snapshot struct {
	Connections   int64
	Conversations int64
	Messages      int64
	// Decisions counts the bot's decisions by action and reason (empty for answers).
	Decisions []DecisionCount
}

// DecisionCount is the number of decisions with one action and reason.
type DecisionCount struct {
	Action, Reason string
	Count          uint64
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Snapshot {
	s := &g.stats
	snap := Snapshot{Connections: s.connections.Load(), Conversations: s.conversations.Load(), Messages: s.messages.Load()}
	s.mu.Lock()
	for k, n := range s.decisions {
		var d DecisionCount
		for i := 0; i < len(k); i++ {
			if k[i] == '/' {
				d = DecisionCount{Action: k[:i], Reason: k[i+1:], Count: n}
				break
			}
		}
		snap.Decisions = append(snap.Decisions, d)
	}
	s.mu.Unlock()
	sort.Slice(snap.Decisions, func(i, j int) bool {
		a, b := snap.Decisions[i], snap.Decisions[j]
		return a.Action+a.Reason < b.Action+b.Reason
	})
	return snap
}
