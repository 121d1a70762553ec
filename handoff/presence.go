package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/internal/triage"
)

// AgentLoad is an agent's presence and load as the console shows it.
type AgentLoad struct {
	Agent string `json:"agent"`
	Group Group  `json:"group"`
	// Status is online, away or offline; an agent whose last heartbeat is older than the
	// grace period, or who never sent one, is offline.
	Status   string    `json:"status"`
	Load     int       `json:"load"`
	MaxChats int       `json:"max_chats"`
	Seen     time.Time `json:"seen,omitzero"`
	// Serving is whether automatic assignment gives the agent chats when online (接待中).
	Serving bool `json:"serving"`
	// ShownName is the name shoppers see for the agent (Desk.Person), which the console
	// shows beside the login.
	ShownName string `json:"shown_name,omitempty"`
}

// Heartbeat records that agent is online, away or offline now. Online agents get chats
// assigned; away agents keep theirs and get none; an agent who says offline, or whose
// last heartbeat is older than DeskConfig.Grace, gives their chats back to the front of
// the queue. The console sends one every few seconds; only a change of status is
// announced.
func (d *Desk) Heartbeat(ctx context.Context, agent, status string) (AgentLoad, error) {
	if status != PresenceOnline && status != PresenceAway && status != PresenceOffline {
		return AgentLoad{}, fmt.Errorf("heartbeat of %q: unknown status %q", agent, status)
	}
	u, err := d.staff.User(ctx, agent)
	if err != nil {
		return AgentLoad{}, fmt.Errorf("heartbeat of %q: %w", agent, err)
	}
	now := d.nowMS()
	prev, had, err := d.presenceOf(ctx, agent)
	if err != nil {
		return AgentLoad{}, err
	}
	p := Presence{Agent: agent, Group: Group(u.Group), Status: status, Cap: d.capFor(u), Seen: now, Paused: !u.IsServing()}
	if _, err := d.roster.SetPresence(ctx, p, nil); err != nil {
		return AgentLoad{}, err
	}
	if !had || d.effective(prev, now) != status || prev.Group != p.Group || prev.Cap != p.Cap || prev.Paused != p.Paused {
		d.publish(ctx, Event{Type: EventPresence, Presence: &p})
	}
	switch status {
	case PresenceOffline:
		if err := d.expire(ctx, agent); err != nil {
			return AgentLoad{}, err
		}
	case PresenceOnline:
		d.assignSoon(ctx, p.Group)
	}
	return d.AgentLoad(ctx, agent)
}

// effective is p's status as of now: offline once its heartbeat is older than the grace
// period.
func (d *Desk) effective(p Presence, now time.Time) string {
	if now.Sub(p.Seen) > d.grace {
		return PresenceOffline
	}
	return p.Status
}

// presenceOf returns agent's last presence.
func (d *Desk) presenceOf(ctx context.Context, agent string) (Presence, bool, error) {
	ps, err := d.roster.Presences(ctx)
	if err != nil {
		return Presence{}, false, err
	}
	for _, p := range ps {
		if p.Agent == agent {
			return p, true, nil
		}
	}
	return Presence{}, false, nil
}

// AgentLoad returns agent's presence, how many chats they own and how many they may.
func (d *Desk) AgentLoad(ctx context.Context, agent string) (AgentLoad, error) {
	u, err := d.staff.User(ctx, agent)
	if err != nil {
		return AgentLoad{}, err
	}
	n, err := d.load(ctx, agent)
	if err != nil {
		return AgentLoad{}, err
	}
	a := AgentLoad{Agent: agent, Group: Group(u.Group), Status: PresenceOffline, Load: n, MaxChats: d.capFor(u), Serving: u.IsServing()}
	p, ok, err := d.presenceOf(ctx, agent)
	if err != nil {
		return AgentLoad{}, err
	}
	if ok {
		a.Status, a.Seen = d.effective(p, d.now()), p.Seen
	}
	return a, nil
}

// Agents returns the presence and load of every agent who ever sent a heartbeat, of
// group (all groups when group is empty).
func (d *Desk) Agents(ctx context.Context, group Group) ([]AgentLoad, error) {
	ps, err := d.roster.Presences(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	var sel []Presence
	for _, p := range ps {
		if group == "" || p.Group == group {
			names, sel = append(names, p.Agent), append(sel, p)
		}
	}
	out := make([]AgentLoad, 0, len(sel))
	if len(sel) == 0 {
		return out, nil
	}
	loads, err := d.convs.Loads(ctx, names...)
	if err != nil {
		return nil, err
	}
	now := d.now()
	for i, p := range sel {
		out = append(out, AgentLoad{Agent: p.Agent, Group: p.Group, Status: d.effective(p, now), Load: loads[i], MaxChats: p.Cap, Seen: p.Seen,
			Serving: !p.Paused, ShownName: d.Person(ctx, p.Agent).Name})
	}
	return out, nil
}

// RenewCap applies user name's chat limit (account.User.MaxChats, 0 for
// DeskConfig.MaxChats) and their group after they changed: assignment reads it from the presence, so an
// online agent's is renewed at once (an offline agent's by their next heartbeat). Chats
// they own beyond a lowered limit stay; new ones wait until they are below it.
func (d *Desk) RenewCap(ctx context.Context, name string) error {
	u, err := d.staff.User(ctx, name)
	if err != nil {
		return err
	}
	p, ok, err := d.presenceOf(ctx, u.Name)
	if err != nil || !ok || p.Status == PresenceOffline {
		return err
	}
	p.Cap, p.Paused, p.Group = d.capFor(u), !u.IsServing(), Group(u.Group)
	if _, err := d.roster.SetPresence(ctx, p, nil); err != nil {
		return err
	}
	d.publish(ctx, Event{Type: EventPresence, Presence: &p})
	d.assignSoon(ctx, p.Group)
	return nil
}

// TakeOffline marks user name offline at once, as their own offline heartbeat would,
// when they are online or away: their chats go back to the front of the queue. An
// admin calls it for a user they disabled or who no longer serves chats.
func (d *Desk) TakeOffline(ctx context.Context, name string) error {
	p, ok, err := d.presenceOf(ctx, name)
	if err != nil || !ok || p.Status == PresenceOffline {
		return err
	}
	_, err = d.Heartbeat(ctx, name, PresenceOffline)
	return err
}

// RenewServing applies whether user name serves (account.User.IsServing) after it
// changed, as RenewCap does their limit: at once when they are online.
func (d *Desk) RenewServing(ctx context.Context, name string) error { return d.RenewCap(ctx, name) }

// expire gives the chats of agent, who went offline, back to the front of their queues,
// each with a note to the shopper, and marks the agent offline.
func (d *Desk) expire(ctx context.Context, agent string) error {
	owned, err := d.convs.Owned(ctx, agent)
	if err != nil {
		return err
	}
	var errs []error
	groups := make(map[Group]bool)
	n := 0
	for _, c := range owned {
		now := d.nowMS()
		res, err := d.change(ctx, c.ID, func(c Conversation) (Change, error) {
			if c.Status != StatusActive || c.Agent != agent {
				return Change{}, errDone // resolved or moved meanwhile
			}
			next := c
			next.Status, next.Agent, next.Front, next.EnqueuedAt = StatusQueued, "", true, now
			key := fmt.Sprintf("requeue:%d", c.Rev)
			return Change{Next: &next, Append: []Message{
				{ID: key, Kind: KindStatus, From: FromSystem, Status: StatusQueued, Reason: triage.ReasonAgentOffline, Group: c.Group, Agent: agent},
				system(key+":note", d.PhrasesFor(c.Lang).AgentOffline),
			}}, nil
		})
		switch {
		case errors.Is(err, errDone):
		case err != nil:
			errs = append(errs, err)
		default:
			groups[res.Conversation.Group] = true
			n++
		}
	}
	if n > 0 {
		d.log.Info().Str("agent", agent).Int("chats", n).Msg("agent offline; chats back to the queue")
	}
	for _, g := range d.groups {
		if groups[g] {
			d.assignSoon(ctx, g)
		}
	}
	return errors.Join(errs...)
}

// Sweep does one round of the desk's background work: it marks offline the agents whose
// heartbeat is older than the grace period and gives their chats back to the queue, and
// assigns waiting chats. Every step is safe to run on several nodes at once.
func (d *Desk) Sweep(ctx context.Context) error {
	ps, err := d.roster.Presences(ctx)
	if err != nil {
		return err
	}
	var errs []error
	now := d.nowMS()
	var gone []string
	for _, p := range ps {
		if d.effective(p, now) != PresenceOffline {
			continue
		}
		if p.Status != PresenceOffline {
			// Only if no heartbeat came since it was read: an agent who is back keeps
			// their chats.
			off := p
			off.Status = PresenceOffline
			ok, err := d.roster.SetPresence(ctx, off, &p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !ok {
				continue
			}
			d.publish(ctx, Event{Type: EventPresence, Presence: &off})
		}
		gone = append(gone, p.Agent)
	}
	if len(gone) > 0 {
		loads, err := d.convs.Loads(ctx, gone...)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for i, a := range gone {
			if loads[i] > 0 {
				if err := d.expire(ctx, a); err != nil {
					errs = append(errs, fmt.Errorf("expiring %q: %w", a, err))
				}
			}
		}
	}
	if d.auto {
		for _, g := range d.groups {
			if _, err := d.AutoAssign(ctx, g); err != nil {
				errs = append(errs, fmt.Errorf("assigning in %q: %w", g, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Run delivers the events of every node to this node's subscribers and sweeps every
// DeskConfig.SweepInterval, until ctx ends. One per node; several nodes may run it at
// once.
func (d *Desk) Run(ctx context.Context) error {
	listened := make(chan error, 1)
	go func() { listened <- d.bus.Listen(ctx, d.deliver) }()
	t := time.NewTicker(d.sweepEvery)
	defer t.Stop()
	for {
		// Events bring an admin's edits at once; reading them each round as well covers
		// an event missed while this node started or reconnected.
		if err := d.ReloadPhrasebook(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn().Err(err).Msg("reading the phrasebook; the one in use stays")
		}
		if err := d.Sweep(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn().Err(err).Msg("sweeping the desk")
		}
		select {
		case <-ctx.Done():
			<-listened
			return nil
		case err := <-listened:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("listening for events: %w", err)
		case <-t.C:
		}
	}
}

// deliver hands an event to this node's subscribers, after forgetting what it makes
// stale.
func (d *Desk) deliver(e Event) {
	if e.Type == EventPresence || e.Type == EventResync {
		d.presMu.Lock()
		d.presAt = time.Time{}
		d.presMu.Unlock()
	}
	if e.Type == EventQueue && e.Left != nil || e.Type == EventResync {
		// A chat taken from a queue brings a new wait.
		d.waitMu.Lock()
		d.waitAt = time.Time{}
		d.waitMu.Unlock()
	}
	if e.Type == EventPhrasebook || e.Type == EventResync {
		d.reloadSoon() // an admin saved the phrasebook on some node
	}
	d.hub.deliver(e)
}
