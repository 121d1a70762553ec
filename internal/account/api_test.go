package account

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/internal/secret"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/internal/webtest"
)

// apiFixture is a Service's API served by a real HTTP server, with the routes of
// cmd/kefu and two of a role's own: GET and POST /agents (agents, admins).
type apiFixture struct {
	s       *Service
	srv     *httptest.Server
	api     webtest.Client // calls srv
	adminPW string
	token   map[string]string // session token of each user
}

const testPassword = "kefu-test-pass"

func newAPIFixture(t *testing.T, e engine) *apiFixture {
	t.Helper()
	ctx := context.Background()
	s := newTestService(t, e, nil)
	f := &apiFixture{s: s, token: make(map[string]string)}
	printed, err := s.EnsureAdmin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The first admin changes the printed password, as they must before anything else.
	f.adminPW = printed + "-changed"
	if f.token["admin"], err = s.ChangePassword(ctx, "admin", printed, f.adminPW); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name  string
		role  Role
		group string
	}{{"alice", RoleAgent, "aftersale"}, {"lena", RoleLead, "aftersale"}, {"erin", RoleEditor, "presale"}} {
		if _, err := s.AddUser(ctx, u.name, testPassword, u.role, u.group); err != nil {
			t.Fatal(err)
		}
		f.token[u.name] = login(t, s, u.name, testPassword)
	}
	mux := http.NewServeMux()
	s.API().Routes(mux)
	agents := s.Require(RoleAgent, RoleAdmin)(func(w http.ResponseWriter, r *http.Request) {
		web.WriteJSON(w, http.StatusOK, map[string]string{"user": UserFrom(r).Name})
	})
	mux.HandleFunc("GET /agents", agents)
	mux.HandleFunc("POST /agents", agents)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.api = webtest.Client{URL: f.srv.URL, HTTP: f.srv.Client()}
	return f
}

func login(t *testing.T, s *Service, name, password string) string {
	t.Helper()
	token, _, err := s.Login(context.Background(), name, password)
	if err != nil {
		t.Fatalf("Login(%s): %v", name, err)
	}
	return token
}

func TestAPI(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := newAPIFixture(t, e)
			t.Run("login", func(t *testing.T) { testAPILogin(t, f) })
			t.Run("require", func(t *testing.T) { testAPIRequire(t, f) })
			t.Run("cookie_origin", func(t *testing.T) { testAPICookieOrigin(t, f) })
			t.Run("users", func(t *testing.T) { testAPIUsers(t, f) })
			t.Run("tokens", func(t *testing.T) { testAPITokens(t, f) })
		})
	}
}

// testAPILogin logs in, uses the token and logs out.
func testAPILogin(t *testing.T, f *apiFixture) {
	status, body := f.api.Call(t, "POST", "/api/login", "", map[string]string{"username": "alice", "password": "wrong-password"})
	webtest.WantError(t, "wrong password", status, body, http.StatusUnauthorized, web.CodeBadCredentials)
	status, unknown := f.api.Call(t, "POST", "/api/login", "", map[string]string{"username": "nobody", "password": "wrong-password"})
	webtest.WantError(t, "unknown user", status, unknown, http.StatusUnauthorized, web.CodeBadCredentials)
	if !bytes.Equal(body, unknown) {
		t.Errorf("a wrong password answers %s, an unknown user %s; want the same", body, unknown)
	}
	status, body = f.api.Call(t, "POST", "/api/login", "", `{"username": "alice", "password":`)
	webtest.WantError(t, "malformed JSON", status, body, http.StatusBadRequest, web.CodeBadJSON)
	huge := `{"username": "alice", "password": "` + strings.Repeat("a", 65<<10) + `"}`
	status, body = f.api.Call(t, "POST", "/api/login", "", huge)
	webtest.WantError(t, "body over 64 KiB", status, body, http.StatusRequestEntityTooLarge, web.CodeTooLarge)

	res, body := f.api.Send(t, f.api.NewRequest(t, "POST", "/api/login", map[string]string{"username": "alice", "password": testPassword}))
	webtest.WantStatus(t, "login", res.StatusCode, body, http.StatusOK)
	var in struct {
		Token string
		User  map[string]any
	}
	webtest.Decode(t, body, &in)
	if want := map[string]any{"name": "alice", "role": "agent", "group": "aftersale", "display_name": "", "shown_name": NeutralLabel("alice"),
		"avatar": "", "serving": true, "max_chats": 0.0, "disabled": false, "must_change_password": false}; in.Token == "" || !reflect.DeepEqual(in.User, want) {
		t.Errorf("login answered token %q, user %v; want a token and %v", in.Token, in.User, want)
	}
	i := slices.IndexFunc(res.Cookies(), func(c *http.Cookie) bool { return c.Name == SessionCookie })
	if i < 0 {
		t.Fatalf("login set no %s cookie: %q", SessionCookie, res.Header.Values("Set-Cookie"))
	}
	if ck := res.Cookies()[i]; ck.Value != in.Token || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.MaxAge != 12*3600 {
		t.Errorf("session cookie %q, want the token, HttpOnly, Secure, SameSite=Strict, Path=/, 12 hours", ck.String())
	}

	status, body = f.api.Call(t, "GET", "/api/me", in.Token, nil)
	webtest.WantStatus(t, "GET /api/me with the token", status, body, http.StatusOK)
	var me map[string]any
	webtest.Decode(t, body, &me)
	if want := map[string]any{"name": "alice", "role": "agent", "group": "aftersale", "groups": []any{"presale", "aftersale"},
		"display_name": "", "shown_name": NeutralLabel("alice"), "avatar": "", "serving": true, "max_chats": 0.0, "disabled": false, "must_change_password": false}; !reflect.DeepEqual(me, want) {
		t.Errorf("GET /api/me = %v, want %v", me, want)
	}
	status, body = f.api.Call(t, "GET", "/api/me", "", nil)
	webtest.WantError(t, "GET /api/me without a token", status, body, http.StatusUnauthorized, web.CodeUnauthorized)
	status, body = f.api.Call(t, "GET", "/api/me", "s_madeup", nil)
	webtest.WantError(t, "GET /api/me with a made-up token", status, body, http.StatusUnauthorized, web.CodeUnauthorized)

	req := f.api.NewRequest(t, "POST", "/api/logout", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: in.Token})
	res, body = f.api.Send(t, req)
	webtest.WantStatus(t, "logout with the cookie", res.StatusCode, body, http.StatusOK)
	if i := slices.IndexFunc(res.Cookies(), func(c *http.Cookie) bool { return c.Name == SessionCookie }); i < 0 || res.Cookies()[i].MaxAge >= 0 {
		t.Errorf("logout did not clear the cookie: %q", res.Header.Values("Set-Cookie"))
	}
	status, body = f.api.Call(t, "GET", "/api/me", in.Token, nil)
	webtest.WantError(t, "GET /api/me after logout", status, body, http.StatusUnauthorized, web.CodeUnauthorized)
}

// testAPIRequire: a route of agents admits agents, leads (who are agents too) and
// admins, and nobody else.
func testAPIRequire(t *testing.T, f *apiFixture) {
	for name, want := range map[string]int{"alice": 200, "lena": 200, "admin": 200, "erin": 403, "": 401} {
		status, body := f.api.Call(t, "GET", "/agents", f.token[name], nil)
		if status != want {
			t.Errorf("GET /agents as %q: %d %s, want %d", name, status, body, want)
			continue
		}
		if want == 200 {
			var got struct{ User string }
			webtest.Decode(t, body, &got)
			if got.User != name {
				t.Errorf("GET /agents as %s ran for %q", name, got.User)
			}
		}
	}
}

// testAPICookieOrigin changes state with the session cookie from other origins, and then
// from the page's own.
func testAPICookieOrigin(t *testing.T, f *apiFixture) {
	post := func(header map[string]string) int {
		req := f.api.NewRequest(t, "POST", "/agents", nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: f.token["alice"]})
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, body := f.api.Send(t, req)
		if res.StatusCode == http.StatusForbidden {
			webtest.WantError(t, "a cross-origin request", res.StatusCode, body, http.StatusForbidden, web.CodeForbidden)
		}
		return res.StatusCode
	}
	for _, h := range []map[string]string{
		{"Origin": "https://evil.example"},
		{"Origin": "http://" + strings.Replace(f.srv.Listener.Addr().String(), "127.0.0.1", "localhost", 1)},
		{"Sec-Fetch-Site": "cross-site"},
	} {
		if status := post(h); status != http.StatusForbidden {
			t.Errorf("POST with the cookie and %v: %d, want 403", h, status)
		}
	}
	if status := post(map[string]string{"Origin": f.srv.URL, "Sec-Fetch-Site": "same-origin"}); status != http.StatusOK {
		t.Errorf("POST with the cookie from the page's origin: %d, want 200", status)
	}
	// Bearer tokens are not sent by the browser on its own: any origin may use them.
	req := f.api.NewRequest(t, "POST", "/agents", nil)
	req.Header.Set("Authorization", "Bearer "+f.token["alice"])
	req.Header.Set("Origin", "https://evil.example")
	if res, _ := f.api.Send(t, req); res.StatusCode != http.StatusOK {
		t.Errorf("POST with a bearer token from another origin: %d, want 200", res.StatusCode)
	}
	// Reading with the cookie is allowed from anywhere.
	req = f.api.NewRequest(t, "GET", "/api/me", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: f.token["alice"]})
	req.Header.Set("Origin", "https://evil.example")
	if res, body := f.api.Send(t, req); res.StatusCode != http.StatusOK {
		t.Errorf("GET /api/me with the cookie from another origin: %d %s", res.StatusCode, body)
	}
}

func testAPIUsers(t *testing.T, f *apiFixture) {
	admin := f.token["admin"]
	carol := map[string]string{"username": "carol", "password": "carol-pass-1", "role": "agent", "group": "presale"}
	status, body := f.api.Call(t, "POST", "/api/users", admin, carol)
	webtest.WantStatus(t, "creating carol", status, body, http.StatusCreated)
	var created map[string]any
	webtest.Decode(t, body, &created)
	if want := map[string]any{"name": "carol", "role": "agent", "group": "presale", "display_name": "", "shown_name": NeutralLabel("carol"),
		"avatar": "", "serving": true, "max_chats": 0.0, "disabled": false, "must_change_password": false}; !reflect.DeepEqual(created, want) {
		t.Errorf("created %v, want %v", created, want)
	}
	status, body = f.api.Call(t, "POST", "/api/users", admin, carol)
	webtest.WantError(t, "creating carol again", status, body, http.StatusConflict, web.CodeUserExists)
	for _, tc := range []struct{ name, password, role, group, says string }{
		{"short password", "short", "agent", "presale", "用户信息无效: 密码至少 8 个字符"},
		{"unknown role", "dave-pass-1", "boss", "presale", `用户信息无效: 未知角色 "boss"`},
		{"unknown group", "dave-pass-1", "agent", "vip", `用户信息无效: 未知技能组 "vip"`},
	} {
		req := map[string]string{"username": "dave", "password": tc.password, "role": tc.role, "group": tc.group}
		status, body = f.api.Call(t, "POST", "/api/users", admin, req)
		webtest.WantError(t, tc.name, status, body, http.StatusBadRequest, web.CodeBadRequest)
		if !bytes.Contains(body, []byte(strings.ReplaceAll(tc.says, `"`, `\"`))) {
			t.Errorf("%s: %s, want the message %s", tc.name, body, tc.says)
		}
	}
	status, body = f.api.Call(t, "POST", "/api/users", f.token["alice"], map[string]string{"username": "eve", "password": "eve-pass-1", "role": "admin", "group": "presale"})
	webtest.WantError(t, "an agent creating a user", status, body, http.StatusForbidden, web.CodeForbidden)
	status, body = f.api.Call(t, "GET", "/api/users", f.token["lena"], nil)
	webtest.WantError(t, "a lead listing users", status, body, http.StatusForbidden, web.CodeForbidden)

	status, body = f.api.Call(t, "GET", "/api/users", admin, nil)
	webtest.WantStatus(t, "listing users", status, body, http.StatusOK)
	var list struct{ Users []map[string]any }
	webtest.Decode(t, body, &list)
	var names []string
	var serving []bool
	for _, u := range list.Users {
		names, serving = append(names, u["name"].(string)), append(serving, u["serving"].(bool))
	}
	if want := []string{"admin", "alice", "carol", "erin", "lena"}; !slices.Equal(names, want) {
		t.Errorf("users = %v, want %v", names, want)
	}
	// Agents and leads serve by default; admins and editors, who manage, do not.
	if want := []bool{false, true, true, false, true}; !slices.Equal(serving, want) {
		t.Errorf("serving = %v, want %v", serving, want)
	}
	if bytes.Contains(body, []byte("$2a$")) || bytes.Contains(body, []byte("pass_hash")) {
		t.Errorf("the user list shows password hashes: %s", body)
	}
	status, body = f.api.Call(t, "POST", "/api/login", "", map[string]string{"username": "admin", "password": f.adminPW})
	webtest.WantStatus(t, "the admin's login with their changed password", status, body, http.StatusOK)
}

// testAPITokens issues an API token, uses it where a session token goes, within its
// role, and revokes it.
func testAPITokens(t *testing.T, f *apiFixture) {
	admin := f.token["admin"]
	status, body := f.api.Call(t, "POST", "/api/tokens", admin, map[string]string{"name": "shop-sync", "role": "editor"})
	webtest.WantStatus(t, "issuing a token", status, body, http.StatusCreated)
	var issued struct {
		ID, Name, Role, Token string
		CreatedBy             string `json:"created_by"`
	}
	webtest.Decode(t, body, &issued)
	if issued.Name != "shop-sync" || issued.Role != "editor" || issued.CreatedBy != "admin" ||
		!strings.HasPrefix(issued.Token, "kt_"+issued.ID+"_") || len(issued.Token) < 50 {
		t.Fatalf("issued %s", body)
	}
	if bytes.Contains(body, []byte("hash")) {
		t.Errorf("the issued token shows its hash: %s", body)
	}
	// The store keeps the SHA-256 of the token, never the token.
	stored, err := f.s.store.Token(t.Context(), issued.ID)
	if err != nil || stored.Hash != secret.Hash(issued.Token) || strings.Contains(stored.Hash, issued.Token[20:]) {
		t.Fatalf("stored token = %+v, %v", stored, err)
	}

	// The token signs requests in as "token:shop-sync", an editor.
	status, body = f.api.Call(t, "GET", "/api/me", issued.Token, nil)
	webtest.WantStatus(t, "/api/me with the token", status, body, http.StatusOK)
	var me struct{ Name, Role string }
	webtest.Decode(t, body, &me)
	if me.Name != "token:shop-sync" || me.Role != "editor" {
		t.Errorf("/api/me with the token = %s", body)
	}
	// Its role limits it: an editor neither manages users and tokens nor serves chats.
	for _, path := range []string{"/api/tokens", "/api/users", "/agents"} {
		status, body = f.api.Call(t, "GET", path, issued.Token, nil)
		webtest.WantError(t, "GET "+path+" with an editor token", status, body, http.StatusForbidden, web.CodeForbidden)
	}
	status, body = f.api.Call(t, "POST", "/api/tokens", issued.Token, map[string]string{"name": "more"})
	webtest.WantError(t, "a token issuing a token", status, body, http.StatusForbidden, web.CodeForbidden)
	status, body = f.api.Call(t, "POST", "/api/tokens", f.token["alice"], map[string]string{"name": "mine"})
	webtest.WantError(t, "an agent issuing a token", status, body, http.StatusForbidden, web.CodeForbidden)

	// Bad requests say what is wrong and issue nothing.
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   web.Code
	}{
		{"an admin token", map[string]string{"name": "root", "role": "admin"}, http.StatusBadRequest, web.CodeBadRequest},
		{"an agent token", map[string]string{"name": "bot", "role": "agent"}, http.StatusBadRequest, web.CodeBadRequest},
		{"an empty name", map[string]string{"name": ""}, http.StatusBadRequest, web.CodeBadRequest},
		{"a name with a colon", map[string]string{"name": "a:b"}, http.StatusBadRequest, web.CodeBadRequest},
		{"a name in use", map[string]string{"name": "shop-sync"}, http.StatusConflict, web.CodeTokenExists},
		{"bad JSON", `{"name":`, http.StatusBadRequest, web.CodeBadJSON},
	} {
		status, body = f.api.Call(t, "POST", "/api/tokens", admin, tc.body)
		webtest.WantError(t, tc.name, status, body, tc.status, tc.code)
	}
	// The role defaults to editor.
	status, body = f.api.Call(t, "POST", "/api/tokens", admin, map[string]string{"name": "erp"})
	webtest.WantStatus(t, "issuing a token without a role", status, body, http.StatusCreated)
	var erp struct{ ID, Role, Token string }
	webtest.Decode(t, body, &erp)
	if erp.Role != "editor" {
		t.Errorf("a token without a role has role %q, want editor", erp.Role)
	}

	status, body = f.api.Call(t, "GET", "/api/tokens", admin, nil)
	webtest.WantStatus(t, "listing tokens", status, body, http.StatusOK)
	var list struct {
		Tokens []struct{ ID, Name string }
	}
	webtest.Decode(t, body, &list)
	if len(list.Tokens) != 2 || list.Tokens[0].Name != "shop-sync" || list.Tokens[1].Name != "erp" {
		t.Errorf("tokens = %s", body)
	}
	if bytes.Contains(body, []byte(issued.Token)) || bytes.Contains(body, []byte("hash")) || bytes.Contains(body, []byte("kt_")) {
		t.Errorf("the token list shows secrets: %s", body)
	}

	// Forged tokens: a known id with another secret, a malformed one, an unknown id.
	for _, forged := range []string{
		issued.Token[:len(issued.Token)-4] + "AAAA",
		"kt_" + issued.ID,
		"kt_",
		"kt_0123456789abcdef_" + issued.Token[20:],
	} {
		status, body = f.api.Call(t, "GET", "/api/me", forged, nil)
		webtest.WantError(t, "the forged token "+forged, status, body, http.StatusUnauthorized, web.CodeUnauthorized)
	}

	// Revoked, it signs in no more; the other token still does.
	status, body = f.api.Call(t, "DELETE", "/api/tokens/"+issued.ID, admin, nil)
	webtest.WantStatus(t, "revoking", status, body, http.StatusNoContent)
	status, body = f.api.Call(t, "GET", "/api/me", issued.Token, nil)
	webtest.WantError(t, "a revoked token", status, body, http.StatusUnauthorized, web.CodeUnauthorized)
	status, body = f.api.Call(t, "DELETE", "/api/tokens/"+issued.ID, admin, nil)
	webtest.WantError(t, "revoking twice", status, body, http.StatusNotFound, web.CodeNotFound)
	status, body = f.api.Call(t, "GET", "/api/me", erp.Token, nil)
	webtest.WantStatus(t, "/api/me with the other token", status, body, http.StatusOK)
}

// failingStore fails every read, as a Redis that does not answer.
type failingStore struct{ Store }

func (failingStore) Session(context.Context, string) (Session, error) {
	return Session{}, io.ErrUnexpectedEOF
}

// TestRequireFault: a store that fails answers 503, and the handler does not run.
func TestRequireFault(t *testing.T) {
	s, err := New(Config{Store: failingStore{}, Groups: testGroups})
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	h := s.Require(RoleAgent)(func(http.ResponseWriter, *http.Request) { ran = true })
	req := httptest.NewRequest("GET", "/agents", nil)
	req.Header.Set("Authorization", "Bearer s_x")
	rec := httptest.NewRecorder()
	h(rec, req)
	if rec.Code != http.StatusServiceUnavailable || ran {
		t.Errorf("with a failing store: %d %s, handler ran %v; want 503 without it", rec.Code, rec.Body, ran)
	}
	if strings.Contains(rec.Body.String(), io.ErrUnexpectedEOF.Error()) {
		t.Errorf("the answer shows the cause: %s", rec.Body)
	}
}

func TestRoleActs(t *testing.T) {
	for _, tc := range []struct {
		r     Role
		as    []Role
		wants bool
	}{
		{RoleAgent, []Role{RoleAgent}, true},
		{RoleLead, []Role{RoleAgent}, true},
		{RoleLead, []Role{RoleLead}, true},
		{RoleAgent, []Role{RoleLead}, false},
		{RoleEditor, []Role{RoleAgent, RoleAdmin}, false},
		{RoleAdmin, []Role{RoleEditor, RoleAdmin}, true},
		{RoleAdmin, []Role{RoleAgent}, false},
		{RoleAgent, nil, false},
	} {
		if got := tc.r.Acts(tc.as...); got != tc.wants {
			t.Errorf("%s.Acts(%v) = %v, want %v", tc.r, tc.as, got, tc.wants)
		}
	}
}
