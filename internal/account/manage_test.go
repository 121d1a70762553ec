package account

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/internal/webtest"
)

// TestManage is an admin running the desk's people, on both engines: changing a user's
// fields, disabling them (their sessions and API tokens stop at once, they cannot sign
// in), keeping an enabled admin, and passwords.
func TestManage(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			t.Run("update_disable", func(t *testing.T) { testUpdateDisable(t, newTestService(t, e, nil)) })
			t.Run("last_admin", func(t *testing.T) { testLastAdmin(t, newTestService(t, e, nil)) })
			t.Run("passwords", func(t *testing.T) { testPasswords(t, newAPIFixture(t, e)) })
		})
	}
}

func ptr[T any](v T) *T { return &v }

func testUpdateDisable(t *testing.T, s *Service) {
	ctx := context.Background()
	if _, err := s.EnsureAdmin(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUser(ctx, "boss", testPassword, RoleAdmin, "presale"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUser(ctx, "alice", testPassword, RoleAgent, "presale"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Change{
		{Role: ptr(Role("king"))}, {Group: ptr("nowhere")}, {MaxChats: ptr(-1)}, {MaxChats: ptr(MaxChatsLimit + 1)},
		{DisplayName: ptr("<b>")}, {Avatar: ptr("../x")},
	} {
		if _, _, err := s.UpdateUser(ctx, "alice", bad); !errors.Is(err, ErrBadUser) {
			t.Errorf("UpdateUser(%+v) = %v, want ErrBadUser", bad, err)
		}
	}
	if _, _, err := s.UpdateUser(ctx, "nobody", Change{MaxChats: ptr(3)}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateUser of an unknown user = %v, want ErrNotFound", err)
	}
	u, changed, err := s.UpdateUser(ctx, "alice", Change{Role: ptr(RoleLead), Group: ptr("aftersale"), MaxChats: ptr(3), DisplayName: ptr(" 小美 "), Disabled: ptr(false)})
	if err != nil || u.Role != RoleLead || u.Group != "aftersale" || u.MaxChats != 3 || u.DisplayName != "小美" || u.Disabled || u.PassHash != "" {
		t.Fatalf("UpdateUser = %+v, %v", u, err)
	}
	if want := []string{"display_name", "role", "group", "max_chats"}; !slices.Equal(changed, want) {
		t.Errorf("changed %q, want %q", changed, want)
	}

	aliceSession := login(t, s, "alice", testPassword)
	bossSession := login(t, s, "boss", testPassword)
	_, bossToken, err := s.AddToken(ctx, "sync", RoleEditor, "boss")
	if err != nil {
		t.Fatal(err)
	}
	_, adminToken, err := s.AddToken(ctx, "sync2", RoleEditor, "admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "boss"} {
		if _, changed, err := s.UpdateUser(ctx, name, Change{Disabled: ptr(true)}); err != nil || !slices.Equal(changed, []string{"disabled"}) {
			t.Fatalf("disabling %s: %q, %v", name, changed, err)
		}
	}
	for what, token := range map[string]string{"alice's session": aliceSession, "boss's session": bossSession, "boss's API token": bossToken} {
		if _, err := s.Authenticate(ctx, token); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate(%s) after disabling = %v, want ErrBadCredentials", what, err)
		}
	}
	if _, err := s.Authenticate(ctx, adminToken); err != nil {
		t.Errorf("the API token of another admin stopped: %v", err)
	}
	if ts, _ := s.Tokens(ctx); len(ts) != 1 || ts[0].Name != "sync2" {
		t.Errorf("tokens after disabling boss: %+v, want sync2 alone", ts)
	}
	if _, _, err := s.Login(ctx, "alice", testPassword); !errors.Is(err, ErrDisabled) {
		t.Errorf("a disabled user's sign-in = %v, want ErrDisabled", err)
	}
	if _, _, err := s.Login(ctx, "alice", "wrong-password"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("a disabled user's sign-in with a wrong password = %v, want ErrBadCredentials", err)
	}
	if _, _, err := s.UpdateUser(ctx, "alice", Change{Disabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, aliceSession); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("a session from before disabling works again after enabling: %v", err)
	}
	login(t, s, "alice", testPassword)
}

func testLastAdmin(t *testing.T, s *Service) {
	ctx := context.Background()
	if _, err := s.EnsureAdmin(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Change{{Disabled: ptr(true)}, {Role: ptr(RoleAgent)}} {
		if _, _, err := s.UpdateUser(ctx, "admin", c); !errors.Is(err, ErrLastAdmin) {
			t.Errorf("UpdateUser(the only admin, %+v) = %v, want ErrLastAdmin", c, err)
		}
	}
	if _, err := s.AddUser(ctx, "boss", testPassword, RoleAdmin, "presale"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateUser(ctx, "boss", Change{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateUser(ctx, "admin", Change{Role: ptr(RoleEditor)}); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demoting the last enabled admin (another is disabled) = %v, want ErrLastAdmin", err)
	}
	if _, _, err := s.UpdateUser(ctx, "boss", Change{Disabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateUser(ctx, "admin", Change{Role: ptr(RoleEditor)}); err != nil {
		t.Errorf("demoting an admin while another is enabled: %v", err)
	}
	if pw, err := s.EnsureAdmin(ctx); err != nil || pw != "" {
		t.Errorf("EnsureAdmin with an admin = %q, %v; want no new admin", pw, err)
	}
}

// testPasswords resets and changes passwords through the API.
func testPasswords(t *testing.T, f *apiFixture) {
	old := f.token["alice"]
	for _, bad := range []string{
		"short", "          ", "\t\t\t\t\n\n\n\n", "       x", "ab cd ef g", // too few characters but spaces
		"aaaaaaaaaa", "12345678", "87654321", "abcdefgh", "qwertyui", // one character, runs
		"iloveyou", "PASSWORD1", "woaini1314", "pass word1", // among the commonest
		"alice123", "ALICE2024", // the name and a few more
	} {
		status, body := f.api.Call(t, "POST", "/api/users/alice/password", f.token["admin"], map[string]string{"password": bad})
		webtest.WantError(t, "reset to "+bad, status, body, http.StatusBadRequest, web.CodeBadRequest)
	}
	status, body := f.api.Call(t, "POST", "/api/users/alice/password", f.token["lena"], map[string]string{"password": "new-password-1"})
	webtest.WantError(t, "a lead's reset", status, body, http.StatusForbidden, web.CodeForbidden)
	status, body = f.api.Call(t, "POST", "/api/users/nobody/password", f.token["admin"], map[string]string{"password": "new-password-1"})
	webtest.WantError(t, "reset of an unknown user", status, body, http.StatusNotFound, web.CodeNotFound)
	if status, _ := f.api.Call(t, "GET", "/api/me", old, nil); status != http.StatusOK {
		t.Fatalf("alice's session failed before the reset: %d", status)
	}
	status, body = f.api.Call(t, "POST", "/api/users/alice/password", f.token["admin"], map[string]string{"password": "new-password-1"})
	webtest.WantStatus(t, "reset", status, body, http.StatusNoContent)
	status, body = f.api.Call(t, "GET", "/api/me", old, nil)
	webtest.WantError(t, "alice's session after the reset", status, body, http.StatusUnauthorized, web.CodeUnauthorized)
	status, body = f.api.Call(t, "POST", "/api/login", "", map[string]string{"username": "alice", "password": testPassword})
	webtest.WantError(t, "the old password", status, body, http.StatusUnauthorized, web.CodeBadCredentials)
	first := login(t, f.s, "alice", "new-password-1")
	second := login(t, f.s, "alice", "new-password-1")
	// The admin knows the new password: alice must change it before anything else.
	status, body = f.api.Call(t, "GET", "/api/me", first, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"must_change_password":true`) {
		t.Errorf("alice after the reset: %d %s, want must_change_password", status, body)
	}

	status, body = f.api.Call(t, "POST", "/api/me/password", first, map[string]string{"current": "wrong-password", "password": "new-password-2"})
	webtest.WantError(t, "own change with a wrong current password", status, body, http.StatusForbidden, web.CodeWrongPassword)
	status, body = f.api.Call(t, "POST", "/api/me/password", first, map[string]string{"current": "new-password-1", "password": "       x"})
	webtest.WantError(t, "own change to a password of spaces and a letter", status, body, http.StatusBadRequest, web.CodeBadRequest)
	status, body = f.api.Call(t, "POST", "/api/me/password", first, map[string]string{"current": "new-password-1", "password": "new-password-1"})
	webtest.WantError(t, "own change to the same password", status, body, http.StatusBadRequest, web.CodeBadRequest)
	status, body = f.api.Call(t, "POST", "/api/me/password", first, map[string]string{"current": "new-password-1", "password": "  moss lantern 7"})
	webtest.WantStatus(t, "own change to a password with spaces", status, body, http.StatusOK)
	var out struct{ Token string }
	webtest.Decode(t, body, &out)
	for what, token := range map[string]string{"the session that changed it": first, "another session": second} {
		status, body = f.api.Call(t, "GET", "/api/me", token, nil)
		webtest.WantError(t, what+" after the change", status, body, http.StatusUnauthorized, web.CodeUnauthorized)
	}
	if status, body := f.api.Call(t, "GET", "/api/me", out.Token, nil); status != http.StatusOK || !strings.Contains(string(body), `"must_change_password":false`) {
		t.Errorf("the new session after the change: %d %s, want it free to work", status, body)
	}
	login(t, f.s, "alice", "  moss lantern 7")

	// The admin changes the first admin's own password, and it holds.
	status, body = f.api.Call(t, "POST", "/api/me/password", f.token["admin"], map[string]string{"current": f.adminPW, "password": "admin-password-2"})
	webtest.WantStatus(t, "the admin's own change", status, body, http.StatusOK)
	login(t, f.s, "admin", "admin-password-2")
	if pw, err := f.s.EnsureAdmin(context.Background()); err != nil || pw != "" {
		t.Errorf("EnsureAdmin after the password change = %q, %v; want no new password", pw, err)
	}
}

// TestLastAdminConcurrent: two admins disable each other at once, many times over; an
// enabled admin always remains, on both engines.
func TestLastAdminConcurrent(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			s := newTestService(t, e, nil)
			ctx := context.Background()
			if _, err := s.EnsureAdmin(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddUser(ctx, "boss", testPassword, RoleAdmin, "presale"); err != nil {
				t.Fatal(err)
			}
			for range 20 {
				done := make(chan error, 2)
				for _, name := range []string{"admin", "boss"} {
					go func() {
						_, _, err := s.UpdateUser(ctx, name, Change{Disabled: ptr(true)})
						done <- err
					}()
				}
				for range 2 {
					if err := <-done; err != nil && !errors.Is(err, ErrLastAdmin) {
						t.Fatal(err)
					}
				}
				us, _ := s.Users(ctx)
				enabled := 0
				for _, u := range us {
					if isActiveAdmin(u) {
						enabled++
					}
				}
				if enabled == 0 {
					t.Fatal("both admins were disabled")
				}
				for _, name := range []string{"admin", "boss"} {
					if _, _, err := s.UpdateUser(ctx, name, Change{Disabled: ptr(false)}); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}
