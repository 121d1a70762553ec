package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/kefu-im/kefu/handoff"
	bolt "go.etcd.io/bbolt"
)

// bDocs keeps named documents: name → revision (8 bytes, big-endian) and the document.
var bDocs = []byte("desk.documents")

// Document implements handoff.Documents.
func (s *Store) Document(ctx context.Context, name string) ([]byte, int64, error) {
	var doc []byte
	var rev int64
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bDocs).Get([]byte(name))
		if v == nil {
			return nil
		}
		if len(v) < 8 {
			return fmt.Errorf("document %q is damaged", name)
		}
		rev = int64(binary.BigEndian.Uint64(v[:8]))
		doc = append([]byte(nil), v[8:]...)
		return nil
	})
	return doc, rev, err
}

// PutDocument implements handoff.Documents.
func (s *Store) PutDocument(ctx context.Context, name string, doc []byte, rev int64) (int64, error) {
	var next int64
	err := s.update(ctx, func(tx *bolt.Tx, _ func(handoff.Event)) error {
		b := tx.Bucket(bDocs)
		var cur int64
		if v := b.Get([]byte(name)); len(v) >= 8 {
			cur = int64(binary.BigEndian.Uint64(v[:8]))
		}
		if cur != rev {
			return fmt.Errorf("document %q: %w", name, handoff.ErrConflict)
		}
		next = rev + 1
		v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(doc)), uint64(next))
		return b.Put([]byte(name), append(v, doc...))
	})
	return next, err
}
