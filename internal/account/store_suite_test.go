package account

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// engine makes fresh, empty stores of one kind for a test.
type engine struct {
	name string
	open func(t *testing.T) Store
}

// engines are both Store engines: every store test and every service test runs on each.
var engines = []engine{
	{"bolt", func(t *testing.T) Store {
		s, err := NewBoltStore(BoltConfig{DB: bolttest.Open(t)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"redis", func(t *testing.T) Store {
		srv := redistest.Start(t)
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { rdb.Close() })
		s, err := NewRedisStore(RedisConfig{Client: rdb, Prefix: srv.Prefix(t)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// TestStore is the contract of a Store, run on both engines.
func TestStore(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			s := e.open(t)
			t.Run("users", func(t *testing.T) { testStoreUsers(t, s) })
			t.Run("sessions", func(t *testing.T) { testStoreSessions(t, s) })
			t.Run("tokens", func(t *testing.T) { testStoreTokens(t, s) })
		})
	}
}

func testStoreUsers(t *testing.T, s Store) {
	ctx := context.Background()
	if us, err := s.Users(ctx); err != nil || len(us) != 0 {
		t.Fatalf("Users of an empty store = %+v, %v", us, err)
	}
	alice := User{Name: "alice", Role: RoleAgent, Group: "presale", PassHash: "h"}
	if err := s.PutUser(ctx, alice, true); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUser(ctx, User{Name: "alice", Role: RoleAdmin}, true); !errors.Is(err, ErrUserExists) {
		t.Errorf("creating alice again: error = %v, want ErrUserExists", err)
	}
	if got, err := s.User(ctx, "alice"); err != nil || got != alice {
		t.Errorf("User(alice) = %+v, %v; want %+v", got, err, alice)
	}
	if _, err := s.User(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(bob) error = %v, want ErrNotFound", err)
	}
	alice.MaxChats = 3
	bob := User{Name: "bob", Role: RoleLead, Group: "aftersale"}
	for _, u := range []User{alice, bob} {
		if err := s.PutUser(ctx, u, false); err != nil {
			t.Fatal(err)
		}
	}
	us, err := s.Users(ctx)
	slices.SortFunc(us, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	if err != nil || !slices.Equal(us, []User{alice, bob}) {
		t.Errorf("Users = %+v, %v; want alice (limit 3) and bob", us, err)
	}
}

func testStoreSessions(t *testing.T, s Store) {
	ctx := context.Background()
	sess := Session{User: "alice", Expires: time.Now().Add(time.Hour).Truncate(time.Millisecond)}
	if err := s.PutSession(ctx, "h1", sess); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Session(ctx, "h1"); err != nil || got.User != "alice" || !got.Expires.Equal(sess.Expires) {
		t.Errorf("Session(h1) = %+v, %v; want %+v", got, err, sess)
	}
	if _, err := s.Session(ctx, "h2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session(unknown) error = %v, want ErrNotFound", err)
	}
	for range 2 {
		if err := s.DeleteSession(ctx, "h1"); err != nil {
			t.Errorf("DeleteSession: %v", err)
		}
	}
	if _, err := s.Session(ctx, "h1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted Session error = %v, want ErrNotFound", err)
	}
}

func testStoreTokens(t *testing.T, s Store) {
	ctx := context.Background()
	if ts, err := s.Tokens(ctx); err != nil || len(ts) != 0 {
		t.Fatalf("Tokens of an empty store = %+v, %v", ts, err)
	}
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	a := APIToken{ID: "00000000000000aa", Name: "sync", Role: RoleEditor, Hash: "h1", CreatedBy: "admin", CreatedAt: at.Add(time.Second)}
	b := APIToken{ID: "00000000000000bb", Name: "erp", Role: RoleEditor, Hash: "h2", CreatedBy: "admin", CreatedAt: at}
	for _, tok := range []APIToken{a, b} {
		if err := s.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Token(ctx, a.ID); err != nil || got != a {
		t.Errorf("Token = %+v, %v; want %+v", got, err, a)
	}
	if _, err := s.Token(ctx, "00000000000000cc"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Token(unknown) error = %v, want ErrNotFound", err)
	}
	ts, err := s.Tokens(ctx)
	slices.SortFunc(ts, func(x, y APIToken) int { return strings.Compare(x.ID, y.ID) })
	if err != nil || !slices.Equal(ts, []APIToken{a, b}) {
		t.Errorf("Tokens = %+v, %v; want both", ts, err)
	}
	if err := s.DeleteToken(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted Token error = %v, want ErrNotFound", err)
	}
	if err := s.DeleteToken(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteToken twice: error = %v, want ErrNotFound", err)
	}
	if ts, _ := s.Tokens(ctx); len(ts) != 1 || ts[0] != b {
		t.Errorf("Tokens after a deletion = %+v", ts)
	}
}

// TestRedisKeys: the Redis engine reads what Kefu stored before this package existed,
// under the same keys.
func TestRedisKeys(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	prefix := srv.Prefix(t)
	s, err := NewRedisStore(RedisConfig{Client: rdb, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	rdb.HSet(ctx, prefix+"{u}:users", "alice", `{"name":"alice","role":"agent","group":"presale","max_chats":4,"pass_hash":"$2a$10$x"}`)
	rdb.Set(ctx, prefix+"{s}:abc", `{"user":"alice","expires":"2030-01-02T03:04:05Z"}`, time.Hour)
	rdb.HSet(ctx, prefix+"{u}:tokens", "00000000000000aa", `{"id":"00000000000000aa","name":"sync","role":"editor","hash":"h","created_by":"admin","created_at":"2026-05-01T10:00:00Z"}`)
	if u, err := s.User(ctx, "alice"); err != nil || u != (User{Name: "alice", Role: RoleAgent, Group: "presale", MaxChats: 4, PassHash: "$2a$10$x"}) {
		t.Errorf("User(alice) = %+v, %v", u, err)
	}
	if sess, err := s.Session(ctx, "abc"); err != nil || sess.User != "alice" || sess.Expires.Year() != 2030 {
		t.Errorf("Session(abc) = %+v, %v", sess, err)
	}
	if tok, err := s.Token(ctx, "00000000000000aa"); err != nil || tok.Name != "sync" || tok.Role != RoleEditor || tok.Hash != "h" {
		t.Errorf("Token = %+v, %v", tok, err)
	}
	// A session's key expires with it.
	if err := s.PutSession(ctx, "def", Session{User: "alice", Expires: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, prefix+"{s}:def").Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("the session key's time to live is %v, want at most a minute", ttl)
	}
}

// TestBoltExpiredSessions: adding a session removes those that have expired.
func TestBoltExpiredSessions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	s, err := NewBoltStore(BoltConfig{DB: bolttest.Open(t), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s.PutSession(ctx, "old", Session{User: "alice", Expires: now.Add(-time.Second)})
	s.PutSession(ctx, "live", Session{User: "bob", Expires: now.Add(time.Hour)})
	if _, err := s.Session(ctx, "old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the expired session is still stored: %v", err)
	}
	if _, err := s.Session(ctx, "live"); err != nil {
		t.Errorf("the live session: %v", err)
	}
}
