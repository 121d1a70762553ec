package main

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/internal/audit"
	"github.com/rs/zerolog"
)

// retentionSweepEvery is how often a node sweeps conversations past the retention. Every
// node sweeps: purges are idempotent, so two nodes sweeping at once only repeat work.
const retentionSweepEvery = time.Hour

// sweepRetention deletes the conversations last active more than keep ago, now and then
// every retentionSweepEvery, until ctx ends (docs/domain.md rule 28). A failed sweep is
// logged and tried again at the next tick.
func (a *app) sweepRetention(ctx context.Context, keep time.Duration, log zerolog.Logger) error {
	tick := time.NewTicker(retentionSweepEvery)
	defer tick.Stop()
	for {
		cutoff := time.Now().Add(-keep)
		n, err := a.desk.SweepRetention(ctx, cutoff)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Warn().Err(err).Msg("retention sweep failed; trying again later")
		case n > 0:
			a.audit.Add(nil, "system", audit.ActionRetentionSweep, "", fmt.Sprintf("%d conversations last active before %s", n, cutoff.UTC().Format(time.RFC3339)))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
