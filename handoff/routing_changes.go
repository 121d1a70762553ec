package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kefu-im/kefu/internal/account"
)

// The desk's routing changes: each is decided by one routing write and then written to
// the conversation (routing.go).

// Handoff moves a conversation from the bot to the queue of its group (DeskConfig.Groups;
// another group means the first), and tells the shopper with the group's transfer
// phrase. It returns ErrWrongStatus when the conversation is already queued or with an
// agent. A retry with the same Key succeeds and changes nothing.
func (d *Desk) Handoff(ctx context.Context, id string, h HandoffRequest) error {
	group := h.Group
	if !d.hasGroup(group) {
		group = d.groups[0]
	}
	vip := min(max(h.VIP, 0), d.maxVIP)
	key := "handoff:" + h.Key
	now := d.nowMS()
	data, err := json.Marshal(handoffData{Key: h.Key, Reason: h.Reason, Intent: h.Intent, Context: h.Context})
	if err != nil {
		return fmt.Errorf("encoding the hand-off: %w", err)
	}
	mine := func(p RouteOp) bool { return p.Kind == opHandoff && p.Next != nil && p.Next.Key == key }
	op, err := d.reroute(ctx, id, mine, func(st RouteState) (RouteChange, error) {
		if st.Route != nil && st.Route.Key == key {
			return RouteChange{}, errDone
		}
		if st.Route != nil || st.Pending != nil {
			return RouteChange{}, ErrWrongStatus
		}
		next := &Route{Group: group, Score: d.score(now, h.Reason, h.Intent, group, vip), Since: now, VIP: vip, Key: key}
		return RouteChange{Conv: id, Rev: st.Rev, Next: next, Op: RouteOp{Kind: opHandoff, Enter: true, At: now, Data: data}}, nil
	})
	if errors.Is(err, errDone) {
		d.publish(ctx, Event{Type: EventQueue})
		return nil
	}
	if err != nil {
		return err
	}
	if err := d.complete(ctx, op); err != nil {
		return err
	}
	d.assignSoon(ctx, group)
	return nil
}

// capOf returns how many chats agent may own at once.
func (d *Desk) capOf(ctx context.Context, agent string) (int, error) {
	u, err := d.staff.User(ctx, agent)
	if errors.Is(err, account.ErrNotFound) {
		return d.maxChats, nil
	}
	if err != nil {
		return 0, err
	}
	return d.capFor(u), nil
}

func (d *Desk) capFor(u account.User) int {
	if u.MaxChats > 0 {
		return u.MaxChats
	}
	return d.maxChats
}

// Claim gives a queued conversation to agent. Exactly one of several agents claiming at
// once succeeds; the others get ErrAlreadyClaimed. An agent who owns as many chats as
// they may gets ErrAtCapacity. Claiming a chat one owns already succeeds.
func (d *Desk) Claim(ctx context.Context, id, agent string) (Conversation, error) {
	limit, err := d.capOf(ctx, agent)
	if err != nil {
		return Conversation{}, err
	}
	now := d.nowMS()
	mine := func(p RouteOp) bool { return (p.Kind == opClaim || p.Kind == opAssign) && p.To == agent }
	op, err := d.reroute(ctx, id, mine, func(st RouteState) (RouteChange, error) {
		if p := st.Pending; p != nil {
			switch {
			case p.To != "":
				return RouteChange{}, ErrAlreadyClaimed
			case p.Enter:
				return RouteChange{}, ErrNotQueued
			}
			return RouteChange{}, ErrBusy
		}
		r := st.Route
		switch {
		case r == nil:
			return RouteChange{}, d.unrouted(ctx, id, true)
		case r.Agent == agent:
			return RouteChange{}, errDone
		case r.Agent != "":
			return RouteChange{}, ErrAlreadyClaimed
		}
		next := *r
		next.Agent = agent
		return RouteChange{Conv: id, Rev: st.Rev, Prev: r, Next: &next, Cap: limit, Op: RouteOp{Kind: opClaim, Agent: agent, To: agent, At: now}}, nil
	})
	if err == nil {
		err = d.complete(ctx, op)
	}
	if err != nil && !errors.Is(err, errDone) {
		return Conversation{}, fmt.Errorf("claiming conversation %q: %w", id, err)
	}
	return d.store.Conversation(ctx, id)
}

// release takes a conversation its owner gives up out of routing (kind opResolve or
// opBot) or into group's queue (opRegroup), and writes the conversation's side.
func (d *Desk) release(ctx context.Context, id, agent, kind, group string) (Conversation, error) {
	var reason, intent string
	if kind == opRegroup {
		c, err := d.store.Conversation(ctx, id)
		if err != nil {
			return Conversation{}, err
		}
		reason, intent = c.Reason, c.Intent
	}
	now := d.nowMS()
	mine := func(p RouteOp) bool {
		return p.Kind == kind && p.Agent == agent && (kind != opRegroup || p.Next != nil && p.Next.Group == group)
	}
	op, err := d.reroute(ctx, id, mine, func(st RouteState) (RouteChange, error) {
		r := st.Route
		switch {
		case st.Pending != nil:
			return RouteChange{}, ErrBusy
		case r == nil:
			return RouteChange{}, d.unrouted(ctx, id, false)
		case r.Agent != agent:
			return RouteChange{}, ErrNotOwner
		case kind == opBot && r.Group == GroupAftersale:
			return RouteChange{}, ErrAftersaleStays
		}
		ch := RouteChange{Conv: id, Rev: st.Rev, Prev: r, Op: RouteOp{Kind: kind, Agent: agent, At: now}}
		if kind == opRegroup {
			ch.Next = &Route{Group: group, Score: d.score(r.Since, reason, intent, group, r.VIP), Since: r.Since, VIP: r.VIP, Key: r.Key}
			ch.Op.Enter = true
		}
		return ch, nil
	})
	if err == nil {
		err = d.complete(ctx, op)
	}
	if err != nil {
		return Conversation{}, err
	}
	// The agent has room for another chat, and a regrouped one waits in a queue.
	from := ""
	if op.Prev != nil {
		from = op.Prev.Group
	}
	d.assignSoon(ctx, from)
	if kind == opRegroup && group != from {
		d.assignSoon(ctx, group)
	}
	return d.store.Conversation(ctx, id)
}

// Resolve closes a conversation the agent owns, with the closing phrase.
func (d *Desk) Resolve(ctx context.Context, id, agent string) (Conversation, error) {
	c, err := d.release(ctx, id, agent, opResolve, "")
	if err != nil {
		return Conversation{}, fmt.Errorf("resolving %q: %w", id, err)
	}
	return c, nil
}

// BackToBot hands a conversation the agent owns back to the bot, telling the shopper.
// After-sales chats stay with people (DOMAIN rule 7): for them it returns
// ErrAftersaleStays.
func (d *Desk) BackToBot(ctx context.Context, id, agent string) (Conversation, error) {
	c, err := d.release(ctx, id, agent, opBot, "")
	if err != nil {
		return Conversation{}, fmt.Errorf("handing %q back to the bot: %w", id, err)
	}
	return c, nil
}

// TransferGroup sends a conversation the agent owns to group's queue. It keeps its
// waiting time (Conversation.EnqueuedAt) and its VIP level; its class is that of its
// hand-off in the new group. The shopper is told with the group's transfer phrase.
func (d *Desk) TransferGroup(ctx context.Context, id, agent, group string) (Conversation, error) {
	if !d.hasGroup(group) {
		return Conversation{}, fmt.Errorf("transferring %q to %q: %w", id, group, ErrUnknownGroup)
	}
	c, err := d.release(ctx, id, agent, opRegroup, group)
	if err != nil {
		return Conversation{}, fmt.Errorf("transferring %q to %q: %w", id, group, err)
	}
	return c, nil
}

// Transfer gives a conversation agent owns to another agent, who must be online and below
// their limit (ErrAgentUnavailable, ErrAtCapacity). The shopper is greeted by the new
// agent.
func (d *Desk) Transfer(ctx context.Context, id, agent, to string) (Conversation, error) {
	c, err := d.transfer(ctx, id, agent, to)
	if err != nil {
		return Conversation{}, fmt.Errorf("transferring %q to %q: %w", id, to, err)
	}
	return c, nil
}

func (d *Desk) transfer(ctx context.Context, id, agent, to string) (Conversation, error) {
	if to == agent {
		return Conversation{}, ErrWrongStatus
	}
	// limit is the new owner's, read once the chat is known to be the agent's.
	limit := -1
	now := d.nowMS()
	mine := func(p RouteOp) bool { return p.Kind == opTransfer && p.Agent == agent && p.To == to }
	op, err := d.reroute(ctx, id, mine, func(st RouteState) (RouteChange, error) {
		r := st.Route
		switch {
		case st.Pending != nil:
			return RouteChange{}, ErrBusy
		case r == nil:
			return RouteChange{}, d.unrouted(ctx, id, false)
		case r.Agent != agent:
			return RouteChange{}, ErrNotOwner
		}
		if limit < 0 {
			u, err := d.staff.User(ctx, to)
			if errors.Is(err, account.ErrNotFound) {
				return RouteChange{}, ErrAgentUnavailable
			}
			if err != nil {
				return RouteChange{}, err
			}
			online, err := d.isOnline(ctx, to)
			if err != nil {
				return RouteChange{}, err
			}
			if !online {
				return RouteChange{}, ErrAgentUnavailable
			}
			limit = d.capFor(u)
		}
		next := *r
		next.Agent = to
		return RouteChange{Conv: id, Rev: st.Rev, Prev: r, Next: &next, Cap: limit, Op: RouteOp{Kind: opTransfer, Agent: agent, To: to, At: now}}, nil
	})
	if err == nil {
		err = d.complete(ctx, op)
	}
	if err != nil {
		return Conversation{}, err
	}
	if p, ok := d.presenceOf(ctx, agent); ok {
		d.assignSoon(ctx, p.Group)
	}
	return d.store.Conversation(ctx, id)
}

// AutoAssign gives group's waiting conversations, highest priority first, to the least
// loaded of the group's online agents who are below their limit, one atomic step each,
// until the queue is empty or every agent is full. It returns how many it assigned.
func (d *Desk) AutoAssign(ctx context.Context, group string) (int, error) {
	if !d.hasGroup(group) {
		return 0, ErrUnknownGroup
	}
	now := d.nowMS()
	cutoff := now.Add(-d.grace)
	ps, err := d.store.Presences(ctx)
	if err != nil {
		return 0, err
	}
	var candidates []string
	for _, p := range ps {
		if p.Group == group && p.Status == PresenceOnline && !p.Seen.Before(cutoff) {
			candidates = append(candidates, p.Agent)
		}
	}
	if len(candidates) == 0 {
		return 0, nil
	}
	n := 0
	for range maxRerouteAttempts * 100 {
		op, ok, err := d.store.Assign(ctx, group, candidates, cutoff, now)
		switch {
		case errors.Is(err, errConflict):
			continue
		case err != nil:
			return n, err
		case !ok:
			return n, nil
		}
		if err := d.complete(ctx, op); err != nil {
			// Undone, or left pending for the sweep: either way, stop here rather than
			// meet the same conversation again.
			return n, err
		}
		n++
	}
	return n, nil
}

// assignSoon runs AutoAssign for group unless automatic assignment is off; a failure is
// logged, the next sweep tries again.
func (d *Desk) assignSoon(ctx context.Context, group string) {
	if !d.auto || group == "" || !d.hasGroup(group) {
		return
	}
	if _, err := d.AutoAssign(ctx, group); err != nil {
		d.log.Warn().Err(err).Str("group", group).Msg("assigning chats")
	}
}
