package account

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/timetest"
	"golang.org/x/crypto/bcrypt"
)

// testGroups are the skill groups of the tests' services.
var testGroups = []string{"presale", "aftersale"}

// newTestService returns a Service on a fresh store of e, with fast password hashing.
func newTestService(t *testing.T, e engine, clock *timetest.Clock) *Service {
	t.Helper()
	cfg := Config{Store: e.open(t), Groups: testGroups, PasswordCost: bcrypt.MinCost}
	if clock != nil {
		cfg.Now = clock.Now
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNew(t *testing.T) {
	if _, err := New(Config{Groups: testGroups}); err == nil {
		t.Error("New without a store succeeded")
	}
	if _, err := New(Config{Store: engines[0].open(t)}); err == nil {
		t.Error("New without groups succeeded")
	}
}

func TestService(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			t.Run("users", func(t *testing.T) { testUsers(t, newTestService(t, e, nil)) })
			t.Run("sessions", func(t *testing.T) {
				clock := timetest.NewClock(time.Now(), 0)
				testSessions(t, newTestService(t, e, clock), clock)
			})
			t.Run("tokens", func(t *testing.T) { testTokens(t, newTestService(t, e, nil)) })
		})
	}
}

func testUsers(t *testing.T, s *Service) {
	ctx := context.Background()
	pw, err := s.EnsureAdmin(ctx)
	if err != nil || len(pw) != 16 {
		t.Fatalf("EnsureAdmin on an empty store = %q, %v; want a password", pw, err)
	}
	if again, err := s.EnsureAdmin(ctx); err != nil || again != "" {
		t.Errorf("EnsureAdmin with an admin = %q, %v; want none", again, err)
	}
	if admin, err := s.User(ctx, "admin"); err != nil || admin.Role != RoleAdmin || admin.Group != "presale" || admin.PassHash != "" {
		t.Errorf("the admin is %+v, %v; want an admin of the first group, without the hash", admin, err)
	}
	u, err := s.AddUser(ctx, "lena", "lena-pass-1", RoleLead, "aftersale")
	if err != nil || u != (User{Name: "lena", Role: RoleLead, Group: "aftersale"}) {
		t.Fatalf("AddUser(lena) = %+v, %v", u, err)
	}
	if _, err := s.AddUser(ctx, "lena", "lena-pass-1", RoleAgent, "presale"); !errors.Is(err, ErrUserExists) {
		t.Errorf("AddUser(lena) again: error = %v, want ErrUserExists", err)
	}
	for _, tc := range []struct {
		name, user, password string
		role                 Role
		group, says          string
	}{
		{"empty name", "", "dave-pass-1", RoleAgent, "presale", "用户名"},
		{"name with a colon", "token:x", "dave-pass-1", RoleAgent, "presale", "用户名"},
		{"short password", "dave", "short", RoleAgent, "presale", "密码至少 8 个字符"},
		{"long password", "dave", strings.Repeat("a", 73), RoleAgent, "presale", "密码过长"},
		{"unknown role", "dave", "dave-pass-1", "boss", "presale", `未知角色 "boss"`},
		{"unknown group", "dave", "dave-pass-1", RoleAgent, "vip", `未知技能组 "vip"`},
	} {
		_, err := s.AddUser(ctx, tc.user, tc.password, tc.role, tc.group)
		var rf *Refusal
		if !errors.Is(err, ErrBadUser) || !errors.As(err, &rf) || !strings.Contains(rf.Error(), tc.says) || !strings.HasPrefix(rf.Error(), "用户信息无效: ") {
			t.Errorf("%s: AddUser error = %v, want a Refusal saying %q", tc.name, err, tc.says)
		}
	}
	if u, err := s.SetMaxChats(ctx, "lena", 3); err != nil || u.MaxChats != 3 || u.PassHash != "" {
		t.Errorf("SetMaxChats(lena, 3) = %+v, %v", u, err)
	}
	for _, n := range []int{-1, MaxChatsLimit + 1} {
		if _, err := s.SetMaxChats(ctx, "lena", n); !errors.Is(err, ErrBadUser) {
			t.Errorf("SetMaxChats(%d) error = %v, want ErrBadUser", n, err)
		}
	}
	if _, err := s.SetMaxChats(ctx, "nobody", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetMaxChats(nobody) error = %v, want ErrNotFound", err)
	}
	if _, err := s.User(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(nobody) error = %v, want ErrNotFound", err)
	}
	us, err := s.Users(ctx)
	if err != nil || len(us) != 2 || us[0].Name != "admin" || us[1].Name != "lena" || us[1].MaxChats != 3 || us[0].PassHash != "" {
		t.Errorf("Users = %+v, %v; want admin and lena, by name, without hashes", us, err)
	}
	if _, _, err := s.Login(ctx, "admin", pw); err != nil {
		t.Errorf("the admin's login with EnsureAdmin's password: %v", err)
	}
}

func testSessions(t *testing.T, s *Service, clock *timetest.Clock) {
	ctx := context.Background()
	if _, err := s.AddUser(ctx, "bob", "bob-pass-1", RoleAgent, "aftersale"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, password string }{{"bob", "wrong-pass"}, {"nobody", "bob-pass-1"}} {
		if _, _, err := s.Login(ctx, c.name, c.password); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Login(%s, %s) error = %v, want ErrBadCredentials", c.name, c.password, err)
		}
	}
	token, u, err := s.Login(ctx, "bob", "bob-pass-1")
	if err != nil || !strings.HasPrefix(token, "s_") || u.Name != "bob" || u.PassHash != "" {
		t.Fatalf("Login(bob) = %q, %+v, %v", token, u, err)
	}
	if got, err := s.Authenticate(ctx, token); err != nil || got != (User{Name: "bob", Role: RoleAgent, Group: "aftersale"}) {
		t.Errorf("Authenticate = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "s_madeup", token + "x"} {
		if _, err := s.Authenticate(ctx, bad); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate(%q) error = %v, want ErrBadCredentials", bad, err)
		}
	}
	if err := s.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, token); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("Authenticate after Logout: error = %v, want ErrBadCredentials", err)
	}
	// A session lasts 12 hours.
	token, _, err = s.Login(ctx, "bob", "bob-pass-1")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(12*time.Hour - time.Second)
	if _, err := s.Authenticate(ctx, token); err != nil {
		t.Errorf("Authenticate just before the session ends: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := s.Authenticate(ctx, token); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("Authenticate once the session ended: error = %v, want ErrBadCredentials", err)
	}
}

func testTokens(t *testing.T, s *Service) {
	ctx := context.Background()
	tok, secret, err := s.AddToken(ctx, "shop-sync", "", "admin")
	if err != nil || tok.Role != RoleEditor || tok.Hash != "" || !strings.HasPrefix(secret, "kt_"+tok.ID+"_") {
		t.Fatalf("AddToken = %+v, %q, %v", tok, secret, err)
	}
	if _, _, err := s.AddToken(ctx, "shop-sync", RoleEditor, "admin"); !errors.Is(err, ErrAPITokenExists) {
		t.Errorf("a second shop-sync: error = %v, want ErrAPITokenExists", err)
	}
	for _, role := range []Role{RoleAdmin, RoleAgent, RoleLead} {
		if _, _, err := s.AddToken(ctx, "x", role, "admin"); !errors.Is(err, ErrBadAPIToken) {
			t.Errorf("a token of role %s: error = %v, want ErrBadAPIToken", role, err)
		}
	}
	u, err := s.Authenticate(ctx, secret)
	if err != nil || u != (User{Name: "token:shop-sync", Role: RoleEditor}) {
		t.Errorf("Authenticate(token) = %+v, %v", u, err)
	}
	erp, _, err := s.AddToken(ctx, "erp", RoleEditor, "cli")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := s.Tokens(ctx)
	if err != nil || len(ts) != 2 || ts[0].ID != tok.ID || ts[1].ID != erp.ID || ts[0].Hash != "" {
		t.Errorf("Tokens = %+v, %v; want shop-sync then erp, without hashes", ts, err)
	}
	if err := s.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("a revoked token: error = %v, want ErrBadCredentials", err)
	}
	if err := s.RevokeToken(ctx, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking twice: error = %v, want ErrNotFound", err)
	}
}
