package boltstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/boltdb"
	bolt "go.etcd.io/bbolt"
)

func getTicket(tx *bolt.Tx, id string) (handoff.Ticket, error) {
	raw := tx.Bucket(bTickets).Get([]byte(id))
	if raw == nil {
		return handoff.Ticket{}, fmt.Errorf("ticket %q: %w", id, handoff.ErrNotFound)
	}
	var t handoff.Ticket
	if err := json.Unmarshal(raw, &t); err != nil {
		return handoff.Ticket{}, fmt.Errorf("decoding ticket %q: %w", id, err)
	}
	return t, nil
}

func putTicket(tx *bolt.Tx, t handoff.Ticket) error {
	if err := boltdb.Put(tx.Bucket(bTickets), []byte(t.ID), t); err != nil {
		return fmt.Errorf("ticket %q: %w", t.ID, err)
	}
	return nil
}

// CreateTicket implements handoff.TicketStore.
func (s *Store) CreateTicket(ctx context.Context, day string, t handoff.Ticket, created handoff.TicketEvent) (handoff.Ticket, error) {
	err := s.update(ctx, func(tx *bolt.Tx, _ func(handoff.Event)) error {
		days := tx.Bucket(bTicketSeq)
		n := fromU64(days.Get([]byte(day))) + 1
		id, err := handoff.TicketID(day, int64(n))
		if err != nil {
			return err
		}
		if err := days.Put([]byte(day), u64(n)); err != nil {
			return err
		}
		t.ID, t.Rev, t.History = id, 1, []handoff.TicketEvent{created}
		return putTicket(tx, t)
	})
	if err != nil {
		return handoff.Ticket{}, err
	}
	return t, nil
}

// Ticket implements handoff.TicketStore.
func (s *Store) Ticket(ctx context.Context, id string) (t handoff.Ticket, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		t, err = getTicket(tx, id)
		return err
	})
	return t, err
}

// Tickets implements handoff.TicketStore. It reads every ticket: a shop's tickets are
// thousands, not millions, and a listing is an agent's click.
func (s *Store) Tickets(ctx context.Context, f handoff.TicketFilter) ([]handoff.Ticket, error) {
	out := []handoff.Ticket{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		all, err := boltdb.All[handoff.Ticket](tx.Bucket(bTickets), "ticket")
		for _, t := range all {
			if f.Match(t) {
				t.History = nil
				out = append(out, t)
			}
		}
		return err
	})
	return f.Listed(out), err
}

// UpdateTicket implements handoff.TicketStore.
func (s *Store) UpdateTicket(ctx context.Context, next handoff.Ticket, ev handoff.TicketEvent) (handoff.Ticket, error) {
	err := s.update(ctx, func(tx *bolt.Tx, _ func(handoff.Event)) error {
		cur, err := getTicket(tx, next.ID)
		if err != nil {
			return err
		}
		if cur.Status != ev.From || cur.Rev != next.Rev {
			return handoff.ErrTicketStale
		}
		next.Rev, next.History = cur.Rev+1, append(cur.History, ev)
		return putTicket(tx, next)
	})
	if err != nil {
		return handoff.Ticket{}, err
	}
	return next, nil
}
