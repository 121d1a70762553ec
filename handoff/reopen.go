package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/internal/triage"
)

// Reopen takes a resolved conversation back when the shopper writes again; key is the
// id of the shopper's message, so that a resend reopens once. Within
// DeskConfig.ReopenWindow of an agent's resolve the chat goes back to that agent if they
// are online and below their limit, else to the front of its group's queue (a follow-up
// belongs to whoever just served the shopper, who should not wait behind new chats);
// later, or for a chat no agent resolved (one the shopper left a message in), it goes to
// the bot. It returns the status the conversation has now; a conversation that is not
// resolved (reopened meanwhile) keeps its status.
func (d *Desk) Reopen(ctx context.Context, id, key string) (Status, error) {
	c, err := d.convs.Conversation(ctx, id)
	if err != nil {
		return "", err
	}
	if c.Status != StatusResolved {
		return c.Status, nil
	}
	// Whether the agent can take it back is read once: the change below checks the
	// agent's load again against what it reads.
	toAgent, limit := false, 0
	if d.reopen > 0 && c.Agent != "" && c.Group != "" && !c.ClosedAt.IsZero() && d.now().Sub(c.ClosedAt) <= d.reopen {
		p, ok, err := d.presenceOf(ctx, c.Agent)
		if err != nil {
			return "", err
		}
		toAgent = ok && d.effective(p, d.now()) == PresenceOnline
		if limit, err = d.capOf(ctx, c.Agent); err != nil {
			return "", err
		}
	}
	rkey := "reopen:" + key
	now := d.nowMS()
	res, err := d.change(ctx, id, func(c Conversation) (Change, error) {
		if c.Status != StatusResolved {
			return Change{}, errDone // reopened meanwhile, by a resend or another node
		}
		next := c
		within := d.reopen > 0 && c.Agent != "" && c.Group != "" && !c.ClosedAt.IsZero() && now.Sub(c.ClosedAt) <= d.reopen
		if !within {
			next.Status, next.Agent = StatusBot, ""
			return Change{Next: &next, Append: []Message{{ID: rkey, Kind: KindStatus, From: FromSystem, Status: StatusBot}}}, nil
		}
		group := c.Group
		if !d.hasGroup(group) {
			group = d.groupFor(c.Reason, c.Intent)
		}
		next.Group, next.EnqueuedAt, next.Key, next.RepliedAt = group, now, rkey, time.Time{}
		next.Score = d.score(now, triage.ReasonReopened, c.Intent, group, c.VIP)
		if toAgent {
			n, err := d.load(ctx, c.Agent)
			if err != nil {
				return Change{}, err
			}
			if n < limit {
				next.Status, next.ClaimedAt = StatusActive, now
				return Change{Next: &next, Owner: c.Agent, Load: n, Append: []Message{
					{ID: rkey, Kind: KindStatus, From: FromSystem, Status: StatusActive, Agent: c.Agent, Reason: triage.ReasonReopened, Group: group},
					system(rkey+":note", d.withAgent(ctx, d.PhrasesFor(c.Lang).ReopenedAgent, c.Agent)),
				}}, nil
			}
		}
		next.Status, next.Agent, next.Front, next.Reason = StatusQueued, "", true, triage.ReasonReopened
		return Change{Next: &next, Append: []Message{
			{ID: rkey, Kind: KindHandoff, From: FromSystem, Reason: triage.ReasonReopened, Group: group},
			system(rkey+":note", d.PhrasesFor(c.Lang).ReopenedQueue),
		}}, nil
	})
	switch {
	case errors.Is(err, errDone):
		c, err := d.convs.Conversation(ctx, id)
		return c.Status, err
	case err != nil:
		return "", fmt.Errorf("reopening %q: %w", id, err)
	}
	if c := res.Conversation; c.Status == StatusQueued {
		d.assignSoon(ctx, c.Group)
	}
	return res.Conversation.Status, nil
}
