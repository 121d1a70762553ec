package kb

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Changes implements Store. A cursor is the number of a change, from 1; "" and "0" are
// the start. The feed keeps the latest FeedLen changes: a cursor before the predecessor
// of the oldest one kept, a cursor after the latest change (of another feed) and a
// string that is not a number give ErrFeedGap.
func (s *BoltStore) Changes(ctx context.Context, cursor string, wait time.Duration) ([]Change, string, error) {
	after := uint64(0)
	if cursor != "" {
		n, err := strconv.ParseUint(cursor, 10, 64)
		if err != nil {
			return nil, cursor, fmt.Errorf("reading changes after %q: not a cursor of this feed: %w", cursor, ErrFeedGap)
		}
		after = n
	}
	var timer <-chan time.Time
	for {
		// The wake channel is taken before the read, so a save committed after the
		// read closes the very channel waited on below.
		s.mu.Lock()
		wake := s.wake
		s.mu.Unlock()
		out, err := s.readFeed(after)
		if err != nil {
			return nil, cursor, err
		}
		if len(out) > 0 {
			return out, out[len(out)-1].Cursor, nil
		}
		if wait <= 0 {
			return nil, cursor, nil
		}
		if timer == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-wake:
		case <-timer:
			return nil, cursor, nil
		case <-ctx.Done():
			return nil, cursor, ctx.Err()
		}
	}
}

// readFeed returns up to changesPage changes after number after, without waiting.
func (s *BoltStore) readFeed(after uint64) ([]Change, error) {
	var out []Change
	err := s.db.View(func(tx *bolt.Tx) error {
		feed := tx.Bucket(bucketFeed)
		latest := feed.Sequence()
		if after > latest {
			return fmt.Errorf("reading changes after %d (latest %d): %w", after, latest, ErrFeedGap)
		}
		c := feed.Cursor()
		first := latest + 1 // the oldest change kept
		if k, _ := c.First(); k != nil {
			first = binary.BigEndian.Uint64(k)
		}
		if after+1 < first {
			return fmt.Errorf("reading changes after %d (oldest kept %d): %w", after, first, ErrFeedGap)
		}
		for k, raw := c.Seek(u64(after + 1)); k != nil && len(out) < changesPage; k, raw = c.Next() {
			var ch boltChange
			if err := json.Unmarshal(raw, &ch); err != nil {
				return fmt.Errorf("decoding change %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, Change{ID: ch.ID, Version: ch.Version, Deleted: ch.Deleted,
				Cursor: strconv.FormatUint(binary.BigEndian.Uint64(k), 10)})
		}
		return nil
	})
	if err != nil {
		return nil, boltFail("reading changes", err)
	}
	return out, nil
}

// Head implements Store.
func (s *BoltStore) Head(ctx context.Context) (string, error) {
	var seq uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		seq = tx.Bucket(bucketFeed).Sequence()
		return nil
	})
	if err != nil {
		return "", boltFail("reading the feed's head", err)
	}
	if seq == 0 {
		return "", nil
	}
	return strconv.FormatUint(seq, 10), nil
}

// AddUnanswered implements Store.
func (s *BoltStore) AddUnanswered(ctx context.Context, u Unanswered) error {
	u = newUnanswered(u, s.now())
	b, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encoding question: %w", err)
	}
	return s.save("recording question", func(tx *bolt.Tx) (bool, error) {
		qs := tx.Bucket(bucketUnanswered)
		id, err := qs.NextSequence()
		if err != nil {
			return false, err
		}
		if err := qs.Put(u64(id), b); err != nil {
			return false, err
		}
		n := questionCount(tx) + 1
		// Keep the latest maxUnanswered: the oldest go.
		c := qs.Cursor()
		for k, _ := c.First(); k != nil && n > uint64(s.maxUnanswered); k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return false, err
			}
			n--
		}
		return false, tx.Bucket(bucketMeta).Put(unansweredCount, u64(n))
	})
}

// questionCount returns how many questions the store keeps.
func questionCount(tx *bolt.Tx) uint64 {
	if raw := tx.Bucket(bucketMeta).Get(unansweredCount); len(raw) == 8 {
		return binary.BigEndian.Uint64(raw)
	}
	return 0
}

// Unanswered implements Store.
func (s *BoltStore) Unanswered(ctx context.Context, limit int) ([]Unanswered, error) {
	var out []Unanswered
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketUnanswered).Cursor()
		for k, raw := c.Last(); k != nil && len(out) < limit; k, raw = c.Prev() {
			var u Unanswered
			if err := json.Unmarshal(raw, &u); err != nil {
				return fmt.Errorf("decoding question %d: %w", binary.BigEndian.Uint64(k), err)
			}
			u.ID = strconv.FormatUint(binary.BigEndian.Uint64(k), 10)
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, boltFail("reading questions", err)
	}
	return out, nil
}

// DismissUnanswered implements Store.
func (s *BoltStore) DismissUnanswered(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.save("dismissing questions", func(tx *bolt.Tx) (bool, error) {
		qs := tx.Bucket(bucketUnanswered)
		n := questionCount(tx)
		for _, id := range ids {
			key, err := strconv.ParseUint(id, 10, 64)
			if err != nil || qs.Get(u64(key)) == nil {
				continue // not an id this store gave, or dismissed before
			}
			if err := qs.Delete(u64(key)); err != nil {
				return false, err
			}
			n--
		}
		return false, tx.Bucket(bucketMeta).Put(unansweredCount, u64(n))
	})
}

// Ping implements Store: it fails once the database is closed.
func (s *BoltStore) Ping(ctx context.Context) error {
	if err := s.db.View(func(*bolt.Tx) error { return nil }); err != nil {
		return boltFail("reading the embedded database", err)
	}
	return nil
}
