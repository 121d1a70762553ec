package kb

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// MemoryStore is the Store of one process: the zero-setup default. Its feed keeps the
// latest memFeedLen changes.
type MemoryStore struct {
	now func() time.Time

	mu         sync.Mutex // guards every field below
	current    map[string]Entry
	versions   map[string][]Version // oldest first
	feed       []Change             // the latest changes, oldest first
	seq        int64                // the last change's sequence number
	wake       chan struct{}        // closed and replaced on every change
	seeded     map[string]map[string]bool
	unanswered []Unanswered // oldest first
	nextU      int64

	// feedLen is memFeedLen and maxUnanswered MaxUnanswered; tests lower them.
	feedLen, maxUnanswered int
}

var _ Store = (*MemoryStore)(nil)

const memFeedLen = 10_000

// NewMemoryStore returns an empty store. now is the clock; nil means time.Now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{
		now: now, current: make(map[string]Entry), versions: make(map[string][]Version),
		wake: make(chan struct{}), seeded: make(map[string]map[string]bool),
		feedLen: memFeedLen, maxUnanswered: MaxUnanswered,
	}
}

// save records v as the article's next version and announces it. The caller holds mu.
func (s *MemoryStore) save(v Version) {
	id := v.ID
	v.Entry = cloneEntry(v.Entry) // the caller keeps its slices
	s.versions[id] = append(s.versions[id], v)
	if v.Deleted {
		delete(s.current, id)
	} else {
		s.current[id] = v.Entry
	}
	s.seq++
	s.feed = append(s.feed, Change{ID: id, Version: v.Version, Deleted: v.Deleted, Cursor: strconv.FormatInt(s.seq, 10)})
	if len(s.feed) > s.feedLen {
		s.feed = slices.Delete(s.feed, 0, len(s.feed)-s.feedLen)
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

// stamp sets the store's fields of e for version n saved by by. The caller keeps
// CreatedAt right.
func (s *MemoryStore) stamp(e Entry, n int, by string) Entry {
	e.Version, e.UpdatedBy, e.UpdatedAt = n, by, s.now().UTC()
	return e
}

// Create implements Store.
func (s *MemoryStore) Create(ctx context.Context, e Entry, by, action string) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.create(e, by, action)
}

func (s *MemoryStore) create(e Entry, by, action string) (Entry, error) {
	if _, ok := s.current[e.ID]; ok {
		return Entry{}, fmt.Errorf("creating article %q: %w", e.ID, ErrExists)
	}
	e = s.stamp(e, len(s.versions[e.ID])+1, by)
	e.CreatedAt = e.UpdatedAt
	s.save(Version{Entry: e, Action: action})
	return e, nil
}

// Update implements Store.
func (s *MemoryStore) Update(ctx context.Context, e Entry, base int, by, action string, restoredFrom int) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.current[e.ID]
	if !ok {
		return Entry{}, fmt.Errorf("updating article %q: %w", e.ID, ErrNotFound)
	}
	if cur.Version != base {
		return Entry{}, fmt.Errorf("updating article %q at version %d (latest %d): %w", e.ID, base, cur.Version, ErrConflict)
	}
	e.CreatedAt = cur.CreatedAt
	e = s.stamp(e, cur.Version+1, by)
	s.save(Version{Entry: e, Action: action, RestoredFrom: restoredFrom})
	return e, nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(ctx context.Context, id string, base int, by string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.current[id]
	if !ok {
		return fmt.Errorf("deleting article %q: %w", id, ErrNotFound)
	}
	if cur.Version != base {
		return fmt.Errorf("deleting article %q at version %d (latest %d): %w", id, base, cur.Version, ErrConflict)
	}
	e := s.stamp(cur, cur.Version+1, by)
	s.save(Version{Entry: e, Action: ActionDelete, Deleted: true})
	return nil
}

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, id string) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.current[id]
	if !ok {
		return Entry{}, fmt.Errorf("article %q: %w", id, ErrNotFound)
	}
	return cloneEntry(e), nil
}

// List implements Store.
func (s *MemoryStore) List(ctx context.Context) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, 0, len(s.current))
	for _, e := range s.current {
		out = append(out, cloneEntry(e))
	}
	slices.SortFunc(out, func(a, b Entry) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// Versions implements Store.
func (s *MemoryStore) Versions(ctx context.Context, id string) ([]Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.versions[id]
	if len(vs) == 0 {
		return nil, fmt.Errorf("article %q: %w", id, ErrNotFound)
	}
	out := make([]Version, len(vs))
	for i, v := range vs {
		v.Entry = cloneEntry(v.Entry)
		out[len(vs)-1-i] = v
	}
	return out, nil
}

// Version implements Store.
func (s *MemoryStore) Version(ctx context.Context, id string, n int) (Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.versions[id]
	if n < 1 || n > len(vs) {
		return Version{}, fmt.Errorf("article %q version %d: %w", id, n, ErrNotFound)
	}
	v := vs[n-1]
	v.Entry = cloneEntry(v.Entry)
	return v, nil
}

// Changes implements Store.
func (s *MemoryStore) Changes(ctx context.Context, cursor string, wait time.Duration) ([]Change, string, error) {
	after := int64(0)
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n < 0 {
			return nil, cursor, fmt.Errorf("reading changes after %q: %w", cursor, ErrFeedGap)
		}
		after = n
	}
	var timer <-chan time.Time
	for {
		s.mu.Lock()
		if after > s.seq {
			s.mu.Unlock()
			return nil, cursor, fmt.Errorf("reading changes after %d (latest %d): %w", after, s.seq, ErrFeedGap)
		}
		first := s.seq - int64(len(s.feed)) + 1 // sequence number of feed[0]
		if after+1 < first {
			s.mu.Unlock()
			return nil, cursor, fmt.Errorf("reading changes after %d (oldest kept %d): %w", after, first, ErrFeedGap)
		}
		if after < s.seq {
			out := slices.Clone(s.feed[after+1-first:])
			s.mu.Unlock()
			return out, out[len(out)-1].Cursor, nil
		}
		wake := s.wake
		s.mu.Unlock()
		if wait <= 0 {
			return nil, cursor, nil
		}
		if timer == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-wake:
		case <-timer:
			return nil, cursor, nil
		case <-ctx.Done():
			return nil, cursor, ctx.Err()
		}
	}
}

// Head implements Store.
func (s *MemoryStore) Head(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq == 0 {
		return "", nil
	}
	return strconv.FormatInt(s.seq, 10), nil
}

// Seed implements Store.
func (s *MemoryStore) Seed(ctx context.Context, source string, es []Entry, by string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	done := s.seeded[source]
	if done == nil {
		done = make(map[string]bool)
		s.seeded[source] = done
	}
	var created []string
	for _, e := range es {
		if done[e.ID] {
			continue
		}
		done[e.ID] = true
		if _, ok := s.current[e.ID]; ok {
			continue // an editor made an article of this id first
		}
		if _, err := s.create(e, by, ActionImport); err != nil {
			return created, err
		}
		created = append(created, e.ID)
	}
	return created, nil
}

// AddUnanswered implements Store.
func (s *MemoryStore) AddUnanswered(ctx context.Context, u Unanswered) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextU++
	u.ID = strconv.FormatInt(s.nextU, 10)
	if u.At.IsZero() {
		u.At = s.now().UTC()
	}
	s.unanswered = append(s.unanswered, u)
	if len(s.unanswered) > s.maxUnanswered {
		s.unanswered = slices.Delete(s.unanswered, 0, len(s.unanswered)-s.maxUnanswered)
	}
	return nil
}

// Unanswered implements Store.
func (s *MemoryStore) Unanswered(ctx context.Context, limit int) ([]Unanswered, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Unanswered
	for i := len(s.unanswered) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, s.unanswered[i])
	}
	return out, nil
}

// DismissUnanswered implements Store.
func (s *MemoryStore) DismissUnanswered(ctx context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Removed, not marked: a mark for an id not given yet would hide that question.
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		drop[id] = true
	}
	s.unanswered = slices.DeleteFunc(s.unanswered, func(u Unanswered) bool { return drop[u.ID] })
	return nil
}

// Ping implements Store.
func (s *MemoryStore) Ping(ctx context.Context) error { return nil }

// cloneEntry copies e's slices, so that a caller cannot change what the store holds.
func cloneEntry(e Entry) Entry {
	e.Questions = slices.Clone(e.Questions)
	e.Tags = slices.Clone(e.Tags)
	return e
}
