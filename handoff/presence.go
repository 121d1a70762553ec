package handoff

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AgentLoad is an agent's presence and load as the console shows it.
type AgentLoad struct {
	Agent string `json:"agent"`
	Group string `json:"group"`
	// Status is online, away or offline; an agent whose last heartbeat is older than the
	// grace period, or who never sent one, is offline.
	Status   string    `json:"status"`
	Load     int       `json:"load"`
	MaxChats int       `json:"max_chats"`
	Seen     time.Time `json:"seen,omitzero"`
}

// Heartbeat records that agent is online, away or offline now. Online agents get chats
// assigned; away agents keep theirs and get none; an agent who says offline, or whose
// last heartbeat is older than DeskConfig.Grace, gives their chats back to the front of
// the queue. The console sends one every few seconds.
func (d *Desk) Heartbeat(ctx context.Context, agent, status string) (AgentLoad, error) {
	if status != PresenceOnline && status != PresenceAway && status != PresenceOffline {
		return AgentLoad{}, fmt.Errorf("heartbeat of %q: unknown status %q", agent, status)
	}
	u, err := d.staff.User(ctx, agent)
	if err != nil {
		return AgentLoad{}, fmt.Errorf("heartbeat of %q: %w", agent, err)
	}
	now := d.nowMS()
	p := Presence{Agent: agent, Group: u.Group, Status: status, Cap: d.capFor(u), Seen: now}
	if err := d.store.Heartbeat(ctx, p); err != nil {
		return AgentLoad{}, err
	}
	d.publish(ctx, Event{Type: EventPresence})
	switch status {
	case PresenceOffline:
		if err := d.expire(ctx, agent, now); err != nil {
			return AgentLoad{}, err
		}
	case PresenceOnline:
		d.assignSoon(ctx, u.Group)
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
func (d *Desk) presenceOf(ctx context.Context, agent string) (Presence, bool) {
	ps, err := d.store.Presences(ctx)
	if err != nil {
		return Presence{}, false
	}
	for _, p := range ps {
		if p.Agent == agent {
			return p, true
		}
	}
	return Presence{}, false
}

// isOnline reports whether agent is online with a recent heartbeat.
func (d *Desk) isOnline(ctx context.Context, agent string) (bool, error) {
	ps, err := d.store.Presences(ctx)
	if err != nil {
		return false, err
	}
	now := d.now()
	for _, p := range ps {
		if p.Agent == agent {
			return d.effective(p, now) == PresenceOnline, nil
		}
	}
	return false, nil
}

// AgentLoad returns agent's presence, how many chats they own and how many they may.
func (d *Desk) AgentLoad(ctx context.Context, agent string) (AgentLoad, error) {
	u, err := d.staff.User(ctx, agent)
	if err != nil {
		return AgentLoad{}, err
	}
	n, err := d.store.Load(ctx, agent)
	if err != nil {
		return AgentLoad{}, err
	}
	a := AgentLoad{Agent: agent, Group: u.Group, Status: PresenceOffline, Load: n, MaxChats: d.capFor(u)}
	if p, ok := d.presenceOf(ctx, agent); ok {
		a.Status, a.Seen = d.effective(p, d.now()), p.Seen
	}
	return a, nil
}

// Agents returns the presence and load of every agent who ever sent a heartbeat, of
// group (all groups when group is empty).
func (d *Desk) Agents(ctx context.Context, group string) ([]AgentLoad, error) {
	ps, err := d.store.Presences(ctx)
	if err != nil {
		return nil, err
	}
	now := d.now()
	out := make([]AgentLoad, 0, len(ps))
	for _, p := range ps {
		if group != "" && p.Group != group {
			continue
		}
		n, err := d.store.Load(ctx, p.Agent)
		if err != nil {
			return nil, err
		}
		out = append(out, AgentLoad{Agent: p.Agent, Group: p.Group, Status: d.effective(p, now), Load: n, MaxChats: p.Cap, Seen: p.Seen})
	}
	return out, nil
}

// RenewCap applies the user's chat limit (account.User.MaxChats, 0 for
// DeskConfig.MaxChats) after it changed (account.Service.SetMaxChats). Chats the user
// owns beyond a lowered limit stay; new ones wait until they are below it.
func (d *Desk) RenewCap(ctx context.Context, name string) error {
	u, err := d.staff.User(ctx, name)
	if err != nil {
		return err
	}
	// Assignment reads the limit from the presence; an offline agent's is renewed by
	// their next heartbeat.
	if p, ok := d.presenceOf(ctx, name); ok && p.Status != PresenceOffline {
		p.Cap = d.capFor(u)
		if err := d.store.Heartbeat(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// expire gives the chats of an agent whose last heartbeat is before cutoff, or who said
// offline, back to the front of their queues, each with a note to the shopper.
func (d *Desk) expire(ctx context.Context, agent string, cutoff time.Time) error {
	ops, err := d.store.Expire(ctx, agent, cutoff, d.nowMS())
	if err != nil {
		return err
	}
	var errs []error
	groups := make(map[string]bool)
	for _, op := range ops {
		if err := d.complete(ctx, op); err != nil {
			errs = append(errs, err)
			continue
		}
		groups[op.Next.Group] = true
	}
	if len(ops) > 0 {
		d.log.Info().Str("agent", agent).Int("chats", len(ops)).Msg("agent offline; chats back to the queue")
		d.publish(ctx, Event{Type: EventPresence})
	}
	for _, g := range d.groups {
		if groups[g] {
			d.assignSoon(ctx, g)
		}
	}
	return errors.Join(errs...)
}

// Sweep does one round of the desk's background work: it adopts chats queued before
// routing state existed, gives the chats of agents whose heartbeat is older than the
// grace period back to the queue, finishes routing changes that a stopped node left
// pending, and assigns waiting chats. Every step is
// safe to run on several nodes at once.
func (d *Desk) Sweep(ctx context.Context) error {
	var errs []error
	if err := d.adoptLegacy(ctx); err != nil {
		errs = append(errs, fmt.Errorf("adopting old queue entries: %w", err))
	}
	now := d.nowMS()
	cutoff := now.Add(-d.grace)
	agents, err := d.store.Expired(ctx, cutoff)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, a := range agents {
		if err := d.expire(ctx, a, cutoff); err != nil {
			errs = append(errs, fmt.Errorf("expiring %q: %w", a, err))
		}
	}
	ops, err := d.store.PendingRoutes(ctx, now.Add(-pendingAfter))
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, op := range ops {
		if err := d.complete(ctx, op); err != nil && !refused(err) {
			errs = append(errs, fmt.Errorf("finishing the %s of %q: %w", op.Kind, op.Conv, err))
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

// Run sweeps every DeskConfig.SweepInterval until ctx ends. One per node; several nodes
// may run it at once.
func (d *Desk) Run(ctx context.Context) error {
	t := time.NewTicker(d.sweepEvery)
	defer t.Stop()
	for {
		if err := d.Sweep(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn().Err(err).Msg("sweeping the desk")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
