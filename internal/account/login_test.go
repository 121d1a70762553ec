package account

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	"github.com/kefu-im/kefu/internal/ratelimit"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/internal/webtest"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

// signInNode is one server of the sign-in tests: its Service, API and audit log.
type signInNode struct {
	s   *Service
	api webtest.Client
	log *audit.Log
}

// signInCluster starts nodes that share their users, failed sign-ins and audit log: on
// one embedded database (one node, the limits in its memory), or on one Redis (the
// limits in Redis, each node with a limiter of its own). The clock is the limits'.
func signInCluster(t *testing.T, engine string, nodes int, clock *timetest.Clock) []signInNode {
	t.Helper()
	var (
		store  Store
		log    *audit.Log
		newLim func() *ratelimit.Limiter
		err    error
	)
	switch engine {
	case "bolt":
		db := bolttest.Open(t)
		if store, err = NewBoltStore(BoltConfig{DB: db}); err != nil {
			t.Fatal(err)
		}
		as, err := audit.NewBoltStore(db)
		if err != nil {
			t.Fatal(err)
		}
		log, _ = audit.New(audit.Config{Store: as})
		lim := ratelimit.New(ratelimit.Config{Now: clock.Now})
		newLim = func() *ratelimit.Limiter { return lim } // one process, one memory
	case "redis":
		srv := redistest.Start(t)
		prefix := srv.Prefix(t)
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { rdb.Close() })
		if store, err = NewRedisStore(RedisConfig{Client: rdb, Prefix: prefix}); err != nil {
			t.Fatal(err)
		}
		as, err := audit.NewRedisStore(rdb, prefix)
		if err != nil {
			t.Fatal(err)
		}
		log, _ = audit.New(audit.Config{Store: as})
		newLim = func() *ratelimit.Limiter {
			c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
			t.Cleanup(func() { c.Close() })
			return ratelimit.New(ratelimit.Config{Redis: c, Prefix: prefix, Now: clock.Now})
		}
	}
	out := make([]signInNode, nodes)
	for i := range out {
		s, err := New(Config{Store: store, Groups: testGroups, PasswordCost: bcrypt.MinCost, Audit: log, Limiter: newLim()})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		s.API().Routes(mux)
		mux.HandleFunc("GET /agents", s.Require(RoleAgent)(func(w http.ResponseWriter, r *http.Request) {
			web.WriteJSON(w, http.StatusOK, map[string]string{"user": UserFrom(r).Name})
		}))
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		out[i] = signInNode{s: s, api: webtest.Client{URL: srv.URL, HTTP: srv.Client()}, log: log}
	}
	return out
}

// signIn posts the name and password to node and returns the status, the body and
// Retry-After.
func (n signInNode) signIn(t *testing.T, name, password string) (int, []byte, string) {
	t.Helper()
	res, body := n.api.Send(t, n.api.NewRequest(t, "POST", "/api/login", map[string]string{"username": name, "password": password}))
	return res.StatusCode, body, res.Header.Get("Retry-After")
}

// countActions counts the audit log's entries of action.
func countActions(t *testing.T, log *audit.Log, action string) int {
	t.Helper()
	es, err := log.List(context.Background(), audit.MaxLimit, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == action {
			n++
		}
	}
	return n
}

// TestSignInLockout: 20 wrong passwords for one account, sent to two nodes by turns on
// Redis or to the one embedded node, are followed by 429 with Retry-After even with the
// right password; the lock is logged once in the audit log; a while later one try goes
// through, and the right password resets the account's count.
func TestSignInLockout(t *testing.T) {
	for _, engine := range []string{"bolt", "redis"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			clock := timetest.NewClock(time.Now(), 0)
			nodes := signInCluster(t, engine, map[string]int{"bolt": 1, "redis": 2}[engine], clock)
			if _, err := nodes[0].s.AddUser(context.Background(), "alice", testPassword, RoleAgent, "presale"); err != nil {
				t.Fatal(err)
			}
			var refused int
			for i := range 20 {
				status, body, after := nodes[i%len(nodes)].signIn(t, "alice", "wrong-guess-"+strconv.Itoa(i))
				switch status {
				case http.StatusUnauthorized:
				case http.StatusTooManyRequests:
					refused++
					if secs, err := strconv.Atoi(after); err != nil || secs < 1 {
						t.Errorf("429 with Retry-After %q", after)
					}
					webtest.WantError(t, "a locked sign-in", status, body, http.StatusTooManyRequests, web.CodeTooManyAttempts)
				default:
					t.Fatalf("wrong password %d: %d %s", i, status, body)
				}
			}
			if refused != 10 {
				t.Errorf("%d of 20 wrong passwords refused with 429, want the 10 past the first 10", refused)
			}
			for _, n := range nodes {
				if status, body, after := n.signIn(t, "alice", testPassword); status != http.StatusTooManyRequests || after == "" {
					t.Errorf("the right password after 20 wrong ones: %d %s (Retry-After %q), want 429", status, body, after)
				}
				if status, _, _ := n.signIn(t, "ALICE", testPassword); status != http.StatusTooManyRequests {
					t.Errorf("the right password as ALICE: %d, want 429: the name is the account, whatever its case", status)
				}
			}
			if got := countActions(t, nodes[0].log, audit.ActionLoginLocked); got != 1 {
				t.Errorf("%d login_locked entries in the audit log, want 1", got)
			}
			if got := countActions(t, nodes[0].log, audit.ActionLoginFailed); got != 10 {
				t.Errorf("%d login_failed entries, want the 10 passwords that were checked", got)
			}

			// 90 s later one more try is allowed: the right one signs in and resets the
			// count, so a typo afterwards is not locked.
			clock.Advance(90 * time.Second)
			if status, body, _ := nodes[len(nodes)-1].signIn(t, "alice", testPassword); status != http.StatusOK {
				t.Fatalf("the right password 90 s later: %d %s", status, body)
			}
			if status, _, _ := nodes[0].signIn(t, "alice", "one-typo-here"); status != http.StatusUnauthorized {
				t.Errorf("a typo after signing in: %d, want 401", status)
			}
		})
	}
}

// TestSignInLockoutByAddress: 30 wrong passwords from one address, each for another
// name, lock the address: a 31st name is refused before its password is looked at.
func TestSignInLockoutByAddress(t *testing.T) {
	clock := timetest.NewClock(time.Now(), 0)
	n := signInCluster(t, "bolt", 1, clock)[0]
	if _, err := n.s.AddUser(context.Background(), "bob", testPassword, RoleAgent, "presale"); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if status, body, _ := n.signIn(t, "guess"+strconv.Itoa(i), "wrong-guess"); status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s, want 401", i, status, body)
		}
	}
	if status, body, after := n.signIn(t, "bob", testPassword); status != http.StatusTooManyRequests || after == "" {
		t.Errorf("bob's right password from the locked address: %d %s, want 429", status, body)
	}
}

// TestMustChangePassword: the first admin signs in with the printed password and may do
// nothing but read who they are and change it.
func TestMustChangePassword(t *testing.T) {
	n := signInCluster(t, "bolt", 1, timetest.NewClock(time.Now(), 0))[0]
	printed, err := n.s.EnsureAdmin(context.Background())
	if err != nil || printed == "" {
		t.Fatalf("EnsureAdmin = %q, %v", printed, err)
	}
	status, body, _ := n.signIn(t, "admin", printed)
	webtest.WantStatus(t, "the admin's first sign-in", status, body, http.StatusOK)
	var in struct {
		Token string
		User  struct {
			MustChangePassword bool `json:"must_change_password"`
		}
	}
	webtest.Decode(t, body, &in)
	if !in.User.MustChangePassword {
		t.Errorf("the first sign-in's user = %s, want must_change_password", body)
	}
	status, body = n.api.Call(t, "GET", "/agents", in.Token, nil)
	webtest.WantError(t, "another request before the change", status, body, http.StatusForbidden, web.CodeMustChangePassword)
	status, body = n.api.Call(t, "GET", "/api/users", in.Token, nil)
	webtest.WantError(t, "the users before the change", status, body, http.StatusForbidden, web.CodeMustChangePassword)
	status, body = n.api.Call(t, "GET", "/api/me", in.Token, nil)
	webtest.WantStatus(t, "GET /api/me before the change", status, body, http.StatusOK)
	status, body = n.api.Call(t, "POST", "/api/me/password", in.Token, map[string]string{"current": printed, "password": printed})
	webtest.WantError(t, "keeping the printed password", status, body, http.StatusBadRequest, web.CodeBadRequest)
	status, body = n.api.Call(t, "POST", "/api/me/password", in.Token, map[string]string{"current": printed, "password": "river-stone-lamp"})
	webtest.WantStatus(t, "the change", status, body, http.StatusOK)
	var out struct{ Token string }
	webtest.Decode(t, body, &out)
	status, body = n.api.Call(t, "GET", "/api/users", out.Token, nil)
	webtest.WantStatus(t, "the users after the change", status, body, http.StatusOK)
	if u, _ := n.s.User(context.Background(), "admin"); u.MustChangePassword {
		t.Error("the admin must still change their password after changing it")
	}
}

// TestEnsureAdminConcurrent: nodes starting together on an empty store create one admin;
// one of them has its password, the others none, and none fails.
func TestEnsureAdminConcurrent(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			store := e.open(t)
			const nodes = 4
			passwords := make([]string, nodes)
			errs := make([]error, nodes)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range nodes {
				s, err := New(Config{Store: store, Groups: testGroups, PasswordCost: bcrypt.MinCost})
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					<-start
					passwords[i], errs[i] = s.EnsureAdmin(context.Background())
				})
			}
			close(start)
			wg.Wait()
			var printed []string
			for i := range nodes {
				if errs[i] != nil {
					t.Errorf("node %d: %v", i, errs[i])
				}
				if passwords[i] != "" {
					printed = append(printed, passwords[i])
				}
			}
			if len(printed) != 1 {
				t.Fatalf("%d nodes printed a password, want 1", len(printed))
			}
			s, _ := New(Config{Store: store, Groups: testGroups, PasswordCost: bcrypt.MinCost})
			if _, _, err := s.Login(context.Background(), "admin", printed[0]); err != nil {
				t.Errorf("the printed password: %v", err)
			}
			us, _ := s.Users(context.Background())
			if len(us) != 1 || us[0].Role != RoleAdmin {
				t.Errorf("users = %+v, want one admin", us)
			}
		})
	}
}

// TestEnsureAdminNameTaken: a user named admin who is no admin, and no admin: EnsureAdmin
// says so rather than leave the desk without one.
func TestEnsureAdminNameTaken(t *testing.T) {
	s := newTestService(t, engines[0], nil)
	if _, err := s.AddUser(context.Background(), "admin", testPassword, RoleAgent, "presale"); err != nil {
		t.Fatal(err)
	}
	if pw, err := s.EnsureAdmin(context.Background()); err == nil {
		t.Errorf("EnsureAdmin with an agent named admin = %q, nil; want an error", pw)
	}
}

// TestLogout: with the cookie, sign-out must come from the page's origin; it ends the
// session's event streams on this node at once.
func TestLogout(t *testing.T) {
	n := signInCluster(t, "bolt", 1, timetest.NewClock(time.Now(), 0))[0]
	ctx := context.Background()
	if _, err := n.s.AddUser(ctx, "alice", testPassword, RoleAgent, "presale"); err != nil {
		t.Fatal(err)
	}
	token := login(t, n.s, "alice", testPassword)
	logout := func(origin string) int {
		req := n.api.NewRequest(t, "POST", "/api/logout", nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: token})
		req.Header.Set("Origin", origin)
		res, _ := n.api.Send(t, req)
		return res.StatusCode
	}
	if got := logout("https://evil.example"); got != http.StatusForbidden {
		t.Errorf("sign-out with the cookie from another origin: %d, want 403", got)
	}
	if _, err := n.s.Authenticate(ctx, token); err != nil {
		t.Fatalf("the session after a refused cross-origin sign-out: %v", err)
	}
	req := httptest.NewRequest("GET", "/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	ended, stop := n.s.Ends(req)
	defer stop()
	if got := logout(n.api.URL); got != http.StatusOK {
		t.Fatalf("sign-out from the page's origin: %d", got)
	}
	select {
	case <-ended:
	default:
		t.Error("the session's event stream was not told of the sign-out")
	}
	if _, err := n.s.Authenticate(ctx, token); err == nil {
		t.Error("the session works after sign-out")
	}
}
