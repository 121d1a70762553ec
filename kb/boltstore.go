package kb

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kefu-im/kefu/internal/boltdb"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// BoltConfig configures a BoltStore.
type BoltConfig struct {
	// DB is required: the embedded database of the data directory. The store keeps its
	// data under top-level buckets of its own, named "kb.…", beside those of the rest
	// of Kefu.
	DB *bolt.DB
	// Now is the clock that stamps saves and questions; nil means time.Now.
	Now func() time.Time
	// Logger receives the store's logs (what it found when opened, at debug level).
	Logger zerolog.Logger
	// FeedLen is how many changes the feed keeps; 0 means 100000.
	FeedLen int
}

// BoltStore is the Store of one process, kept in the embedded bbolt database: the
// default. Every write is one update transaction, committed with the database's fsync,
// so a save that returned survives a crash.
//
// Changes wakes at once for the saves of this BoltStore; give one database one
// BoltStore.
type BoltStore struct {
	db      *bolt.DB
	now     func() time.Time
	feedLen int

	// maxUnanswered is MaxUnanswered; tests lower it.
	maxUnanswered int

	mu   sync.Mutex    // guards wake
	wake chan struct{} // closed and replaced after every committed change
}

var _ Store = (*BoltStore)(nil)

// The store's buckets.
var (
	// bucketArticles maps an id to its live entry (JSON).
	bucketArticles = []byte("kb.articles")
	// bucketVersions maps id, 0, version (8 bytes, big-endian) to the Version (JSON).
	bucketVersions = []byte("kb.versions")
	// bucketFeed maps a change's number (8 bytes, big-endian) to the change (JSON,
	// without its cursor); its sequence is the latest change's number.
	bucketFeed = []byte("kb.feed")
	// bucketSeeded holds source, 0, id for every id seeded from a source.
	bucketSeeded = []byte("kb.seeded")
	// bucketUnanswered maps a question's id (8 bytes, big-endian) to the question
	// (JSON, without its id); its sequence is the last id given.
	bucketUnanswered = []byte("kb.unanswered")
	// bucketMeta holds unansweredCount.
	bucketMeta = []byte("kb.meta")
)

// unansweredCount is the key of the number of questions kept, 8 bytes big-endian.
var unansweredCount = []byte("unanswered.count")

// NewBoltStore returns a BoltStore on cfg.DB, creating its buckets if they are missing.
func NewBoltStore(cfg BoltConfig) (*BoltStore, error) {
	if cfg.DB == nil {
		return nil, errors.New("kb: BoltConfig.DB is required")
	}
	if cfg.FeedLen < 0 {
		return nil, fmt.Errorf("kb: BoltConfig.FeedLen %d is negative", cfg.FeedLen)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FeedLen == 0 {
		cfg.FeedLen = defaultFeedLen
	}
	var articles int
	var head uint64
	err := cfg.DB.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketArticles, bucketVersions, bucketFeed, bucketSeeded, bucketUnanswered, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("creating bucket %s: %w", name, err)
			}
		}
		articles, head = tx.Bucket(bucketArticles).Stats().KeyN, tx.Bucket(bucketFeed).Sequence()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kb: opening the article store: %w", err)
	}
	cfg.Logger.Debug().Str("path", cfg.DB.Path()).Int("articles", articles).Uint64("feed_head", head).Msg("article store opened")
	return &BoltStore{
		db: cfg.DB, now: cfg.Now, feedLen: cfg.FeedLen,
		maxUnanswered: MaxUnanswered, wake: make(chan struct{}),
	}, nil
}

// boltFail wraps err, the error of a transaction made to do what. The store's own
// errors (ErrExists, ErrNotFound, ErrConflict, ErrFeedGap) come back as they are; any
// other means the database cannot serve (closed, or a failed read or write) and wraps
// ErrUnavailable.
func boltFail(what string, err error) error {
	for _, own := range []error{ErrExists, ErrNotFound, ErrConflict, ErrFeedGap} {
		if errors.Is(err, own) {
			return err
		}
	}
	return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func versionKey(id string, n int) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(id), 0), uint64(n))
}

// boltState reads the state of article id in tx.
func boltState(tx *bolt.Tx, id string) (articleState, error) {
	var st articleState
	if raw := tx.Bucket(bucketArticles).Get([]byte(id)); raw != nil {
		if err := json.Unmarshal(raw, &st.current); err != nil {
			return st, fmt.Errorf("decoding article %q: %w", id, err)
		}
		st.live = true
	}
	// The last key of the id's versions: seek past them, then step back.
	prefix := append([]byte(id), 0)
	c := tx.Bucket(bucketVersions).Cursor()
	k, _ := c.Seek(versionKey(id, -1)) // 0xff…: after every version of id
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8 {
		st.versions = int(binary.BigEndian.Uint64(k[len(prefix):]))
	}
	return st, nil
}

// boltChange is a change as the feed bucket keeps it.
type boltChange struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Deleted bool   `json:"deleted,omitempty"`
}

// put writes version v of its article in tx: the live entry (or its removal), the
// version and the change, and trims the feed.
func (s *BoltStore) put(tx *bolt.Tx, v Version) error {
	id := []byte(v.ID)
	if v.Deleted {
		if err := tx.Bucket(bucketArticles).Delete(id); err != nil {
			return err
		}
	} else {
		if err := boltdb.Put(tx.Bucket(bucketArticles), id, v.Entry); err != nil {
			return fmt.Errorf("article %q: %w", v.ID, err)
		}
	}
	if err := boltdb.Put(tx.Bucket(bucketVersions), versionKey(v.ID, v.Version), v); err != nil {
		return fmt.Errorf("version %d of %q: %w", v.Version, v.ID, err)
	}
	feed := tx.Bucket(bucketFeed)
	seq, err := feed.NextSequence()
	if err != nil {
		return err
	}
	if err := boltdb.Put(feed, u64(seq), boltChange{ID: v.ID, Version: v.Version, Deleted: v.Deleted}); err != nil {
		return err
	}
	// Keep the latest feedLen changes: the oldest goes, one a save once the feed is full.
	if seq <= uint64(s.feedLen) {
		return nil
	}
	oldest := seq - uint64(s.feedLen) + 1
	c := feed.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) < oldest; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// save runs the update transaction fn and, if it wrote a change, wakes the waiting
// Changes calls once it is committed.
func (s *BoltStore) save(what string, fn func(tx *bolt.Tx) (changed bool, err error)) error {
	changed := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		changed, err = fn(tx)
		return err
	})
	if err != nil {
		return boltFail(what, err)
	}
	if changed {
		s.mu.Lock()
		close(s.wake)
		s.wake = make(chan struct{})
		s.mu.Unlock()
	}
	return nil
}

// Create implements Store.
func (s *BoltStore) Create(ctx context.Context, e Entry, by, action string) (Entry, error) {
	var v Version
	err := s.save(fmt.Sprintf("creating article %q", e.ID), func(tx *bolt.Tx) (bool, error) {
		st, err := boltState(tx, e.ID)
		if err != nil {
			return false, err
		}
		if v, err = decideCreate(st, e, by, action, s.now()); err != nil {
			return false, err
		}
		return true, s.put(tx, v)
	})
	return v.Entry, err
}

// Update implements Store.
func (s *BoltStore) Update(ctx context.Context, e Entry, base int, by, action string, restoredFrom int) (Entry, error) {
	var v Version
	err := s.save(fmt.Sprintf("updating article %q", e.ID), func(tx *bolt.Tx) (bool, error) {
		st, err := boltState(tx, e.ID)
		if err != nil {
			return false, err
		}
		if v, err = decideUpdate(st, e, base, by, action, restoredFrom, s.now()); err != nil {
			return false, err
		}
		return true, s.put(tx, v)
	})
	return v.Entry, err
}

// Delete implements Store.
func (s *BoltStore) Delete(ctx context.Context, id string, base int, by string) error {
	return s.save(fmt.Sprintf("deleting article %q", id), func(tx *bolt.Tx) (bool, error) {
		st, err := boltState(tx, id)
		if err != nil {
			return false, err
		}
		v, err := decideDelete(st, id, base, by, s.now())
		if err != nil {
			return false, err
		}
		return true, s.put(tx, v)
	})
}

// Get implements Store.
func (s *BoltStore) Get(ctx context.Context, id string) (Entry, error) {
	var e Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketArticles).Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("article %q: %w", id, ErrNotFound)
		}
		return json.Unmarshal(raw, &e)
	})
	if err != nil {
		return Entry{}, boltFail(fmt.Sprintf("reading article %q", id), err)
	}
	return e, nil
}

// List implements Store.
func (s *BoltStore) List(ctx context.Context) ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		out, err = boltdb.All[Entry](tx.Bucket(bucketArticles), "article")
		return err
	})
	if err != nil {
		return nil, boltFail("listing articles", err)
	}
	return out, nil
}

// Versions implements Store.
func (s *BoltStore) Versions(ctx context.Context, id string) ([]Version, error) {
	var out []Version
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := append([]byte(id), 0)
		c := tx.Bucket(bucketVersions).Cursor()
		for k, raw := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, raw = c.Next() {
			var v Version
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("decoding a version of %q: %w", id, err)
			}
			out = append(out, v)
		}
		if len(out) == 0 {
			return fmt.Errorf("article %q: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, boltFail(fmt.Sprintf("reading versions of %q", id), err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// Version implements Store.
func (s *BoltStore) Version(ctx context.Context, id string, n int) (Version, error) {
	var v Version
	err := s.db.View(func(tx *bolt.Tx) error {
		var raw []byte
		if n >= 1 {
			raw = tx.Bucket(bucketVersions).Get(versionKey(id, n))
		}
		if raw == nil {
			return fmt.Errorf("article %q version %d: %w", id, n, ErrNotFound)
		}
		return json.Unmarshal(raw, &v)
	})
	if err != nil {
		return Version{}, boltFail(fmt.Sprintf("reading version %d of %q", n, id), err)
	}
	return v, nil
}

// Seed implements Store. Like the Redis store's, it seeds es in steps of seedChunk
// articles, one update transaction each: bbolt splits its pages only when a
// transaction commits, so one transaction of 50,000 articles inserted each key into
// ever longer pages, a time that grows with the square of the articles.
func (s *BoltStore) Seed(ctx context.Context, source string, es []Entry, by string) ([]string, error) {
	es = seedIDs(es)
	var created []string
	for start := 0; start < len(es); start += seedChunk {
		c, err := s.seedStep(source, es[start:min(start+seedChunk, len(es))], by)
		if err != nil {
			return nil, err
		}
		created = append(created, c...)
	}
	return created, nil
}

// seedStep seeds es (distinct ids) in one transaction.
func (s *BoltStore) seedStep(source string, es []Entry, by string) ([]string, error) {
	var created []string
	err := s.save(fmt.Sprintf("seeding from %q", source), func(tx *bolt.Tx) (bool, error) {
		created = nil
		seededKey := func(id string) []byte { return append(append([]byte(source), 0), id...) }
		seeded := tx.Bucket(bucketSeeded)
		var failed error
		p := decideSeed(es,
			func(id string) bool { return seeded.Get(seededKey(id)) != nil },
			func(id string) articleState {
				st, err := boltState(tx, id)
				if failed == nil {
					failed = err
				}
				return st
			}, by, s.now())
		if failed != nil {
			return false, failed
		}
		for _, id := range p.marks {
			if err := seeded.Put(seededKey(id), nil); err != nil {
				return false, err
			}
		}
		for _, v := range p.creates {
			if err := s.put(tx, v); err != nil {
				return false, err
			}
			created = append(created, v.ID)
		}
		return len(p.creates) > 0, nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}
