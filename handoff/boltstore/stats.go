package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/handoff"
	bolt "go.etcd.io/bbolt"
)

// bStats holds the reports' counters: hour (8 bytes, big-endian Unix seconds), then
// group, 0, agent, 0, name → the sum (8 bytes, big-endian, two's complement). They are
// kept apart from the conversations, so that deleting a conversation keeps them.
var bStats = []byte("desk.stats")

// statKey is the key of t's counter.
func statKey(t handoff.Tally) []byte {
	b := make([]byte, 0, 8+len(t.Group)+len(t.Agent)+len(t.Name)+2)
	b = append(b, u64(uint64(t.Hour))...)
	b = append(b, t.Group...)
	b = append(b, 0)
	b = append(b, t.Agent...)
	b = append(b, 0)
	return append(b, t.Name...)
}

// addTallies adds tallies to their counters in tx.
func addTallies(tx *bolt.Tx, tallies []handoff.Tally) error {
	bk := tx.Bucket(bStats)
	for _, t := range tallies {
		k := statKey(t)
		n := t.N
		if v := bk.Get(k); v != nil {
			n += int64(fromU64(v))
		}
		if err := bk.Put(k, u64(uint64(n))); err != nil {
			return fmt.Errorf("adding to counter %q: %w", t.Name, err)
		}
	}
	return nil
}

// Tallies implements handoff.Stats.
func (s *Store) Tallies(ctx context.Context, from, to time.Time) ([]handoff.Tally, error) {
	var out []handoff.Tally
	end := to.Unix()
	err := s.view(ctx, func(tx *bolt.Tx) error {
		cur := tx.Bucket(bStats).Cursor()
		for k, v := cur.Seek(u64(uint64(from.Unix()))); k != nil && int64(fromU64(k[:8])) < end; k, v = cur.Next() {
			parts := bytes.SplitN(k[8:], []byte{0}, 3)
			if len(parts) != 3 {
				return fmt.Errorf("reading counters: bad key %q", k)
			}
			out = append(out, handoff.Tally{Hour: int64(fromU64(k[:8])), Group: handoff.Group(parts[0]), Agent: string(parts[1]),
				Name: string(parts[2]), N: int64(fromU64(v))})
		}
		return nil
	})
	return out, err
}
