// Package bolttest opens throwaway embedded databases for tests.
package bolttest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/boltdb"
	bolt "go.etcd.io/bbolt"
)

// Open opens a fresh database in a temporary directory for one test and closes it when
// the test ends. Commits skip fsync (NoSync) to keep tests fast; durability is tested
// through boltdb.Open.
func Open(t testing.TB) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), boltdb.FileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.NoSync = true
	t.Cleanup(func() { db.Close() })
	return db
}
