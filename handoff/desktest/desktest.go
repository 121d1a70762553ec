// Package desktest opens a desk for the tests of the packages that use one (the
// widget, the console, the command): on a fresh embedded engine, or on a throwaway
// redis-server, with its Run delivering events until the test ends.
package desktest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/boltstore"
	"github.com/kefu-im/kefu/handoff/redisstore"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"
)

// Engines.
const (
	Bolt  = "bolt"
	Redis = "redis"
)

// Engines lists both, for tests that run on each.
var Engines = []string{Bolt, Redis}

// Options says how to open a desk; the zero value is a desk on a fresh embedded engine.
type Options struct {
	// Engine is Bolt (the default) or Redis.
	Engine string
	// DB is the embedded database to use instead of a fresh one.
	DB *bolt.DB
	// Server is the redis-server to use instead of a fresh one, and Prefix the key
	// prefix (default: the test's own): two desks on one server and prefix are two nodes.
	Server *redistest.Server
	Prefix string
	// Client, when set, makes the Redis client instead of a plain one on Server.
	Client func(addr string) *redis.Client
	// Desk, when set, changes the desk's configuration.
	Desk func(*handoff.DeskConfig)
	// Wrap, when set, wraps the conversations the desk uses (to inject faults).
	Wrap func(handoff.Conversations) handoff.Conversations
	// Now, when set, is the clock of the desk and of a Redis engine, which dates its
	// pending changes by it; nil means StepClock() for the desk and the real time for the
	// engine.
	Now func() time.Time
}

// Rig is a desk under test.
type Rig struct {
	Desk   *handoff.Desk
	Engine handoff.Engine
	Staff  *Staff
	// Server is the redis-server of a Redis desk.
	Server *redistest.Server
	// Client is the Redis client of a Redis desk.
	Client *redis.Client
}

// Open opens a desk; it stops when the test ends.
func Open(t testing.TB, o Options) *Rig {
	t.Helper()
	r := &Rig{Staff: NewStaff()}
	switch o.Engine {
	case "", Bolt:
		db := o.DB
		if db == nil {
			db = bolttest.Open(t)
		}
		s, err := boltstore.New(boltstore.Config{DB: db})
		if err != nil {
			t.Fatal(err)
		}
		r.Engine = s.Engine()
	case Redis:
		r.Server = o.Server
		if r.Server == nil {
			r.Server = redistest.Start(t)
		}
		prefix := o.Prefix
		if prefix == "" {
			prefix = r.Server.Prefix(t)
		}
		if o.Client != nil {
			r.Client = o.Client(r.Server.Addr())
		} else {
			r.Client = redis.NewClient(&redis.Options{Addr: r.Server.Addr()})
		}
		t.Cleanup(func() { r.Client.Close() })
		s, err := redisstore.New(redisstore.Config{Client: r.Client, Prefix: prefix, Now: o.Now})
		if err != nil {
			t.Fatal(err)
		}
		r.Engine = s.Engine()
	default:
		t.Fatalf("desktest: unknown engine %q", o.Engine)
	}
	engine := r.Engine
	if o.Wrap != nil {
		engine.Conversations = o.Wrap(engine.Conversations)
	}
	now := o.Now
	if now == nil {
		now = StepClock()
	}
	cfg := handoff.DeskConfig{
		Engine: engine, Staff: r.Staff, Now: now,
	}
	if o.Desk != nil {
		o.Desk(&cfg)
	}
	d, err := handoff.NewDesk(cfg)
	if err != nil {
		t.Fatalf("NewDesk: %v", err)
	}
	r.Desk = d
	Run(t, d, r.Engine.Bus)
	return r
}

// Run runs d until the test ends, and returns once events come through its bus.
func Run(t testing.TB, d *handoff.Desk, bus handoff.Bus) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	probe := d.Subscribe("")
	defer probe.Close()
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("the desk's Run did not return within 10s of its end")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := bus.Publish(ctx, handoff.Event{Type: handoff.EventResync}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-probe.C:
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no event came through the desk's Run within 10s")
		}
	}
}

// StepClock returns a clock that moves on a millisecond at every reading, so that every
// stored time, and so the queue order, is distinct at the engines' precision.
func StepClock() func() time.Time {
	base := time.Now().Truncate(time.Millisecond)
	var n atomic.Int64
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

// Staff is the desk's users in a test.
type Staff struct {
	mu    sync.Mutex // guards users
	users map[string]account.User
}

// NewStaff returns an empty Staff.
func NewStaff() *Staff { return &Staff{users: make(map[string]account.User)} }

// Add adds or replaces a user.
func (s *Staff) Add(u account.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.Name] = u
}

// User implements handoff.Staff.
func (s *Staff) User(_ context.Context, name string) (account.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return account.User{}, account.ErrNotFound
	}
	return u, nil
}
