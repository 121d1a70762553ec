package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// Routing: who waits in which queue, in what order, and who owns which chat. Every
// change is one Change of the conversation's record, decided here against the record
// as read (and, when an agent takes a chat, against the agent's load as read) and
// committed by the engine only if neither moved (docs/handoff.md "Routing").

// HandoffRequest says why a conversation goes to a person.
type HandoffRequest struct {
	// Key makes the hand-off idempotent: the id of the message or frame that caused it.
	Key    string
	Reason triage.Reason
	Intent triage.Intent
	// Group is the queue to join; empty lets the desk choose by reason and intent
	// (groupFor). A group the desk does not have means the desk's choice.
	Group   Group
	Context *Context
}

// groupFor returns the queue a hand-off with reason and intent joins: after-sales cases
// go to the after-sales group (docs/domain.md rule 7), the others to the pre-sale group,
// or to the desk's first group when it has none of those.
func (d *Desk) groupFor(reason triage.Reason, intent triage.Intent) Group {
	if (reason == triage.ReasonAfterSales || intent.AfterSales()) && d.hasGroup(GroupAftersale) {
		return GroupAftersale
	}
	if d.hasGroup(GroupPresale) {
		return GroupPresale
	}
	return d.groups[0]
}

// Handoff moves a conversation from the bot to a queue and tells the shopper with the
// group's transfer phrase. It returns ErrWrongStatus when the conversation is already
// with people; a retry with the same Key succeeds and changes nothing.
func (d *Desk) Handoff(ctx context.Context, id string, h HandoffRequest) error {
	group := h.Group
	if !d.hasGroup(group) {
		group = d.groupFor(h.Reason, h.Intent)
	}
	key := "handoff:" + h.Key
	now := d.nowMS()
	_, err := d.change(ctx, id, func(c Conversation) (Change, error) {
		if c.Status != StatusBot {
			if c.Key == key {
				return Change{}, errDone
			}
			return Change{}, ErrWrongStatus
		}
		vip := min(c.vip(), d.maxVIP)
		next := c
		next.Status, next.Group, next.Agent, next.Reason, next.Intent = StatusQueued, group, "", h.Reason, h.Intent
		next.Context, next.VIP, next.EnqueuedAt, next.Key, next.RepliedAt = h.Context, vip, now, key, time.Time{}
		next.Score, next.Front = d.score(now, h.Reason, h.Intent, group, vip), false
		return Change{Next: &next, Append: []Message{
			{ID: key, Kind: KindHandoff, From: FromSystem, Reason: h.Reason, Group: group},
			system("transfer:"+h.Key, d.transferPhrase(c.Lang, group, h.Reason)),
		}}, nil
	})
	if err != nil && !errors.Is(err, errDone) {
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

// load returns how many chats agent owns.
func (d *Desk) load(ctx context.Context, agent string) (int, error) {
	n, err := d.convs.Loads(ctx, agent)
	if err != nil {
		return 0, err
	}
	return n[0], nil
}

// room returns how many chats agent owns, or ErrAtCapacity when that is their limit or
// more: an agent at their limit is given no other chat.
func (d *Desk) room(ctx context.Context, agent string, limit int) (int, error) {
	n, err := d.load(ctx, agent)
	if err != nil {
		return 0, err
	}
	if n >= limit {
		return 0, ErrAtCapacity
	}
	return n, nil
}

// take is the change that gives waiting conversation c to agent, who owns load chats:
// kind names the change in its records (claim, assign).
func (d *Desk) take(ctx context.Context, c Conversation, agent string, load int, kind string, now time.Time) Change {
	next := c
	next.Status, next.Agent, next.ClaimedAt = StatusActive, agent, now
	key := fmt.Sprintf("%s:%d:%s", kind, c.Rev, agent)
	return Change{Next: &next, Owner: agent, Load: load, Waited: max(now.Sub(c.EnqueuedAt), time.Millisecond), KeepWaits: maxRecentWaits, Append: []Message{
		{ID: key, Kind: KindStatus, From: FromSystem, Status: StatusActive, Agent: agent},
		system(key+":joined", d.joinedPhrase(ctx, c.Lang, agent)),
	}}
}

// maxRecentWaits is how many recent waits the wait estimate averages.
const maxRecentWaits = 50

// Claim gives a queued conversation to agent. Exactly one of several agents claiming at
// once succeeds; the others get ErrAlreadyClaimed. An agent who owns as many chats as
// they may gets ErrAtCapacity. Claiming a chat one owns already succeeds.
func (d *Desk) Claim(ctx context.Context, id, agent string) (Conversation, error) {
	limit, err := d.capOf(ctx, agent)
	if err != nil {
		return Conversation{}, err
	}
	now := d.nowMS()
	_, err = d.change(ctx, id, func(c Conversation) (Change, error) {
		switch c.Status {
		case StatusActive:
			if c.Agent == agent {
				return Change{}, errDone
			}
			return Change{}, ErrAlreadyClaimed
		case StatusResolved:
			return Change{}, ErrResolved
		case StatusBot:
			return Change{}, ErrNotQueued
		}
		n, err := d.room(ctx, agent, limit)
		if err != nil {
			return Change{}, err
		}
		return d.take(ctx, c, agent, n, "claim", now), nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return Conversation{}, fmt.Errorf("claiming conversation %q: %w", id, err)
	}
	return d.convs.Conversation(ctx, id)
}

// owned checks that agent owns c.
func owned(c Conversation, agent string) error {
	switch {
	case c.Status == StatusActive && c.Agent == agent:
		return nil
	case c.Status == StatusResolved:
		return ErrResolved
	}
	return ErrNotOwner
}

// release is a change by which agent gives up conversation id: to resolved, to the bot,
// or (kind "regroup") to group's queue.
func (d *Desk) release(ctx context.Context, id, agent, kind string, group Group) (Conversation, error) {
	now := d.nowMS()
	var from Group
	res, err := d.change(ctx, id, func(c Conversation) (Change, error) {
		if err := owned(c, agent); err != nil {
			return Change{}, err
		}
		from = c.Group
		key := fmt.Sprintf("%s:%d", kind, c.Rev)
		next := c
		switch kind {
		case "resolve":
			next.Status, next.ClosedAt = StatusResolved, now
			return Change{Next: &next, Append: []Message{
				system(key+":note", d.PhrasesFor(c.Lang).Resolved),
				{ID: key, Kind: KindStatus, From: FromSystem, Status: StatusResolved, Agent: agent},
			}}, nil
		case "bot":
			if c.Group == GroupAftersale {
				return Change{}, ErrAftersaleStays
			}
			next.Status, next.Agent = StatusBot, ""
			return Change{Next: &next, Append: []Message{
				system(key+":note", d.PhrasesFor(c.Lang).BackToBot),
				{ID: key, Kind: KindStatus, From: FromSystem, Status: StatusBot, Agent: agent},
			}}, nil
		}
		next.Status, next.Group, next.Agent, next.Front, next.RepliedAt = StatusQueued, group, "", false, time.Time{}
		next.Score = d.score(c.EnqueuedAt, c.Reason, c.Intent, group, c.VIP)
		return Change{Next: &next, Append: []Message{
			{ID: key, Kind: KindHandoff, From: FromSystem, Reason: triage.ReasonTransfer, Group: group, Agent: agent},
			system(key+":note", d.transferPhrase(c.Lang, group, "")),
		}}, nil
	})
	if err != nil {
		return Conversation{}, err
	}
	// The agent has room for another chat, and a regrouped one waits in a queue.
	d.assignSoon(ctx, from)
	if kind == "regroup" && group != from {
		d.assignSoon(ctx, group)
	}
	return res.Conversation, nil
}

// Resolve closes a conversation the agent owns, with the closing phrase.
func (d *Desk) Resolve(ctx context.Context, id, agent string) (Conversation, error) {
	c, err := d.release(ctx, id, agent, "resolve", "")
	if err != nil {
		return Conversation{}, fmt.Errorf("resolving %q: %w", id, err)
	}
	return c, nil
}

// BackToBot hands a conversation the agent owns back to the bot, telling the shopper.
// After-sales chats stay with people (docs/domain.md rule 7): for them it returns
// ErrAftersaleStays.
func (d *Desk) BackToBot(ctx context.Context, id, agent string) (Conversation, error) {
	c, err := d.release(ctx, id, agent, "bot", "")
	if err != nil {
		return Conversation{}, fmt.Errorf("handing %q back to the bot: %w", id, err)
	}
	return c, nil
}

// TransferGroup sends a conversation the agent owns to group's queue. It keeps its
// waiting time (Conversation.EnqueuedAt) and its VIP level; its priority is that of its
// hand-off in the new group. The shopper is told with the group's transfer phrase.
func (d *Desk) TransferGroup(ctx context.Context, id, agent string, group Group) (Conversation, error) {
	if !d.hasGroup(group) {
		return Conversation{}, fmt.Errorf("transferring %q to %q: %w", id, group, ErrUnknownGroup)
	}
	c, err := d.release(ctx, id, agent, "regroup", group)
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
	// Whether to may take it is read once, and told only to the chat's owner: whoever
	// does not own it hears that first.
	var unavailable error
	u, err := d.staff.User(ctx, to)
	switch {
	case errors.Is(err, account.ErrNotFound):
		unavailable = ErrAgentUnavailable
	case err != nil:
		return Conversation{}, err
	default:
		p, ok, err := d.presenceOf(ctx, to)
		if err != nil {
			return Conversation{}, err
		}
		if !ok || d.effective(p, d.now()) != PresenceOnline {
			unavailable = ErrAgentUnavailable
		}
	}
	limit, now := d.capFor(u), d.nowMS()
	var from Group
	res, err := d.change(ctx, id, func(c Conversation) (Change, error) {
		if err := owned(c, agent); err != nil {
			return Change{}, err
		}
		if unavailable != nil {
			return Change{}, unavailable
		}
		n, err := d.room(ctx, to, limit)
		if err != nil {
			return Change{}, err
		}
		from = c.Group
		next := c
		next.Agent, next.ClaimedAt = to, now
		key := fmt.Sprintf("transfer:%d", c.Rev)
		return Change{Next: &next, Owner: to, Load: n, Append: []Message{
			{ID: key, Kind: KindStatus, From: FromSystem, Status: StatusActive, Agent: to},
			system(key+":joined", d.joinedPhrase(ctx, c.Lang, to)),
		}}, nil
	})
	if err != nil {
		return Conversation{}, err
	}
	d.assignSoon(ctx, from)
	return res.Conversation, nil
}

// AutoAssign gives group's waiting conversations, highest priority first, to the least
// loaded of the group's online agents who serve (接待中) and are below their limit, one
// change each, until the queue is empty or every agent is full. It returns how many it
// assigned. An agent who paused 接待 may still claim (docs/domain.md rule 19).
func (d *Desk) AutoAssign(ctx context.Context, group Group) (int, error) {
	if !d.hasGroup(group) {
		return 0, ErrUnknownGroup
	}
	n := 0
	for range maxAttempts * 100 {
		head, err := d.convs.Queue(ctx, group, 1)
		if err != nil || len(head) == 0 {
			return n, err
		}
		ps, err := d.roster.Presences(ctx)
		if err != nil {
			return n, err
		}
		now := d.nowMS()
		var names []string
		var caps []int
		for _, p := range ps {
			if p.Group == group && !p.Paused && d.effective(p, now) == PresenceOnline {
				names, caps = append(names, p.Agent), append(caps, p.Cap)
			}
		}
		if len(names) == 0 {
			return n, nil
		}
		loads, err := d.convs.Loads(ctx, names...)
		if err != nil {
			return n, err
		}
		best := -1
		for i := range names {
			if loads[i] < caps[i] && (best < 0 || loads[i] < loads[best]) {
				best = i
			}
		}
		if best < 0 {
			return n, nil // everyone is full
		}
		c := head[0]
		ch := d.take(ctx, c, names[best], loads[best], "assign", now)
		ch.Conv, ch.Rev, ch.Prev = c.ID, c.Rev, &c
		_, err = d.commit(ctx, ch)
		if errors.Is(err, ErrConflict) {
			continue // the chat or the agent moved: look again
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// assignSoon runs AutoAssign for group unless automatic assignment is off; a failure is
// logged, the next sweep tries again.
func (d *Desk) assignSoon(ctx context.Context, group Group) {
	if !d.auto || group == "" || !d.hasGroup(group) {
		return
	}
	if _, err := d.AutoAssign(ctx, group); err != nil {
		d.log.Warn().Err(err).Str("group", string(group)).Msg("assigning chats")
	}
}

func (d *Desk) transferPhrase(l Lang, group Group, reason triage.Reason) string {
	p := d.PhrasesFor(l)
	switch {
	case group == GroupAftersale:
		return p.TransferAftersale
	case reason.Apologetic():
		return p.Fallback
	}
	return p.TransferPresale
}

func (d *Desk) joinedPhrase(ctx context.Context, l Lang, agent string) string {
	return d.withAgent(ctx, d.PhrasesFor(l).AgentJoined, agent)
}

// score is a waiting chat's queue score: the time it started waiting, in Unix
// milliseconds, less its boosts; the lowest is served first. Equivalently, a chat's
// priority at time t is
//
//	boost(class) + VIP × VIPBoost + (t − since)
//
// and the highest goes first. Waiting raises every chat's priority at the same rate, so
// the order never needs recomputing, and no chat starves: a chat is ahead of every chat
// that arrives more than the largest boost after it. An angry shopper or a complaint
// gets the complaint boost, an after-sales case the after-sales boost
// (docs/domain.md rule 7).
func (d *Desk) score(since time.Time, reason triage.Reason, intent triage.Intent, group Group, vip int) int64 {
	b := time.Duration(vip) * d.vipBoost
	switch {
	case reason == triage.ReasonNegativeSentiment:
		b += d.complaint
	case group == GroupAftersale || reason == triage.ReasonAfterSales || intent.AfterSales():
		b += d.aftersale
	}
	return since.UnixMilli() - b.Milliseconds()
}
