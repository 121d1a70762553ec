package handoff

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
)

// MemoryTicketStore is the TicketStore of one process.
type MemoryTicketStore struct {
	mu      sync.Mutex        // guards the fields below
	tickets map[string]Ticket // by id, with history
	days    map[string]int64  // day (YYYYMMDD) -> last counter
}

var _ TicketStore = (*MemoryTicketStore)(nil)

// NewMemoryTicketStore returns an empty MemoryTicketStore.
func NewMemoryTicketStore() *MemoryTicketStore {
	return &MemoryTicketStore{tickets: map[string]Ticket{}, days: map[string]int64{}}
}

// cloneTicket returns t with its own slices and confirmation, so that callers and the
// store never share them.
func cloneTicket(t Ticket) Ticket {
	t.Evidence = slices.Clone(t.Evidence)
	t.History = slices.Clone(t.History)
	if t.Confirmation != nil {
		c := *t.Confirmation
		t.Confirmation = &c
	}
	return t
}

// CreateTicket implements TicketStore.
func (s *MemoryTicketStore) CreateTicket(ctx context.Context, day string, t Ticket, created TicketEvent) (Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := ticketID(day, s.days[day]+1)
	if err != nil {
		return Ticket{}, err
	}
	s.days[day]++
	t = cloneTicket(t)
	t.ID, t.Rev, t.History = id, 1, []TicketEvent{created}
	s.tickets[id] = t
	return cloneTicket(t), nil
}

// Ticket implements TicketStore.
func (s *MemoryTicketStore) Ticket(ctx context.Context, id string) (Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return Ticket{}, fmt.Errorf("ticket %q: %w", id, ErrNotFound)
	}
	return cloneTicket(t), nil
}

// Tickets implements TicketStore.
func (s *MemoryTicketStore) Tickets(ctx context.Context, f TicketFilter) ([]Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Ticket{}
	for _, t := range s.tickets {
		if f.match(t) {
			t = cloneTicket(t)
			t.History = nil
			out = append(out, t)
		}
	}
	sortTickets(out)
	if len(out) > maxTicketList {
		out = out[:maxTicketList]
	}
	return out, nil
}

// sortTickets orders tickets newest first (ties: by id, highest first).
func sortTickets(ts []Ticket) {
	slices.SortFunc(ts, func(a, b Ticket) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// UpdateTicket implements TicketStore.
func (s *MemoryTicketStore) UpdateTicket(ctx context.Context, next Ticket, ev TicketEvent) (Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.tickets[next.ID]
	if !ok {
		return Ticket{}, fmt.Errorf("ticket %q: %w", next.ID, ErrNotFound)
	}
	if n := len(cur.History); n > 0 && cur.History[n-1] == ev && cur.Rev == next.Rev+1 {
		return cloneTicket(cur), nil // a retry of the change that was stored
	}
	if cur.Status != ev.From || cur.Rev != next.Rev {
		return Ticket{}, errTicketStale
	}
	t := cloneTicket(next)
	t.Rev = cur.Rev + 1
	t.History = append(slices.Clone(cur.History), ev)
	s.tickets[t.ID] = t
	return cloneTicket(t), nil
}
