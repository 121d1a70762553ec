// Package boltdb opens the embedded database that Kefu keeps in its data directory
// (KEFU_DATA_DIR): one bbolt file that the desk, the accounts and the articles share,
// each under top-level buckets of its own.
//
// Every update transaction is committed with fsync, so what a caller was told is stored
// survives kill -9 and a power cut. Only one process may open the file; a second one
// gets ErrInUse at once instead of waiting.
package boltdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the database's file in the data directory.
const FileName = "kefu.db"

// ErrInUse is returned by Open when another process holds the database.
var ErrInUse = errors.New("the data directory is in use by another kefu process")

// Open opens (creating if needed) the database in dir, which it creates too.
func Open(dir string) (*bolt.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 200 * time.Millisecond})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("opening %s: %w", path, ErrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return db, nil
}
