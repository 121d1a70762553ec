package handoff

import (
	"time"

	"github.com/kefu-im/kefu/internal/metrics"
)

// observe counts what a committed change did in the process's metrics: the hand-offs
// it made, the messages it stored, the wait it ended and the first reply it carried.
// It runs on the node that committed the change, once per change (a retry that changed
// nothing is not observed), so that summing the nodes counts every change once.
func (d *Desk) observe(ch Change, res Committed) {
	if res.Dup {
		return
	}
	m := d.metrics
	for _, r := range res.Messages {
		switch r.Kind {
		case KindHandoff:
			m.Handoffs.WithLabelValues(string(r.Reason), string(r.Group)).Inc()
		case KindMessage:
			m.Messages.WithLabelValues(string(r.From)).Inc()
		}
	}
	next := ch.Next
	if next == nil {
		return
	}
	if ch.Waited > 0 {
		m.QueueWaitSeconds.WithLabelValues(string(next.Group)).Observe(ch.Waited.Seconds())
	}
	if prev := ch.Prev; prev != nil && prev.RepliedAt.IsZero() && !next.RepliedAt.IsZero() && !next.EnqueuedAt.IsZero() {
		m.FirstResponseSeconds.WithLabelValues(string(next.Group)).Observe(max(next.RepliedAt.Sub(next.EnqueuedAt), 0).Seconds())
	}
}

// decided observes how long the bot took to decide since start.
func (d *Desk) decided(start time.Time) {
	d.metrics.BotDecisionSeconds.Observe(metrics.Since(start))
}
