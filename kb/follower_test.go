package kb_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
)

func entry(id, status string) kb.Entry {
	return kb.Entry{Article: kb.Article{ID: id, Title: "标题 " + id, Category: kb.CategoryPresale, Answer: "回答 " + id}, Status: status}
}

// observed records what a Follower told its Observe function.
type observed struct {
	mu    sync.Mutex // guards calls
	calls []string
}

func (o *observed) observe(all bool, es []kb.Entry, deleted []string) {
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID+"@"+fmt.Sprint(e.Version))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("all=%v %v deleted=%v", all, ids, deleted))
}

func (o *observed) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.calls)
}

// runFollower starts f.Run until the test ends.
func runFollower(t *testing.T, f *kb.Follower) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func indexed(x *kb.Index, id string) func() bool {
	return func() bool { _, err := x.Article(id); return err == nil }
}

// TestFollowerFollows builds the index from the store, then follows what is
// published, unpublished and deleted, and tells Observe what it read.
func TestFollowerFollows(t *testing.T) {
	ctx := context.Background()
	store := kbtest.Store(t)
	x := newIndex(t, kb.Config{})
	for _, e := range []kb.Entry{entry("one", kb.StatusPublished), entry("draft", kb.StatusDraft)} {
		if _, err := store.Create(ctx, e, "t", kb.ActionCreate); err != nil {
			t.Fatal(err)
		}
	}
	var o observed
	f, err := kb.NewFollower(kb.FollowerConfig{Store: store, Index: x, Poll: 50 * time.Millisecond, Observe: o.observe})
	if err != nil {
		t.Fatal(err)
	}
	if f.Ready() || f.Stale() {
		t.Fatalf("before Sync: Ready %v, Stale %v; want neither", f.Ready(), f.Stale())
	}
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !f.Ready() || x.Len() != 1 || !indexed(x, "one")() {
		t.Fatalf("after Sync: Ready %v, %d articles; want ready with the published one", f.Ready(), x.Len())
	}
	runFollower(t, f)

	if _, err := store.Create(ctx, entry("two", kb.StatusPublished), "t", kb.ActionCreate); err != nil {
		t.Fatal(err)
	}
	timetest.Poll(t, 5*time.Second, "two indexed", indexed(x, "two"))
	if _, err := store.Update(ctx, entry("one", kb.StatusDraft), 1, "t", kb.ActionUpdate, 0); err != nil {
		t.Fatal(err)
	}
	timetest.Poll(t, 5*time.Second, "one unpublished", func() bool { return !indexed(x, "one")() })
	if err := store.Delete(ctx, "two", 1, "t"); err != nil {
		t.Fatal(err)
	}
	timetest.Poll(t, 5*time.Second, "two deleted", func() bool { return x.Len() == 0 })
	want := []string{
		"all=true [draft@1 one@1] deleted=[]",
		"all=false [two@1] deleted=[]",
		"all=false [one@2] deleted=[]",
		"all=false [] deleted=[two]",
	}
	timetest.Poll(t, 5*time.Second, fmt.Sprintf("observed %q", want), func() bool { return slices.Equal(o.get(), want) })
}

// TestFollowerRunBuilds shows that Run builds the index when Sync was not called.
func TestFollowerRunBuilds(t *testing.T) {
	store := kbtest.Store(t)
	if _, err := store.Create(context.Background(), entry("one", kb.StatusPublished), "t", kb.ActionCreate); err != nil {
		t.Fatal(err)
	}
	x := newIndex(t, kb.Config{})
	f, err := kb.NewFollower(kb.FollowerConfig{Store: store, Index: x})
	if err != nil {
		t.Fatal(err)
	}
	runFollower(t, f)
	timetest.Poll(t, 5*time.Second, "ready with one article", func() bool { return f.Ready() && indexed(x, "one")() })
}

// gapStore is a store whose feed has lost every position but the newest.
type gapStore struct{ *kb.BoltStore }

func (g gapStore) Changes(ctx context.Context, cursor string, wait time.Duration) ([]kb.Change, string, error) {
	head, _ := g.Head(ctx)
	if cursor != head {
		return nil, cursor, kb.ErrFeedGap
	}
	return g.BoltStore.Changes(ctx, cursor, wait)
}

// TestFollowerFeedGap checks that a follower whose position the feed no longer holds
// rebuilds its index instead of serving a stale one.
func TestFollowerFeedGap(t *testing.T) {
	ctx := context.Background()
	store := kbtest.Store(t)
	if _, err := store.Create(ctx, entry("one", kb.StatusPublished), "t", kb.ActionCreate); err != nil {
		t.Fatal(err)
	}
	x := newIndex(t, kb.Config{})
	f, err := kb.NewFollower(kb.FollowerConfig{Store: gapStore{store}, Index: x, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// Saved while the feed "loses" the position: only a rebuild sees it.
	if _, err := store.Create(ctx, entry("two", kb.StatusPublished), "t", kb.ActionCreate); err != nil {
		t.Fatal(err)
	}
	runFollower(t, f)
	timetest.Poll(t, 5*time.Second, "two indexed after the gap", func() bool { return x.Len() == 2 })
}

// downFeedStore is a store whose change feed fails while down is set, as Redis's does
// when the server is gone.
type downFeedStore struct {
	*kb.BoltStore
	down atomic.Bool
}

func (d *downFeedStore) Changes(ctx context.Context, cursor string, wait time.Duration) ([]kb.Change, string, error) {
	if d.down.Load() {
		return nil, cursor, fmt.Errorf("reading changes: %w: %w", kb.ErrUnavailable, errors.New("connection refused"))
	}
	return d.BoltStore.Changes(ctx, cursor, wait)
}

// TestFollowerStale cuts the change feed: the follower says it is stale, and catches
// up with what was saved meanwhile once the feed is back.
func TestFollowerStale(t *testing.T) {
	ctx := context.Background()
	store := &downFeedStore{BoltStore: kbtest.Store(t)}
	x := newIndex(t, kb.Config{})
	f, err := kb.NewFollower(kb.FollowerConfig{Store: store, Index: x, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runFollower(t, f)
	timetest.Poll(t, 5*time.Second, "ready", f.Ready)

	store.down.Store(true)
	timetest.Poll(t, 5*time.Second, "stale", func() bool { return f.Stale() && !f.Ready() })
	if _, err := store.Create(ctx, entry("meanwhile", kb.StatusPublished), "t", kb.ActionCreate); err != nil {
		t.Fatal(err)
	}
	if indexed(x, "meanwhile")() {
		t.Fatal("the index has an article saved while its feed is down")
	}
	store.down.Store(false)
	timetest.Poll(t, 5*time.Second, "ready again and caught up", func() bool { return f.Ready() && !f.Stale() && indexed(x, "meanwhile")() })
}
