package handoff

import (
	"context"
	"errors"
	"math"
	"time"
)

// Conversations queued or claimed before the routing state existed (Kefu before issue 4
// kept only an index of waiting conversations and one of each agent's) have a status but
// no route. They are adopted: given the route their own record describes.

// unrouted is called for a conversation without a route. One whose record says queued or
// active is adopted, and errConflict tells the caller to read again; otherwise it returns
// why the change does not fit: claim says whether the change is a claim.
func (d *Desk) unrouted(ctx context.Context, id string, claim bool) error {
	c, err := d.store.Conversation(ctx, id)
	if err != nil {
		return err
	}
	switch c.Status {
	case StatusQueued, StatusActive:
		if err := d.adopt(ctx, c); err != nil && !errors.Is(err, errConflict) && !errors.Is(err, errBusy) {
			return err
		}
		return errConflict
	case StatusResolved:
		return ErrResolved
	}
	if claim {
		return ErrNotQueued
	}
	return ErrNotOwner
}

// adopt gives c the route its record describes: waiting in its group's queue since
// EnqueuedAt, or owned by its agent, whatever their load.
func (d *Desk) adopt(ctx context.Context, c Conversation) error {
	st, err := d.store.RouteState(ctx, c.ID)
	if err != nil {
		return err
	}
	if st.Route != nil || st.Pending != nil {
		return errConflict
	}
	group := c.Group
	if !d.hasGroup(group) {
		group = d.groups[0]
	}
	since := c.EnqueuedAt
	if since.IsZero() {
		since = c.CreatedAt
	}
	since = time.UnixMilli(since.UnixMilli())
	r := &Route{Group: group, Score: d.score(since, c.Reason, c.Intent, group, c.VIP), Since: since, VIP: c.VIP}
	ch := RouteChange{Conv: c.ID, Rev: st.Rev, Next: r, Op: RouteOp{Kind: opAdopt, At: d.nowMS()}}
	if c.Status == StatusActive {
		r.Agent, ch.Cap = c.Agent, math.MaxInt32
	} else {
		ch.Op.Enter = true
	}
	op, err := d.store.Reroute(ctx, ch)
	if err != nil {
		return err
	}
	d.log.Info().Str("conv", c.ID).Str("status", c.Status).Msg("adopting a conversation routed before the routing state")
	return d.complete(ctx, op)
}

// adoptLegacy adopts the conversations of the old waiting index and forgets the index.
func (d *Desk) adoptLegacy(ctx context.Context) error {
	ids, err := d.store.LegacyWaiting(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	var errs []error
	for _, id := range ids {
		c, err := d.store.Conversation(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			errs = append(errs, err)
			continue
		case c.Status == StatusQueued:
			if err := d.adopt(ctx, c); err != nil && !errors.Is(err, errConflict) {
				errs = append(errs, err)
				continue
			}
		}
		if err := d.store.ForgetLegacy(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
