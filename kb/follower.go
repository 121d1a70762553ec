package kb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// FollowerConfig configures a Follower. Store and Index are required.
type FollowerConfig struct {
	// Store keeps the articles and their change feed.
	Store Store
	// Index is the index the Follower keeps equal to the store's published articles.
	Index *Index
	// Poll bounds how long one read of the change feed waits; zero means 5 seconds.
	Poll time.Duration
	// Observe, when set, is told what the Follower read from the store, once the index
	// holds it: after Sync every article (all is true); after a batch of changes the
	// changed articles and the ids of the deleted ones. It is called with the Follower's
	// lock held, so calls come one at a time and in order; it must not block.
	Observe func(all bool, entries []Entry, deleted []string)
	// Logger receives the Follower's logs.
	Logger zerolog.Logger
}

// Follower keeps an Index equal to the published articles of a Store, on one node:
// Sync builds the index from the store, Run follows the store's change feed and applies
// each change, and rebuilds when the feed no longer holds its position. While the feed
// cannot be read the Follower is stale, and says so (Stale, Ready), rather than let the
// node serve a stale index silently.
type Follower struct {
	store   Store
	index   *Index
	poll    time.Duration
	observe func(all bool, entries []Entry, deleted []string)
	log     zerolog.Logger

	// stale is true while the change feed cannot be read: the index may lag behind.
	stale atomic.Bool
	// ready is closed when Sync has built the index once.
	ready     chan struct{}
	readyOnce sync.Once

	// mu guards cursor, and is held through a Sync and through applying a batch of
	// changes, so that the index and the cursor move together.
	mu     sync.Mutex
	cursor string // the feed position the index reflects
}

// NewFollower returns a Follower. It does not touch the store: Sync and Run do.
func NewFollower(cfg FollowerConfig) (*Follower, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("kb: FollowerConfig.Store is required")
	case cfg.Index == nil:
		return nil, errors.New("kb: FollowerConfig.Index is required")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.Observe == nil {
		cfg.Observe = func(bool, []Entry, []string) {}
	}
	return &Follower{
		store: cfg.Store, index: cfg.Index, poll: cfg.Poll, observe: cfg.Observe, log: cfg.Logger,
		ready: make(chan struct{}),
	}, nil
}

// Ready reports whether the index has been built and follows the store.
func (f *Follower) Ready() bool {
	select {
	case <-f.ready:
		return !f.stale.Load()
	default:
		return false
	}
}

// Stale reports whether the change feed cannot be read just now, so that the index may
// lag behind the store.
func (f *Follower) Stale() bool { return f.stale.Load() }

// Sync makes the index hold exactly the store's published articles now, and follows the
// feed from there. The feed's head is read before the articles: a change saved during
// the Sync is then applied again by Run, which is harmless. A server calls Sync once
// the store is reachable and before it serves; Run calls it when it has not been, and
// when the feed no longer holds its position.
func (f *Follower) Sync(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := time.Now()
	head, err := f.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("reading the change feed: %w", err)
	}
	entries, err := f.store.List(ctx)
	if err != nil {
		return fmt.Errorf("listing articles: %w", err)
	}
	var arts []Article
	for _, e := range entries {
		if e.Status == StatusPublished {
			arts = append(arts, e.Article)
		}
	}
	reused, learned, err := f.index.load(ctx, arts, head)
	if err != nil {
		return err
	}
	f.cursor = head
	f.observe(true, entries, nil)
	f.readyOnce.Do(func() { close(f.ready) })
	f.log.Info().Int("articles", len(arts)).Bool("reused", reused).Int("trained", learned).Dur("took", time.Since(start)).Msg("index built from the article store")
	return nil
}

// apply brings the index up to date with the changes read after cursor, and moves the
// cursor to next. Changes read before a Sync that has moved the cursor since are
// dropped: the Sync saw them.
func (f *Follower) apply(ctx context.Context, cursor, next string, changes []Change) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cursor != cursor {
		return nil
	}
	seen := make(map[string]bool, len(changes))
	var put []Article
	var entries []Entry
	var del, deleted []string
	for i := len(changes) - 1; i >= 0; i-- {
		id := changes[i].ID
		if seen[id] {
			continue
		}
		seen[id] = true
		e, err := f.store.Get(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			del = append(del, id)
			deleted = append(deleted, id)
			continue
		case err != nil:
			return err
		case e.Status == StatusPublished:
			put = append(put, e.Article)
		default:
			del = append(del, id)
		}
		entries = append(entries, e)
	}
	if err := f.index.apply(ctx, put, del, next); err != nil {
		return fmt.Errorf("indexing changed articles: %w", err)
	}
	f.cursor = next
	f.observe(false, entries, deleted)
	f.log.Debug().Int("changes", len(changes)).Str("cursor", next).Msg("index updated")
	return nil
}

// Run keeps the index equal to the store's published articles until ctx ends: it
// builds it first if Sync has not, then follows the change feed. While the feed cannot
// be read the Follower is stale (it logs so once); when it can again, it catches up
// from where it stopped, or rebuilds if the feed no longer holds that position. Run
// returns nil when ctx ends.
func (f *Follower) Run(ctx context.Context) error {
	const minBackoff, maxBackoff = 100 * time.Millisecond, 2 * time.Second
	backoff := minBackoff
	for ctx.Err() == nil {
		var err error
		select {
		case <-f.ready:
			err = f.follow(ctx)
		default:
			err = f.Sync(ctx)
		}
		if err == nil {
			if f.stale.Swap(false) {
				f.log.Info().Msg("following the article change feed again; the index is up to date")
			}
			backoff = minBackoff
			continue
		}
		if ctx.Err() != nil {
			break
		}
		if !f.stale.Swap(true) {
			f.log.Error().Err(err).Msg("cannot follow the article change feed; the index may be stale until it can")
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
	return nil
}

// follow reads the changes after the cursor, waiting up to the poll time, and applies
// them; on ErrFeedGap it rebuilds the index.
func (f *Follower) follow(ctx context.Context) error {
	f.mu.Lock()
	cursor := f.cursor
	f.mu.Unlock()
	changes, next, err := f.store.Changes(ctx, cursor, f.poll)
	if errors.Is(err, ErrFeedGap) {
		f.log.Warn().Str("cursor", cursor).Msg("change feed no longer holds our position; rebuilding the index")
		return f.Sync(ctx)
	}
	if err != nil || len(changes) == 0 {
		return err
	}
	return f.apply(ctx, cursor, next, changes)
}
