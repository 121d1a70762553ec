package account

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

// countingStore counts the reads of sessions and users.
type countingStore struct {
	Store
	reads atomic.Int64
}

func (s *countingStore) Session(ctx context.Context, h string) (Session, error) {
	s.reads.Add(1)
	return s.Store.Session(ctx, h)
}

func (s *countingStore) User(ctx context.Context, name string) (User, error) {
	s.reads.Add(1)
	return s.Store.User(ctx, name)
}

// TestSessionCache: a session used again within seconds reads nothing from the store;
// a logout, a disable, a role change or the end of the moment is seen at once.
func TestSessionCache(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := timetest.NewClock(time.Now(), 0) // the Redis store dates its keys by the real time
			store := &countingStore{Store: e.open(t)}
			s, err := New(Config{Store: store, Groups: testGroups, PasswordCost: bcrypt.MinCost, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddUser(ctx, "xiaomei", "Kefu-2026-ok", RoleAgent, "presale"); err != nil {
				t.Fatal(err)
			}
			token, _, err := s.Login(ctx, "xiaomei", "Kefu-2026-ok")
			if err != nil {
				t.Fatal(err)
			}
			auth := func() (User, error, int64) {
				before := store.reads.Load()
				u, err := s.Authenticate(ctx, token)
				return u, err, store.reads.Load() - before
			}
			if _, err, n := auth(); err != nil || n != 2 {
				t.Fatalf("first use: %v, %d reads; want the session and the user read", err, n)
			}
			if u, err, n := auth(); err != nil || n != 0 || u.Name != "xiaomei" || u.PassHash != "" {
				t.Fatalf("second use: %+v, %v, %d reads; want xiaomei from memory, without her hash", u, err, n)
			}

			lead := RoleLead
			if _, _, err := s.UpdateUser(ctx, "xiaomei", Change{Role: &lead}); err != nil {
				t.Fatal(err)
			}
			if u, err, n := auth(); err != nil || u.Role != RoleLead || n != 2 {
				t.Fatalf("after a role change: %+v, %v, %d reads; want the new role, read again", u, err, n)
			}
			clock.Advance(sessionCacheTTL)
			if _, err, n := auth(); err != nil || n != 2 {
				t.Fatalf("after %v: %v, %d reads; want a read again", sessionCacheTTL, err, n)
			}
			yes := true
			if _, _, err := s.UpdateUser(ctx, "xiaomei", Change{Disabled: &yes}); err != nil {
				t.Fatal(err)
			}
			if _, err, _ := auth(); err != ErrBadCredentials {
				t.Fatalf("after disabling: %v; want ErrBadCredentials at once", err)
			}

			no := false
			if _, _, err := s.UpdateUser(ctx, "xiaomei", Change{Disabled: &no}); err != nil {
				t.Fatal(err)
			}
			token, _, err = s.Login(ctx, "xiaomei", "Kefu-2026-ok")
			if err != nil {
				t.Fatal(err)
			}
			auth()
			if err := s.Logout(ctx, token); err != nil {
				t.Fatal(err)
			}
			if _, err, _ := auth(); err != ErrBadCredentials {
				t.Fatalf("after logout: %v; want ErrBadCredentials at once", err)
			}
		})
	}
}

// TestSessionCacheNodes: two nodes on one Redis; a user disabled and a session ended on
// one are refused by the other, which had them in memory, without waiting for the
// memory to go stale (the clock does not move).
func TestSessionCacheNodes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := timetest.NewClock(time.Now(), 0) // the Redis store dates its keys by the real time
	srv := redistest.Start(t)
	prefix := srv.Prefix(t)
	node := func() *Service {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { rdb.Close() })
		store, err := NewRedisStore(RedisConfig{Client: rdb, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Store: store, Groups: testGroups, PasswordCost: bcrypt.MinCost, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := node(), node()
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	defer func() { cancel(); <-done }()

	for _, name := range []string{"xiaomei", "dawei"} {
		if _, err := a.AddUser(ctx, name, "Kefu-2026-ok", RoleAgent, "presale"); err != nil {
			t.Fatal(err)
		}
	}
	// b listens before the changes below: a change it hears of drops what it keeps.
	timetest.Poll(t, 5*time.Second, "node b listening", func() bool {
		n, _ := redis.NewClient(&redis.Options{Addr: srv.Addr()}).PubSubNumSub(ctx, prefix+"{u}:changed").Result()
		return n[prefix+"{u}:changed"] > 0
	})
	mei, _, err := a.Login(ctx, "xiaomei", "Kefu-2026-ok")
	if err != nil {
		t.Fatal(err)
	}
	wei, _, err := a.Login(ctx, "dawei", "Kefu-2026-ok")
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{mei, wei} {
		if _, err := b.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	if _, _, err := a.UpdateUser(ctx, "xiaomei", Change{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(ctx, wei); err != nil {
		t.Fatal(err)
	}
	timetest.Poll(t, 5*time.Second, "node b to refuse the disabled user and the ended session", func() bool {
		_, err1 := b.Authenticate(ctx, mei)
		_, err2 := b.Authenticate(ctx, wei)
		return err1 == ErrBadCredentials && err2 == ErrBadCredentials
	})
}
