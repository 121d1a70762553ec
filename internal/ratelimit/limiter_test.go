package ratelimit

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/internal/timetest"
)

var start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// engines runs test on the memory engine and on a real Redis.
func engines(t *testing.T, test func(t *testing.T, l *Limiter, clock *timetest.Clock)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		clock := timetest.NewClock(start, 0)
		test(t, New(Config{Now: clock.Now}), clock)
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t)
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { rdb.Close() })
		clock := timetest.NewClock(start, 0)
		test(t, New(Config{Redis: rdb, Prefix: srv.Prefix(t), Now: clock.Now}), clock)
	})
}

// takes counts how many of n requests Allow lets through.
func takes(t *testing.T, l *Limiter, r Rule, subject string, n int) int {
	t.Helper()
	got := 0
	for range n {
		ok, _, err := l.Allow(context.Background(), r, subject)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got++
		}
	}
	return got
}

func TestAllow(t *testing.T) {
	engines(t, func(t *testing.T, l *Limiter, clock *timetest.Clock) {
		ctx := context.Background()
		r := Per("handoff", 10, 10*time.Minute) // one more a minute
		if got := takes(t, l, r, "ip:192.0.2.1", 60); got != 10 {
			t.Fatalf("60 at once: %d allowed, want the burst of 10", got)
		}
		ok, wait, err := l.Allow(ctx, r, "ip:192.0.2.1")
		if ok || err != nil || wait != time.Minute {
			t.Fatalf("over the limit: ok %v, wait %v, err %v; want refused for 1m", ok, wait, err)
		}
		if got := takes(t, l, r, "ip:192.0.2.2", 1); got != 1 {
			t.Fatal("another subject is limited by the first one's requests")
		}
		if got := takes(t, l, Per("upload", 10, time.Minute), "ip:192.0.2.1", 1); got != 1 {
			t.Fatal("another rule is limited by the first one's requests")
		}
		clock.Advance(59 * time.Second)
		if ok, wait, _ := l.Allow(ctx, r, "ip:192.0.2.1"); ok || wait != time.Second {
			t.Fatalf("after 59s: ok %v wait %v, want refused for 1s", ok, wait)
		}
		clock.Advance(time.Second)
		if ok, _, _ := l.Check(ctx, r, "ip:192.0.2.1"); !ok {
			t.Fatal("Check after a minute: refused")
		}
		if got := takes(t, l, r, "ip:192.0.2.1", 3); got != 1 {
			t.Fatalf("after a minute: %d allowed, want 1 (Check takes none)", got)
		}
		clock.Advance(time.Hour)
		if got := takes(t, l, r, "ip:192.0.2.1", 20); got != 10 {
			t.Fatalf("after an hour: %d allowed, want the whole burst of 10", got)
		}
		if err := l.Reset(ctx, r, "ip:192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if got := takes(t, l, r, "ip:192.0.2.1", 20); got != 10 {
			t.Fatalf("after Reset: %d allowed, want 10", got)
		}
	})
}

func TestOff(t *testing.T) {
	l := New(Config{Off: true})
	if got := takes(t, l, Per("message", 1, time.Hour), "c", 100); got != 100 {
		t.Fatalf("limiter off: %d of 100 allowed", got)
	}
	l = New(Config{})
	if got := takes(t, l, Rule{Name: "message"}, "c", 100); got != 100 {
		t.Fatalf("rule off: %d of 100 allowed", got)
	}
	var none *Limiter
	if got := takes(t, none, Per("message", 1, time.Hour), "c", 3); got != 3 {
		t.Fatalf("nil limiter: %d of 3 allowed", got)
	}
}

// TestRedisDownLetsThrough: a limit that cannot be checked lets the request through.
func TestRedisDownLetsThrough(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	l := New(Config{Redis: rdb, Prefix: srv.Prefix(t), Log: zerolog.Nop()})
	r := Per("ask", 1, time.Hour)
	if got := takes(t, l, r, "ip:192.0.2.1", 2); got != 1 {
		t.Fatalf("Redis up: %d of 2 allowed, want 1", got)
	}
	srv.Stop()
	ok, _, err := l.Allow(context.Background(), r, "ip:192.0.2.1")
	if !ok || err == nil {
		t.Fatalf("Redis down: ok %v err %v, want let through with the error", ok, err)
	}
}

// TestMemoryBounded: the memory engine remembers at most MaxKeys subjects.
func TestMemoryBounded(t *testing.T) {
	clock := timetest.NewClock(start, 0)
	l := New(Config{Now: clock.Now, MaxKeys: 100})
	r := Per("conversation", 3, time.Hour)
	for i := range 1000 {
		takes(t, l, r, fmt.Sprint("ip:", i), 1)
	}
	if n := len(l.tat); n > 100 {
		t.Fatalf("%d subjects kept, want at most 100", n)
	}
	if got := takes(t, l, r, "ip:999", 5); got != 2 {
		t.Fatalf("the newest subject: %d more allowed, want 2 (its limit kept)", got)
	}
	clock.Advance(2 * time.Hour)
	takes(t, l, r, "ip:new", 1)
	if n := len(l.tat); n != 1 {
		t.Fatalf("after the limits passed: %d subjects kept, want 1 (the expired ones go first)", n)
	}
}

func TestRedisKeyExpires(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	prefix := srv.Prefix(t)
	l := New(Config{Redis: rdb, Prefix: prefix})
	takes(t, l, Per("leave", 5, 10*time.Minute), "ip:192.0.2.1", 2)
	ttl, err := rdb.PTTL(context.Background(), l.key(Per("leave", 5, 10*time.Minute), "ip:192.0.2.1")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > 4*time.Minute {
		t.Fatalf("key's time to live %v, want (0, 4m]: until two requests' refill", ttl)
	}
	keys, _ := rdb.Keys(context.Background(), prefix+"*").Result()
	if len(keys) != 1 || strings.Contains(keys[0], "192.0.2.1") {
		t.Errorf("keys %q, want one that does not name the address", keys)
	}
}
