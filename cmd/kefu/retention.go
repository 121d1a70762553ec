package main

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/audit"
	"github.com/rs/zerolog"
)

// retentionSweepEvery is how often a node sweeps conversations past the retention. Every
// node sweeps: purges are idempotent, so two nodes sweeping at once only repeat work.
const retentionSweepEvery = time.Hour

// sweepRetention deletes the conversations last active more than keep ago, and the
// anonymous ones that never went to people last active more than unattended ago, now
// and then every retentionSweepEvery, until ctx ends (docs/domain.md rules 28 and 30).
// A zero keep or unattended deletes none of its kind. A failed sweep is logged and
// tried again at the next tick.
func (a *app) sweepRetention(ctx context.Context, keep, unattended time.Duration, log zerolog.Logger) error {
	tick := time.NewTicker(retentionSweepEvery)
	defer tick.Stop()
	for {
		now := time.Now()
		var sweep handoff.Sweep
		if keep > 0 {
			sweep.Before = now.Add(-keep)
		}
		if unattended > 0 {
			sweep.Unattended = now.Add(-unattended)
		}
		cutoff := sweep.Before
		n, err := a.desk.SweepRetention(ctx, sweep)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Warn().Err(err).Msg("retention sweep failed; trying again later")
		case n > 0:
			a.audit.Add(nil, "system", audit.ActionRetentionSweep, "", sweepSummary(n, cutoff, sweep.Unattended))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// sweepSummary is the audit log's line of a sweep that deleted n conversations.
func sweepSummary(n int, before, unattended time.Time) string {
	s := fmt.Sprintf("%d conversations", n)
	if !before.IsZero() {
		s += " last active before " + before.UTC().Format(time.RFC3339)
	}
	if !unattended.IsZero() {
		s += "; anonymous ones never handed to people last active before " + unattended.UTC().Format(time.RFC3339)
	}
	return s
}
