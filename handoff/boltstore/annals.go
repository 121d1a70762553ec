package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/boltdb"
	bolt "go.etcd.io/bbolt"
)

// AddDecision implements handoff.Annals.
func (s *Store) AddDecision(ctx context.Context, conv string, d handoff.Decision, keep int) error {
	return s.update(ctx, func(tx *bolt.Tx, _ func(handoff.Event)) error {
		b, err := convBucket(tx, bDecisions, conv, true)
		if err != nil {
			return err
		}
		dup := false
		b.ForEach(func(_, v []byte) error {
			var old handoff.Decision
			if json.Unmarshal(v, &old) == nil && old.Key == d.Key {
				dup = true
			}
			return nil
		})
		if dup {
			return nil
		}
		return putNext(b, d, keep)
	})
}

// putNext stores v at the next sequence of b and keeps the latest keep (0: all).
func putNext(b *bolt.Bucket, v any, keep int) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	seq, err := nextSeq(b)
	if err != nil {
		return err
	}
	if err := b.Put(seq, raw); err != nil {
		return err
	}
	if keep > 0 {
		return trim(b, keep)
	}
	return nil
}

// list decodes every value of conversation conv's nested bucket of top, in key order.
func list[T any](s *Store, ctx context.Context, top []byte, conv string) ([]T, error) {
	var out []T
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b, err := convBucket(tx, top, conv, false)
		if err != nil || b == nil {
			return err
		}
		out, err = boltdb.All[T](b, fmt.Sprintf("%s of %q", top, conv))
		return err
	})
	return out, err
}

// Decisions implements handoff.Annals.
func (s *Store) Decisions(ctx context.Context, conv string) ([]handoff.Decision, error) {
	return list[handoff.Decision](s, ctx, bDecisions, conv)
}

// AddNote implements handoff.Annals.
func (s *Store) AddNote(ctx context.Context, conv string, n handoff.Note, max int) (handoff.Note, bool, error) {
	out, dup := n, false
	err := s.update(ctx, func(tx *bolt.Tx, _ func(handoff.Event)) error {
		b, err := convBucket(tx, bNotes, conv, true)
		if err != nil {
			return err
		}
		count := 0
		b.ForEach(func(_, v []byte) error {
			var old handoff.Note
			if json.Unmarshal(v, &old) == nil && old.ID == n.ID {
				out, dup = old, true
			}
			count++
			return nil
		})
		switch {
		case dup:
			return nil
		case count >= max:
			return handoff.ErrNoteLimit
		}
		return putNext(b, n, 0)
	})
	return out, dup, err
}

// Notes implements handoff.Annals.
func (s *Store) Notes(ctx context.Context, conv string) ([]handoff.Note, error) {
	return list[handoff.Note](s, ctx, bNotes, conv)
}

// AddShopperConversation implements handoff.Annals.
func (s *Store) AddShopperConversation(ctx context.Context, shopper, conv string, keep int) error {
	return s.update(ctx, func(tx *bolt.Tx, _ func(handoff.Event)) error {
		b := tx.Bucket(bShoppers)
		var ids []string
		if raw := b.Get([]byte(shopper)); raw != nil {
			if err := json.Unmarshal(raw, &ids); err != nil {
				return fmt.Errorf("decoding the conversations of a shopper: %w", err)
			}
		}
		ids = append([]string{conv}, slices.DeleteFunc(ids, func(id string) bool { return id == conv })...)
		ids = ids[:min(len(ids), keep)]
		return boltdb.Put(b, []byte(shopper), ids)
	})
}

// ShopperConversations implements handoff.Annals.
func (s *Store) ShopperConversations(ctx context.Context, shopper string) ([]string, error) {
	var ids []string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		raw := tx.Bucket(bShoppers).Get([]byte(shopper))
		if raw == nil {
			return nil
		}
		return json.Unmarshal(raw, &ids)
	})
	return ids, err
}
