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

	mu        sync.Mutex        // guards decisions and feedback
	decisions map[string]uint64 // "action/reason" → count
	feedback  map[FeedbackKey]uint64
}

// FeedbackKey is what a count of shoppers' feedback on bot answers is kept by.
type FeedbackKey struct {
	Article string
	Helpful bool
}

// FeedbackCount is how often shoppers said answers from an article helped, or did not.
type FeedbackCount struct {
	FeedbackKey
	Count uint64
}

func (s *Stats) feedbackGiven(article string, helpful bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.feedback == nil {
		s.feedback = make(map[FeedbackKey]uint64)
	}
	s.feedback[FeedbackKey{article, helpful}]++
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
	// Feedback counts 有帮助 / 没帮助 on bot answers by article, sorted.
	Feedback []FeedbackCount
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
	for k, n := range s.feedback {
		snap.Feedback = append(snap.Feedback, FeedbackCount{k, n})
	}
	s.mu.Unlock()
	sort.Slice(snap.Feedback, func(i, j int) bool {
		a, b := snap.Feedback[i], snap.Feedback[j]
		return a.Article < b.Article || a.Article == b.Article && !a.Helpful && b.Helpful
	})
	sort.Slice(snap.Decisions, func(i, j int) bool {
		a, b := snap.Decisions[i], snap.Decisions[j]
		return a.Action+a.Reason < b.Action+b.Reason
	})
	return snap
}
