package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/boltdb"
	bolt "go.etcd.io/bbolt"
)

var _ handoff.Purger = (*Store)(nil)

// ConversationIDs implements handoff.Purger.
func (s *Store) ConversationIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bConvs).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing conversations: %w", err)
	}
	return ids, nil
}

// Purge implements handoff.Purger, in one transaction.
func (s *Store) Purge(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx *bolt.Tx, _ func(handoff.Event)) error {
		c, err := conversation(tx, id)
		if errors.Is(err, handoff.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if g, k, ok := c.Waiting(); ok {
			if q := tx.Bucket(bQueues).Bucket([]byte(g)); q != nil {
				if err := q.Delete(queueKey(k)); err != nil {
					return err
				}
			}
		}
		if agent, ok := c.Owner(); ok {
			if o := tx.Bucket(bOwned).Bucket([]byte(agent)); o != nil {
				if err := o.Delete([]byte(id)); err != nil {
					return err
				}
			}
		}
		for _, b := range [][]byte{bLogs, bIDs, bDecisions, bNotes} {
			if err := tx.Bucket(b).DeleteBucket([]byte(id)); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
		}
		if c.Shopper != nil {
			if err := dropShopperConversation(tx.Bucket(bShoppers), c.Shopper.ID, id); err != nil {
				return err
			}
		}
		return tx.Bucket(bConvs).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("purging conversation %q: %w", id, err)
	}
	return nil
}

// dropShopperConversation removes conv from shopper's list, and the list when empty.
func dropShopperConversation(b *bolt.Bucket, shopper, conv string) error {
	raw := b.Get([]byte(shopper))
	if raw == nil {
		return nil
	}
	var ids []string
	if err := json.Unmarshal(raw, &ids); err != nil {
		return fmt.Errorf("decoding the conversations of a shopper: %w", err)
	}
	ids = slices.DeleteFunc(ids, func(x string) bool { return x == conv })
	if len(ids) == 0 {
		return b.Delete([]byte(shopper))
	}
	return boltdb.Put(b, []byte(shopper), ids)
}

// RedactTicket implements handoff.Purger. Tickets are found by reading them all, so
// there is no conversation index to drop.
func (s *Store) RedactTicket(ctx context.Context, t handoff.Ticket, _ string) error {
	return s.update(ctx, func(tx *bolt.Tx, _ func(handoff.Event)) error {
		if _, err := getTicket(tx, t.ID); err != nil {
			return err
		}
		return putTicket(tx, t)
	})
}
