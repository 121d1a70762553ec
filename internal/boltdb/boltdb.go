// Package boltdb opens the embedded database that Kefu keeps in its data directory
// (KEFU_DATA_DIR): one bbolt file that the desk, the accounts and the articles share,
// each under top-level buckets of its own.
//
// Every update transaction is committed with fsync, so what a caller was told is stored
// survives kill -9 and a power cut. Only one process may open the file; a second one
// gets ErrInUse at once instead of waiting. All and Put read and write the JSON values
// that the stores keep in their buckets.
package boltdb

import (
	"encoding/json"
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

// All decodes every value of b, in key order, from JSON; what names the values in the
// error of one that does not decode.
func All[T any](b *bolt.Bucket, what string) ([]T, error) {
	var out []T
	err := b.ForEach(func(k, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("decoding %s %q: %w", what, k, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// Put stores v under key in b, as JSON.
func Put(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %T: %w", v, err)
	}
	return b.Put(key, raw)
}
