package kb

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/internal/boltdb"
	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	bolt "go.etcd.io/bbolt"
)

func newBoltTestStore(t *testing.T, db *bolt.DB, l limits) *BoltStore {
	t.Helper()
	s, err := NewBoltStore(BoltConfig{DB: db, Now: newClock().Now, FeedLen: l.feedLen})
	if err != nil {
		t.Fatal(err)
	}
	if l.maxUnanswered > 0 {
		s.maxUnanswered = l.maxUnanswered
	}
	return s
}

// reopenBolt closes the database of s, a BoltStore, and returns a BoltStore on the
// database opened again from its file.
func reopenBolt(t *testing.T, s Store) Store {
	t.Helper()
	old := s.(*BoltStore)
	path := old.db.Path()
	if err := old.db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := boltdb.Open(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newBoltTestStore(t, db, limits{feedLen: old.feedLen, maxUnanswered: old.maxUnanswered})
}

// TestBoltStoreBuckets shows that the store keeps to buckets of its own, named "kb.…",
// in a database it shares.
func TestBoltStoreBuckets(t *testing.T) {
	db := bolttest.Open(t)
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("desk.conversations"))
		if err != nil {
			return err
		}
		return b.Put([]byte("c1"), []byte("kept"))
	}); err != nil {
		t.Fatal(err)
	}
	s := newBoltTestStore(t, db, limits{})
	ctx := context.Background()
	mustCreate(t, s, article("a", "alpha"))
	s.AddUnanswered(ctx, Unanswered{Text: "q"})
	if _, err := s.Seed(ctx, "bundle", []Entry{article("b", "beta")}, "system"); err != nil {
		t.Fatal(err)
	}
	var names []string
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			names = append(names, string(name))
			if string(name) == "desk.conversations" && (b.Stats().KeyN != 1 || string(b.Get([]byte("c1"))) != "kept") {
				t.Errorf("the store changed another bucket")
			}
			return nil
		})
	})
	for _, n := range names {
		if n != "desk.conversations" && !strings.HasPrefix(n, "kb.") {
			t.Errorf("bucket %q: want every bucket of the store named kb.…", n)
		}
	}
}

// TestBoltStoreClosed shows that calls on a closed database fail with an error wrapping
// ErrUnavailable, not ErrNotFound.
func TestBoltStoreClosed(t *testing.T) {
	db := bolttest.Open(t)
	s := newBoltTestStore(t, db, limits{})
	ctx := context.Background()
	mustCreate(t, s, article("a", "alpha"))
	head, _ := s.Head(ctx)
	db.Close()
	checkUnavailable(t, "on a closed database", s, head)
}
