package handoff

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Reopen takes a resolved conversation back when the shopper writes again; key is the
// id of the shopper's message, so that a resend reopens once. Within
// DeskConfig.ReopenWindow of an agent's resolve the chat goes back to that agent if they
// are online and below their limit, else to the front of its group's queue (a follow-up
// belongs to whoever just served the shopper, who should not wait behind new chats);
// later, or for a chat no agent resolved (one the shopper left a message in), it goes to
// the bot. It returns the status the conversation has now; for a conversation that is
// not resolved (reopened meanwhile) that status, and nothing changes.
func (d *Desk) Reopen(ctx context.Context, id, key string) (string, error) {
	c, err := d.store.Conversation(ctx, id)
	if err != nil {
		return "", err
	}
	if c.Status != StatusResolved {
		return c.Status, nil
	}
	if d.reopen > 0 && c.Agent != "" && c.Group != "" && !c.ClosedAt.IsZero() && d.now().Sub(c.ClosedAt) <= d.reopen {
		err := d.reopenToPeople(ctx, c, key)
		switch {
		case err == nil, errors.Is(err, errDone), refused(err):
			// Reopened, by this call, an earlier one with the same key, or another.
			c, err := d.store.Conversation(ctx, id)
			if err != nil {
				return "", err
			}
			return c.Status, nil
		default:
			return "", fmt.Errorf("reopening %q: %w", id, err)
		}
	}
	t := Transition{From: []string{StatusResolved}, To: StatusBot}
	_, _, err = d.apply(ctx, id, t, Message{ID: "reopen:" + key, Kind: KindStatus, From: FromSystem, Status: StatusBot})
	if errors.Is(err, ErrWrongStatus) || errors.Is(err, ErrResolved) {
		c, err := d.store.Conversation(ctx, id)
		if err != nil {
			return "", err
		}
		return c.Status, nil
	}
	if err != nil {
		return "", fmt.Errorf("reopening %q: %w", id, err)
	}
	return StatusBot, nil
}

// reopenToPeople routes resolved conversation c to its last agent, or to the front of
// its group's queue when the agent is offline or full.
func (d *Desk) reopenToPeople(ctx context.Context, c Conversation, key string) error {
	group := c.Group
	if !d.hasGroup(group) {
		group = d.groups[0]
	}
	online, err := d.isOnline(ctx, c.Agent)
	if err != nil {
		return err
	}
	limit, err := d.capOf(ctx, c.Agent)
	if err != nil {
		return err
	}
	rkey := "reopen:" + key
	now := d.nowMS()
	mine := func(p RouteOp) bool { return p.Kind == opReopen && p.Next != nil && p.Next.Key == rkey }
	for toAgent := online; ; toAgent = false {
		op, err := d.reroute(ctx, c.ID, mine, func(st RouteState) (RouteChange, error) {
			switch {
			case st.Route != nil && st.Route.Key == rkey:
				return RouteChange{}, errDone
			case st.Route != nil || st.Pending != nil:
				return RouteChange{}, ErrWrongStatus
			}
			next := &Route{Group: group, Score: d.score(now, ReasonReopened, c.Intent, group, c.VIP), Since: now, VIP: c.VIP, Key: rkey}
			ch := RouteChange{Conv: c.ID, Rev: st.Rev, Next: next, Op: RouteOp{Kind: opReopen, At: now}}
			if toAgent {
				next.Agent, ch.Cap, ch.Op.Agent, ch.Op.To = c.Agent, limit, c.Agent, c.Agent
			} else {
				next.Front, ch.Op.Enter = true, true
			}
			return ch, nil
		})
		if toAgent && errors.Is(err, ErrAtCapacity) {
			continue // full: the front of the queue
		}
		if err != nil {
			return err
		}
		if err := d.complete(ctx, op); err != nil {
			return err
		}
		if op.Next.Agent == "" {
			d.assignSoon(ctx, group)
		}
		return nil
	}
}

// writeReopen writes the conversation side of a reopen (routing.go).
func (d *Desk) writeReopen(ctx context.Context, op RouteOp) error {
	c, err := d.store.Conversation(ctx, op.Conv)
	if err != nil {
		return err
	}
	n, key := op.Next, fmt.Sprintf("reopened:%d", op.Rev)
	system := Message{ID: key + ":note", Kind: KindMessage, From: FromSystem, Text: d.phrases.ReopenedQueue}
	t := Transition{From: []string{StatusResolved}, To: StatusQueued, Group: n.Group, Reason: ReasonReopened,
		Intent: c.Intent, Context: c.Context, Since: n.Since, VIP: n.VIP}
	rec := Message{ID: key, Kind: KindHandoff, From: FromSystem, Reason: ReasonReopened, Group: n.Group}
	if n.Agent != "" {
		t = Transition{From: []string{StatusResolved}, To: StatusActive, Agent: n.Agent, Since: n.Since}
		rec = Message{ID: key, Kind: KindStatus, From: FromSystem, Status: StatusActive, Agent: n.Agent, Reason: ReasonReopened, Group: n.Group}
		system.Text = strings.ReplaceAll(d.phrases.ReopenedAgent, "{agent}", n.Agent)
	}
	if _, _, err := d.apply(ctx, op.Conv, t, rec); err != nil {
		return err
	}
	_, _, err = d.apply(ctx, op.Conv, Transition{}, system)
	return err
}
