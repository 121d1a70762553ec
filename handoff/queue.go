package handoff

import (
	"context"
	"time"
)

// A waiting shopper sees their place in the queue and the expected wait. The place is
// read once (Desk.Place) and then kept up to date from the queue's events (Place.Apply):
// each event says which place left or joined the queue, so a shopper's new position
// costs no read at all, however long the queue. Only a gap in the queue's versions (a
// lost event) makes a shopper read their place again.

// Why a waiting shopper is offered to leave a message (QueueStatus.Offer).
const (
	OfferTimeout = "timeout" // waited DeskConfig.QueueTimeout
	OfferOffline = "offline" // no agent of the chat's group is online
)

// Place is a waiting conversation's place in its group's queue.
type Place struct {
	Group Group
	Key   QueueKey
	// Pos is the position, 1 being next; 0 when the conversation does not wait there.
	Pos int
	// Ver is the queue's version Pos was counted at.
	Ver int64
}

// Place reads where conversation c waits: its group's queue, its position and the
// queue's version. A conversation that is not queued gives ErrNotQueued.
func (d *Desk) Place(ctx context.Context, c Conversation) (Place, error) {
	g, k, ok := c.Waiting()
	if !ok {
		return Place{}, ErrNotQueued
	}
	pos, ver, err := d.convs.Place(ctx, g, c.ID)
	if err != nil {
		return Place{}, err
	}
	if pos == 0 {
		return Place{}, ErrNotQueued
	}
	return Place{Group: g, Key: k, Pos: pos, Ver: ver}, nil
}

// Apply moves p by the queue event e. ok is false when e cannot be applied because
// events of the queue were missed, or p's own place moved: read the place again.
// changed reports whether Pos changed.
func (p *Place) Apply(e *Event) (changed, ok bool) {
	if e.Type != EventQueue || e.Group != p.Group || e.Ver <= p.Ver {
		return false, true // another queue's, or counted in already
	}
	if e.Ver != p.Ver+1 {
		return false, false
	}
	if e.Left != nil && e.Left.ID == p.Key.ID || e.Joined != nil && e.Joined.ID == p.Key.ID {
		return false, false // this conversation's own move
	}
	pos := p.Pos
	if e.Left != nil && e.Left.Less(p.Key) {
		pos--
	}
	if e.Joined != nil && e.Joined.Less(p.Key) {
		pos++
	}
	p.Ver = e.Ver
	changed, p.Pos = pos != p.Pos, pos
	return changed, true
}

// QueueStatus is what a waiting shopper is told.
type QueueStatus struct {
	// Position is the place in the group's queue, 1 being next.
	Position int
	// Wait is the expected wait; 0 while no agent of the group is online, when no
	// estimate would be honest (the shopper is offered to leave a message instead).
	Wait time.Duration
	// Offer, when set, is why the shopper may leave a message instead of waiting.
	Offer string
	// OfferIn, when positive, is how long until the queue timeout makes the offer.
	OfferIn time.Duration
}

// QueueStatus tells the shopper of conversation c, waiting at place p, their position,
// the expected wait and whether to offer them to leave a message.
func (d *Desk) QueueStatus(ctx context.Context, c Conversation, p Place) (QueueStatus, error) {
	qs := QueueStatus{Position: p.Pos}
	online, err := d.groupOnline(ctx, p.Group)
	if err != nil {
		return QueueStatus{}, err
	}
	if online {
		per, err := d.waitPerPlace(ctx)
		if err != nil {
			return QueueStatus{}, err
		}
		qs.Wait = per * time.Duration(p.Pos)
	} else {
		qs.Offer = OfferOffline
	}
	if d.timeout > 0 {
		if left := c.EnqueuedAt.Add(d.timeout).Sub(d.now()); left > 0 {
			qs.OfferIn = left
		} else {
			qs.Offer = OfferTimeout
		}
	}
	return qs, nil
}

// cacheFor is how long a node reuses what every waiting shopper's status reads: the
// agents' presence (dropped at once on a presence event) and the wait estimate.
const cacheFor = 5 * time.Second

// waitPerPlace is the expected wait per place in a queue: the average of the recent
// waits of claimed chats, at least 10 s, or DeskConfig.DefaultWait before any.
func (d *Desk) waitPerPlace(ctx context.Context) (time.Duration, error) {
	d.waitMu.Lock()
	defer d.waitMu.Unlock()
	if now := d.now(); now.Sub(d.waitAt) < cacheFor && !d.waitAt.IsZero() {
		return d.waitEst, nil
	}
	waits, err := d.roster.Waits(ctx)
	if err != nil {
		return 0, err
	}
	per := d.defWait
	if len(waits) > 0 {
		var sum time.Duration
		for _, w := range waits {
			sum += w
		}
		per = max(sum/time.Duration(len(waits)), 10*time.Second)
	}
	d.waitEst, d.waitAt = per, d.now()
	return per, nil
}

// groupOnline reports whether an agent of group who serves (not paused) is online (not
// away) with a recent heartbeat.
func (d *Desk) groupOnline(ctx context.Context, group Group) (bool, error) {
	d.presMu.Lock()
	defer d.presMu.Unlock()
	now := d.now()
	if d.presAt.IsZero() || now.Sub(d.presAt) >= cacheFor {
		ps, err := d.roster.Presences(ctx)
		if err != nil {
			return false, err
		}
		d.presences, d.presAt = ps, now
	}
	for _, p := range d.presences {
		if p.Group == group && !p.Paused && d.effective(p, now) == PresenceOnline {
			return true, nil
		}
	}
	return false, nil
}

// Waiting returns the queued conversations of group, in queue order, or of every
// group when group is empty (each group's in its order, the groups in the desk's).
func (d *Desk) Waiting(ctx context.Context, group Group) ([]Conversation, error) {
	groups := []Group{group}
	if group == "" {
		groups = d.groups
	}
	var out []Conversation
	for _, g := range groups {
		cs, err := d.convs.Queue(ctx, g, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// Owned returns the active conversations of agent, oldest claim first.
func (d *Desk) Owned(ctx context.Context, agent string) ([]Conversation, error) {
	return d.convs.Owned(ctx, agent)
}
