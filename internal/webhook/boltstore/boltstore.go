// Package boltstore keeps the webhooks (package webhook) in the embedded database.
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/internal/boltdb"
	"github.com/kefu-im/kefu/internal/webhook"
	bolt "go.etcd.io/bbolt"
)

// The embedded store's buckets.
var (
	bucketEndpoints = []byte("webhook.endpoints") // id → webhook.Endpoint
	bucketQueue     = []byte("webhook.queue")     // due time (ms, big-endian) + delivery id → webhook.Delivery
	bucketLog       = []byte("webhook.log")       // endpoint id, 0, sequence (big-endian) → webhook.Attempt
)

// Store is the embedded engine's webhook.Store, in the bbolt file the desk shares. Only one
// process opens the file, so its one Run is the only one sending: Due needs no lease.
type Store struct{ db *bolt.DB }

var _ webhook.Store = (*Store)(nil)

// New returns the store on db, creating its buckets.
func New(db *bolt.DB) (*Store, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketEndpoints, bucketQueue, bucketLog} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("creating the webhook buckets: %w", err)
	}
	return &Store{db: db}, nil
}

// AddEndpoint implements webhook.Store.
func (s *Store) AddEndpoint(_ context.Context, e webhook.Endpoint) error {
	return s.db.Update(func(tx *bolt.Tx) error { return boltdb.Put(tx.Bucket(bucketEndpoints), []byte(e.ID), e) })
}

// Endpoints implements webhook.Store.
func (s *Store) Endpoints(context.Context) ([]webhook.Endpoint, error) {
	var out []webhook.Endpoint
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = boltdb.All[webhook.Endpoint](tx.Bucket(bucketEndpoints), "webhook endpoint")
		return err
	})
	webhook.SortEndpoints(out)
	return out, err
}

// DeleteEndpoint implements webhook.Store.
func (s *Store) DeleteEndpoint(_ context.Context, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEndpoints)
		if b.Get([]byte(id)) == nil {
			return webhook.ErrNotFound
		}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		l, prefix := tx.Bucket(bucketLog).Cursor(), logPrefix(id)
		for k, _ := l.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = l.Seek(prefix) {
			if err := l.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

func queueKey(d webhook.Delivery) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(d.NextAt.UnixMilli()))
	return append(k, d.ID...)
}

func logPrefix(endpoint string) []byte { return append([]byte(endpoint), 0) }

// Enqueue implements webhook.Store.
func (s *Store) Enqueue(_ context.Context, ds []webhook.Delivery) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketQueue)
		for _, d := range ds {
			raw, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if err := b.Put(queueKey(d), raw); err != nil {
				return err
			}
		}
		return nil
	})
}

// Due implements webhook.Store: the deliveries due first.
func (s *Store) Due(_ context.Context, now time.Time, _ time.Duration, n int) ([]webhook.Delivery, error) {
	var out []webhook.Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketQueue).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			if int64(binary.BigEndian.Uint64(k[:8])) > now.UnixMilli() {
				break
			}
			var d webhook.Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("reading webhook delivery %q: %w", k[8:], err)
			}
			d.Ref = string(k)
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// Done implements webhook.Store.
func (s *Store) Done(_ context.Context, d webhook.Delivery) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketQueue).Delete([]byte(d.Ref)) })
}

// Retry implements webhook.Store.
func (s *Store) Retry(_ context.Context, d webhook.Delivery) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketQueue)
		if err := b.Delete([]byte(d.Ref)); err != nil {
			return err
		}
		return b.Put(queueKey(d), raw)
	})
}

// Record implements webhook.Store.
func (s *Store) Record(_ context.Context, endpoint string, a webhook.Attempt) error {
	raw, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLog)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		prefix := logPrefix(endpoint)
		if err := b.Put(binary.BigEndian.AppendUint64(bytes.Clone(prefix), seq), raw); err != nil {
			return err
		}
		var n int
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		for k, _ := c.Seek(prefix); n > webhook.LogSize && k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
			n--
		}
		return nil
	})
}

// Attempts implements webhook.Store.
func (s *Store) Attempts(_ context.Context, endpoint string) ([]webhook.Attempt, error) {
	var out []webhook.Attempt
	err := s.db.View(func(tx *bolt.Tx) error {
		c, prefix := tx.Bucket(bucketLog).Cursor(), logPrefix(endpoint)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var a webhook.Attempt
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("reading the webhook log of %q: %w", endpoint, err)
			}
			out = append(out, a)
		}
		return nil
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}
