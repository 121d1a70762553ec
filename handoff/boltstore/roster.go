package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/handoff"
	bolt "go.etcd.io/bbolt"
)

// SetPresence implements handoff.Roster.
func (s *Store) SetPresence(ctx context.Context, p handoff.Presence, old *handoff.Presence) (bool, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return false, fmt.Errorf("encoding presence: %w", err)
	}
	ok := true
	err = s.update(ctx, func(tx *bolt.Tx, _ func(handoff.Event)) error {
		bucket := tx.Bucket(bPresence)
		if old != nil {
			want, err := json.Marshal(*old)
			if err != nil {
				return err
			}
			if !bytes.Equal(bucket.Get([]byte(p.Agent)), want) {
				ok = false
				return nil
			}
		}
		return bucket.Put([]byte(p.Agent), b)
	})
	return ok && err == nil, err
}

// Presences implements handoff.Roster.
func (s *Store) Presences(ctx context.Context) ([]handoff.Presence, error) {
	var out []handoff.Presence
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bPresence).ForEach(func(k, v []byte) error {
			var p handoff.Presence
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decoding the presence of %q: %w", k, err)
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// Waits implements handoff.Roster.
func (s *Store) Waits(ctx context.Context) ([]time.Duration, error) {
	var out []time.Duration
	err := s.view(ctx, func(tx *bolt.Tx) error {
		cur := tx.Bucket(bWaits).Cursor()
		for k, v := cur.Last(); k != nil; k, v = cur.Prev() {
			out = append(out, time.Duration(fromU64(v))*time.Millisecond)
		}
		return nil
	})
	return out, err
}

// trim deletes the oldest entries of b, a bucket keyed by sequence, beyond the latest
// keep.
func trim(b *bolt.Bucket, keep int) error {
	var keys [][]byte
	b.ForEach(func(k, _ []byte) error {
		keys = append(keys, bytes.Clone(k))
		return nil
	})
	for _, k := range keys[:max(len(keys)-keep, 0)] {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
