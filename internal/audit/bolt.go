package audit

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// auditBucket holds the entries by an 8-byte big-endian sequence; values are JSON.
var auditBucket = []byte("audit.entries")

// BoltStore keeps the audit log in the embedded bbolt database.
type BoltStore struct{ db *bolt.DB }

var _ Store = (*BoltStore)(nil)

// NewBoltStore returns a BoltStore on db, creating its bucket.
func NewBoltStore(db *bolt.DB) (*BoltStore, error) {
	if db == nil {
		return nil, errors.New("audit: a database is required")
	}
	err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(auditBucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating the audit bucket: %w", err)
	}
	return &BoltStore{db: db}, nil
}

// Append implements Store. The ID is the sequence in 16 hex digits.
func (s *BoltStore) Append(_ context.Context, e Entry, max int) (Entry, error) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(auditBucket)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(nil, seq)
		e.ID = hex.EncodeToString(key)
		raw, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if err := b.Put(key, raw); err != nil {
			return err
		}
		if seq <= uint64(max) {
			return nil
		}
		// Drop what is beyond max: the keys up to seq-max, oldest first.
		oldest := seq - uint64(max)
		c := b.Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= oldest; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Entry{}, fmt.Errorf("appending to the audit log: %w", err)
	}
	return e, nil
}

// List implements Store.
func (s *BoltStore) List(_ context.Context, limit int, before string) ([]Entry, error) {
	var from []byte
	if before != "" {
		k, err := hex.DecodeString(before)
		if err != nil || len(k) != 8 {
			return nil, ErrBadCursor
		}
		from = k
	}
	out := []Entry{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(auditBucket).Cursor()
		var k, v []byte
		if from == nil {
			k, v = c.Last()
		} else {
			k, v = c.Seek(from)
			if k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev() // the entries before the cursor, which is excluded
			}
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decoding audit entry %x: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
