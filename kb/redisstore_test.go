package kb

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/redis/go-redis/v9"
)

func newRedisTestStore(t *testing.T, srv *redistest.Server, l limits) *RedisStore {
	t.Helper()
	return newRedisTestStoreOpts(t, srv, l, &redis.Options{Addr: srv.Addr()})
}

func newRedisTestStoreOpts(t *testing.T, srv *redistest.Server, l limits, opt *redis.Options) *RedisStore {
	t.Helper()
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	s, err := NewRedisStore(RedisConfig{Client: rdb, Prefix: srv.Prefix(t), Now: newClock().Now, FeedLen: l.feedLen})
	if err != nil {
		t.Fatal(err)
	}
	if l.maxUnanswered > 0 {
		s.maxUnanswered = l.maxUnanswered
	}
	return s
}

// TestRedisStoreUnavailable shows that calls while Redis is down fail with an error
// wrapping ErrUnavailable, not ErrNotFound, and work again once it is back.
func TestRedisStoreUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	// One dial and no retries, so that each failing call fails fast.
	s := newRedisTestStoreOpts(t, srv, limits{}, &redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialerRetries: 1})
	ctx := context.Background()
	mustCreate(t, s, article("a", "alpha"))
	head, _ := s.Head(ctx)

	srv.Stop()
	checkUnavailable(t, "while Redis is down", s, head)

	srv.Restart()
	waitPing(t, s)
	if e := mustGet(t, s, "a"); e.Version != 1 {
		t.Errorf("Get after Redis is back = %+v", e)
	}
	if _, err := s.Create(ctx, article("b", "beta"), "x", ActionCreate); err != nil {
		t.Errorf("Create after Redis is back: %v", err)
	}
}

// waitPing polls s until it answers, for a client whose pool still remembers a dial
// error.
func waitPing(t *testing.T, s Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Ping(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("store not reachable after restart: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRedisStoreRetriedSave shows that a save go-redis sends again after losing its
// reply (the same call, the same token) is answered as saved, and stored once.
func TestRedisStoreRetriedSave(t *testing.T) {
	srv := redistest.Start(t)
	s := newRedisTestStore(t, srv, limits{})
	ctx := context.Background()
	e := stamp(article("a", "alpha"), 1, "x", time.Now().UTC())
	e.CreatedAt = e.UpdatedAt
	v := Version{Entry: e, Action: ActionCreate}
	for i := range 2 {
		if code, err := s.save(ctx, v, "token-1"); err != nil || code != saveOK {
			t.Fatalf("save #%d = %d, %v; want saved", i+1, code, err)
		}
	}
	if code, err := s.save(ctx, v, "token-2"); err != nil || code != saveStale {
		t.Errorf("save by another call = %d, %v; want stale", code, err)
	}
	e2 := stamp(e, 2, "y", time.Now().UTC())
	for i := range 2 {
		if code, err := s.save(ctx, Version{Entry: e2, Action: ActionUpdate}, "token-3"); err != nil || code != saveOK {
			t.Fatalf("update #%d = %d, %v; want saved", i+1, code, err)
		}
	}
	if vs := mustVersions(t, s, "a"); len(vs) != 2 {
		t.Errorf("%d versions, want 2", len(vs))
	}
	if cs, _ := changes(t, s, ""); len(cs) != 2 {
		t.Errorf("%d changes, want 2", len(cs))
	}
}
