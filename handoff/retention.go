package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retention (docs/domain.md rule 28): conversations whose last activity is older than
// the retention are deleted whole — record, log, decisions, notes and photos — by a
// periodic sweep. Tickets stay: they are the shop's after-sales records.

// ErrNoPurge is returned when the desk's engine cannot delete conversations.
var ErrNoPurge = errors.New("the storage engine cannot delete conversations")

// FileEraser deletes the photos of a conversation; files.Service is one. The desk's
// Files is asked for it: Files that cannot erase leave photos to their store's own
// lifecycle.
type FileEraser interface {
	DeleteConversation(ctx context.Context, conv string) error
}

// LastActivity is when conversation c last changed: the time of the last record of its
// log, or its creation when the log is empty.
func (d *Desk) LastActivity(ctx context.Context, c Conversation) (time.Time, error) {
	last := c.CreatedAt
	if c.Seq > 0 {
		ms, err := d.convs.Messages(ctx, c.ID, c.Seq-1, 1)
		if err != nil {
			return time.Time{}, fmt.Errorf("reading the last record of %q: %w", c.ID, err)
		}
		if len(ms) == 1 && ms[0].TS > 0 {
			last = time.UnixMilli(ms[0].TS)
		}
	}
	return last, nil
}

// PurgeConversation deletes everything kept of conversation id: its photos, then the
// engine's data (Purger.Purge). Tickets are left to the caller.
func (d *Desk) PurgeConversation(ctx context.Context, id string) error {
	if d.purger == nil {
		return ErrNoPurge
	}
	if fe, ok := d.files.(FileEraser); ok {
		if err := fe.DeleteConversation(ctx, id); err != nil {
			return fmt.Errorf("deleting the photos of %q: %w", id, err)
		}
	}
	return d.purger.Purge(ctx, id)
}

// Sweep says which conversations SweepRetention deletes. A zero time deletes none of
// its kind.
type Sweep struct {
	// Before: every conversation last active before it (docs/domain.md rule 28).
	Before time.Time
	// Unattended: the anonymous conversations that never went to people, last active
	// before it (docs/domain.md rule 30). A verified shopper's chats, and every chat an
	// agent saw, wait for Before.
	Unattended time.Time
}

// unattended reports whether c is an anonymous chat that never went to people.
func unattended(c Conversation) bool {
	return (c.Shopper == nil || !c.Shopper.Verified) && c.Marks&MarkPeople == 0 &&
		c.Agent == "" && c.Status != StatusQueued && c.Status != StatusActive
}

// cutoff is the time before which c's last activity has it deleted; zero for none.
func (s Sweep) cutoff(c Conversation) time.Time {
	if !s.Unattended.IsZero() && unattended(c) && (s.Before.IsZero() || s.Unattended.After(s.Before)) {
		return s.Unattended
	}
	return s.Before
}

// SweepRetention deletes every conversation that s says, and returns how many it
// deleted. A conversation that fails is logged and left for the next sweep; the sweep
// goes on.
func (d *Desk) SweepRetention(ctx context.Context, s Sweep) (int, error) {
	if d.purger == nil {
		return 0, ErrNoPurge
	}
	ids, err := d.purger.ConversationIDs(ctx)
	if err != nil {
		return 0, err
	}
	n, failed := 0, 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		c, err := d.convs.Conversation(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err == nil {
			cutoff := s.cutoff(c)
			if cutoff.IsZero() {
				continue
			}
			var last time.Time
			if last, err = d.LastActivity(ctx, c); err == nil && !last.Before(cutoff) {
				continue
			}
		}
		if err == nil {
			err = d.PurgeConversation(ctx, id)
		}
		if err != nil {
			failed++
			d.log.Warn().Err(err).Str("conv", id).Msg("retention sweep: conversation left for the next sweep")
			continue
		}
		n++
	}
	if n > 0 || failed > 0 {
		d.log.Info().Int("deleted", n).Int("failed", failed).Time("cutoff", s.Before).Time("unattended", s.Unattended).Msg("retention sweep")
	}
	return n, nil
}
