package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/internal/boltdb"
	bolt "go.etcd.io/bbolt"
)

// The BoltStore's top-level buckets: users by name, sessions by token hash, API tokens
// by ID. Values are JSON.
var (
	usersBucket    = []byte("account.users")
	sessionsBucket = []byte("account.sessions")
	tokensBucket   = []byte("account.tokens")
)

// BoltConfig configures a BoltStore.
type BoltConfig struct {
	// DB is the data directory's database (internal/boltdb); required. The store keeps
	// to buckets of its own.
	DB *bolt.DB
	// Now is the clock by which expired sessions are removed; nil means time.Now.
	Now func() time.Time
}

// BoltStore keeps users, sessions and API tokens in the embedded bbolt database, each
// change in one update transaction. Expired sessions are removed when a session is
// added.
type BoltStore struct {
	db  *bolt.DB
	now func() time.Time
}

var _ Store = (*BoltStore)(nil)

// NewBoltStore returns a BoltStore, creating its buckets.
func NewBoltStore(cfg BoltConfig) (*BoltStore, error) {
	if cfg.DB == nil {
		return nil, errors.New("account: BoltConfig.DB is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	err := cfg.DB.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{usersBucket, sessionsBucket, tokensBucket} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("creating the account buckets: %w", err)
	}
	return &BoltStore{db: cfg.DB, now: cfg.Now}, nil
}

// PutUser implements Store.
func (s *BoltStore) PutUser(_ context.Context, u User, create bool) error {
	return s.put(usersBucket, u.Name, u, "user", func(b *bolt.Bucket) error {
		if create && b.Get([]byte(u.Name)) != nil {
			return ErrUserExists
		}
		return nil
	})
}

// User implements Store.
func (s *BoltStore) User(_ context.Context, name string) (User, error) {
	return boltGet[User](s.db, usersBucket, name, "user")
}

// Users implements Store.
func (s *BoltStore) Users(context.Context) ([]User, error) {
	return boltAll[User](s.db, usersBucket, "users")
}

// PutSession implements Store. It removes the sessions that have expired in the same
// transaction, so that the bucket holds no more than the sessions of the last TTL.
func (s *BoltStore) PutSession(_ context.Context, h string, sess Session) error {
	now := s.now()
	return s.put(sessionsBucket, h, sess, "session", func(b *bolt.Bucket) error {
		var expired [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var old Session
			if json.Unmarshal(v, &old) == nil && !now.Before(old.Expires) {
				expired = append(expired, k)
			}
			return nil
		})
		for _, k := range expired {
			if err == nil {
				err = b.Delete(k)
			}
		}
		return err
	})
}

// Session implements Store.
func (s *BoltStore) Session(_ context.Context, h string) (Session, error) {
	return boltGet[Session](s.db, sessionsBucket, h, "session")
}

// DeleteSession implements Store.
func (s *BoltStore) DeleteSession(_ context.Context, h string) error {
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(sessionsBucket).Delete([]byte(h)) })
	if err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

// PutToken implements Store.
func (s *BoltStore) PutToken(_ context.Context, t APIToken) error {
	return s.put(tokensBucket, t.ID, t, "API token", nil)
}

// Token implements Store.
func (s *BoltStore) Token(_ context.Context, id string) (APIToken, error) {
	return boltGet[APIToken](s.db, tokensBucket, id, "API token")
}

// Tokens implements Store.
func (s *BoltStore) Tokens(context.Context) ([]APIToken, error) {
	return boltAll[APIToken](s.db, tokensBucket, "API tokens")
}

// DeleteToken implements Store.
func (s *BoltStore) DeleteToken(_ context.Context, id string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(tokensBucket)
		if b.Get([]byte(id)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(id))
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("deleting API token: %w", err)
	}
	return err
}

// put stores v under key in bucket, in one transaction with check, which may refuse it
// or change the bucket first; what names the value in errors.
func (s *BoltStore) put(bucket []byte, key string, v any, what string, check func(*bolt.Bucket) error) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", what, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if check != nil {
			if err := check(b); err != nil {
				return err
			}
		}
		return b.Put([]byte(key), raw)
	})
	if err != nil && !errors.Is(err, ErrUserExists) {
		return fmt.Errorf("storing %s: %w", what, err)
	}
	return err
}

// boltGet reads and decodes the value of key, or returns ErrNotFound.
func boltGet[T any](db *bolt.DB, bucket []byte, key, what string) (T, error) {
	var v T
	var raw []byte
	err := db.View(func(tx *bolt.Tx) error {
		// The value is valid only during the transaction.
		raw = append(raw, tx.Bucket(bucket).Get([]byte(key))...)
		return nil
	})
	if err != nil {
		return v, fmt.Errorf("reading %s: %w", what, err)
	}
	if raw == nil {
		return v, ErrNotFound
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("decoding %s: %w", what, err)
	}
	return v, nil
}

// boltAll reads and decodes every value of bucket, in key order.
func boltAll[T any](db *bolt.DB, bucket []byte, what string) ([]T, error) {
	var out []T
	err := db.View(func(tx *bolt.Tx) (err error) {
		out, err = boltdb.All[T](tx.Bucket(bucket), what)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	return out, nil
}
