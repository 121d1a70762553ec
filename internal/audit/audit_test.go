package audit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/redis/go-redis/v9"
)

// engines open a fresh store of each engine.
var engines = []struct {
	name string
	open func(t *testing.T) Store
}{
	{"bolt", func(t *testing.T) Store {
		s, err := NewBoltStore(bolttest.Open(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"redis", func(t *testing.T) Store {
		srv := redistest.Start(t)
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { rdb.Close() })
		s, err := NewRedisStore(rdb, srv.Prefix(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// TestLog writes entries and pages through them newest first, on both engines; the log
// keeps the newest MaxEntries; a bad cursor is refused.
func TestLog(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := timetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), 0)
			const max = 40
			l, err := New(Config{Store: e.open(t), MaxEntries: max, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			if es, err := l.List(ctx, 10, ""); err != nil || len(es) != 0 {
				t.Fatalf("List of an empty log = %v, %v", es, err)
			}
			r := httptest.NewRequest("POST", "/api/login", nil)
			r.RemoteAddr = "203.0.113.7:51000"
			r.Header.Set("X-Forwarded-For", "198.51.100.1")
			const n = 100
			for i := range n {
				clock.Advance(time.Second)
				l.Add(r, "admin", ActionUserChanged, fmt.Sprintf("u%03d", i), "role")
			}
			var all []Entry
			before := ""
			for page := 0; ; page++ {
				es, err := l.List(ctx, 15, before)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, es...)
				if len(es) < 15 || page > 10 {
					break
				}
				before = es[len(es)-1].ID
			}
			// Redis trims approximately: it keeps at least max.
			if len(all) < max || len(all) > n {
				t.Fatalf("paged through %d entries, want at least %d", len(all), max)
			}
			if e.name == "bolt" && len(all) != max {
				t.Errorf("bolt kept %d entries, want %d", len(all), max)
			}
			for i, en := range all {
				want := fmt.Sprintf("u%03d", n-1-i)
				if en.Target != want || en.Actor != "admin" || en.Action != ActionUserChanged || en.IP != "203.0.113.7" || en.ID == "" {
					t.Fatalf("entry %d = %+v, want target %s from 203.0.113.7", i, en, want)
				}
				if i > 0 && !en.At.Before(all[i-1].At) {
					t.Fatalf("entry %d at %v is not older than the one before (%v)", i, en.At, all[i-1].At)
				}
			}
			if _, err := l.List(ctx, 10, "nonsense"); !errors.Is(err, ErrBadCursor) {
				t.Errorf("List with a bad cursor = %v, want ErrBadCursor", err)
			}
		})
	}
}

// TestHandler is GET /api/audit: limits are checked, pages follow next.
func TestHandler(t *testing.T) {
	l, err := New(Config{Store: engines[0].open(t)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		l.Add(nil, "admin", ActionLogin, fmt.Sprint(i), "")
	}
	pass := func(h http.HandlerFunc) http.HandlerFunc { return h }
	h := l.Handler(pass)
	for _, q := range []string{"limit=0", "limit=501", "limit=x", "before=zz"} {
		w := httptest.NewRecorder()
		h(w, httptest.NewRequest("GET", "/api/audit?"+q, nil))
		if w.Code != http.StatusBadRequest {
			t.Errorf("GET /api/audit?%s = %d, want 400", q, w.Code)
		}
	}
	w := httptest.NewRecorder()
	h(w, httptest.NewRequest("GET", "/api/audit?limit=2", nil))
	if w.Code != 200 {
		t.Fatalf("GET /api/audit?limit=2 = %d %s", w.Code, w.Body)
	}
}

// TestClientIP: an entry records the address X-Forwarded-For names only when the request
// came through a trusted proxy.
func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct{ peer, forwarded, want string }{
		{"10.0.0.2:4000", "198.51.100.9", "198.51.100.9"},
		{"203.0.113.7:51000", "198.51.100.9", "203.0.113.7"},
		{"10.0.0.2:4000", "", "10.0.0.2"},
	} {
		r := httptest.NewRequest("POST", "/api/login", nil)
		r.RemoteAddr = tc.peer
		if tc.forwarded != "" {
			r.Header.Set("X-Forwarded-For", tc.forwarded)
		}
		if got := ClientIP(r, trusted); got != tc.want {
			t.Errorf("ClientIP from %s forwarding %q = %s, want %s", tc.peer, tc.forwarded, got, tc.want)
		}
	}
}
