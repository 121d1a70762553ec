package account

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// API serves the account routes of the HTTP API: signing in and out, the signed-in
// user, and, for admins, the users and the API tokens.
type API struct {
	s      *Service
	anyone func(http.HandlerFunc) http.HandlerFunc
	admins func(http.HandlerFunc) http.HandlerFunc
	// pending admits any signed-in user, one who must change their password too.
	pending func(http.HandlerFunc) http.HandlerFunc
}

// API returns the Service's HTTP API.
func (s *Service) API() *API {
	return &API{s: s, anyone: s.Require(), admins: s.Require(RoleAdmin), pending: s.require(true)}
}

// Routes registers the API on mux: /api/login, /api/logout, /api/me, /api/users,
// the passwords (POST /api/users/{name}/password, POST /api/me/password) and
// /api/tokens.
func (a *API) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/login", a.Login)
	mux.HandleFunc("POST /api/logout", a.Logout)
	mux.HandleFunc("GET /api/me", a.Me())
	mux.HandleFunc("GET /api/users", a.Users())
	mux.HandleFunc("POST /api/users", a.AddUser())
	mux.HandleFunc("POST /api/users/{name}/password", a.ResetPassword())
	mux.HandleFunc("POST /api/me/password", a.ChangePassword())
	mux.HandleFunc("GET /api/tokens", a.Tokens())
	mux.HandleFunc("POST /api/tokens", a.AddToken())
	mux.HandleFunc("DELETE /api/tokens/{id}", a.RevokeToken())
}

// publicUser is a user as the API shows them: never the password hash.
func publicUser(u User) map[string]any {
	return map[string]any{
		"name": u.Name, "role": string(u.Role), "group": u.Group, "display_name": u.DisplayName,
		"shown_name": u.ShownName(), "avatar": AvatarURL(u.Avatar), "serving": u.IsServing(),
		"max_chats": u.MaxChats, "disabled": u.Disabled, "must_change_password": u.MustChangePassword,
	}
}

// PublicUser is a user as the API shows them: name, role, group, display_name,
// shown_name (what shoppers see), avatar (its URL, "" for none), serving, max_chats
// (0: the desk's default), disabled and must_change_password.
func PublicUser(u User) map[string]any { return publicUser(u) }

// AvatarURL is the URL of avatar id, which anyone may load (shoppers too); "" for none.
func AvatarURL(id string) string {
	if id == "" {
		return ""
	}
	return "/avatars/" + id
}

// The answers to the errors of the API's requests. A Refusal's text is written for
// people: it is answered as it is.
var (
	loginErrors = web.ErrorAnswers{
		{Err: ErrBadCredentials, Status: http.StatusUnauthorized, Code: web.CodeBadCredentials, Message: "用户名或密码错误"},
		{Err: ErrDisabled, Status: http.StatusForbidden, Code: web.CodeDisabled, Message: "账号已停用，请联系管理员"},
	}
	userErrors = web.ErrorAnswers{
		{Err: ErrBadUser, Status: http.StatusBadRequest, Code: web.CodeBadRequest},
		{Err: ErrUserExists, Status: http.StatusConflict, Code: web.CodeUserExists, Message: "用户名已存在"},
		{Err: ErrLastAdmin, Status: http.StatusConflict, Code: web.CodeLastAdmin, Message: "至少要保留一位启用的管理员"},
		{Err: ErrWrongPassword, Status: http.StatusForbidden, Code: web.CodeWrongPassword, Message: "当前密码不正确"},
		{Err: ErrNotFound, Status: http.StatusNotFound, Code: web.CodeNotFound, Message: "用户不存在"},
	}
	tokenErrors = web.ErrorAnswers{
		{Err: ErrBadAPIToken, Status: http.StatusBadRequest, Code: web.CodeBadRequest},
		{Err: ErrAPITokenExists, Status: http.StatusConflict, Code: web.CodeTokenExists, Message: "已有同名的 API 令牌"},
		{Err: ErrNotFound, Status: http.StatusNotFound, Code: web.CodeNotFound, Message: "API 令牌不存在"},
	}
)

// Login handles POST /api/login {username, password}: {token, user}, and the session
// cookie. After repeated failures of the account or from the address it answers 429
// too_many_attempts with Retry-After, without looking at the password (login.go). A
// user whose user.must_change_password is true may do nothing but change it (POST
// /api/me/password).
func (a *API) Login(w http.ResponseWriter, r *http.Request) {
	var req struct{ Username, Password string }
	if !web.ReadJSON(w, r, &req) {
		return
	}
	account, address := a.s.gate.subjects(r, req.Username)
	if wait := a.s.gate.blocked(r.Context(), account, address); wait > 0 {
		zerolog.Ctx(r.Context()).Info().Str("user", account).Str("ip", address).Msg("sign-in refused: locked")
		writeLocked(w, wait)
		return
	}
	token, u, err := a.s.Login(r.Context(), req.Username, req.Password)
	if err != nil {
		if errors.Is(err, ErrBadCredentials) || errors.Is(err, ErrDisabled) {
			a.s.audit.Add(r, typedName(req.Username), audit.ActionLoginFailed, "", loginFailure(err))
		}
		if errors.Is(err, ErrBadCredentials) {
			if wait := a.s.gate.failed(r.Context(), account, address); wait > 0 {
				a.lockedOut(r, account, address, wait)
			}
		}
		loginErrors.Write(w, r, err)
		return
	}
	a.s.gate.succeeded(r.Context(), account)
	a.s.audit.Add(r, u.Name, audit.ActionLogin, "", "")
	a.setCookie(w, token)
	zerolog.Ctx(r.Context()).Info().Str("user", u.Name).Msg("login")
	web.WriteJSON(w, http.StatusOK, map[string]any{"token": token, "user": publicUser(u)})
}

// setCookie sets the session cookie to token.
func (a *API) setCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: a.s.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(a.s.ttl / time.Second),
	})
}

// Logout handles POST /api/logout: it ends the session of the bearer token or of the
// cookie, and its event streams, and clears the cookie. With the cookie it must come
// from the page's own origin, as every cookie request that changes state (403
// forbidden otherwise).
func (a *API) Logout(w http.ResponseWriter, r *http.Request) {
	token := bearer(r)
	if ck, err := r.Cookie(SessionCookie); token == "" && err == nil {
		token = ck.Value
		if !sameOrigin(r) {
			web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "请求来源不被允许")
			return
		}
	}
	if token != "" {
		u, authErr := a.s.Authenticate(r.Context(), token)
		if err := a.s.Logout(r.Context(), token); err != nil {
			web.Fault(w, r, err)
			return
		}
		if authErr == nil {
			a.s.audit.Add(r, u.Name, audit.ActionLogout, "", "")
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: a.s.secure, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	web.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// Me handles GET /api/me: the user as publicUser shows them, and the skill groups.
func (a *API) Me() http.HandlerFunc {
	return a.pending(func(w http.ResponseWriter, r *http.Request) {
		u := publicUser(UserFrom(r))
		u["groups"] = a.s.Groups()
		web.WriteJSON(w, http.StatusOK, u)
	})
}

// Users handles GET /api/users (admin): {users: [publicUser]}, by name.
func (a *API) Users() http.HandlerFunc {
	return a.admins(func(w http.ResponseWriter, r *http.Request) {
		us, err := a.s.Users(r.Context())
		web.Reply(w, r, http.StatusOK, map[string]any{"users": views(us, publicUser)}, err)
	})
}

// views is how the API shows each of xs: view(x), in order; none is an empty list.
func views[T, V any](xs []T, view func(T) V) []V {
	out := make([]V, len(xs))
	for i, x := range xs {
		out[i] = view(x)
	}
	return out
}

// AddUser handles POST /api/users {username, password, role, group} (admin): 201 with
// the new user.
func (a *API) AddUser() http.HandlerFunc {
	return a.admins(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Username, Password, Group string
			Role                      Role
		}
		if !web.ReadJSON(w, r, &req) {
			return
		}
		u, err := a.s.AddUser(r.Context(), req.Username, req.Password, req.Role, req.Group)
		if err != nil {
			userErrors.Write(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("user", u.Name).Str("by", UserFrom(r).Name).Msg("user added")
		a.s.audit.Add(r, UserFrom(r).Name, audit.ActionUserCreated, u.Name, "role="+string(u.Role)+" group="+u.Group)
		web.WriteJSON(w, http.StatusCreated, publicUser(u))
	})
}

// ResetPassword handles POST /api/users/{name}/password {password} (admin): the user's
// new password; their sessions end. 204.
func (a *API) ResetPassword() http.HandlerFunc {
	return a.admins(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Password string }
		if !web.ReadJSON(w, r, &req) {
			return
		}
		name := r.PathValue("name")
		if err := a.s.SetPassword(r.Context(), name, req.Password); err != nil {
			userErrors.Write(w, r, err)
			return
		}
		a.s.ResetLoginFailures(r.Context(), name)
		zerolog.Ctx(r.Context()).Info().Str("user", name).Str("by", UserFrom(r).Name).Msg("password reset")
		a.s.audit.Add(r, UserFrom(r).Name, audit.ActionPasswordReset, name, "")
		w.WriteHeader(http.StatusNoContent)
	})
}

// ChangePassword handles POST /api/me/password {current, password} (any signed-in
// user): their own new password. Their other sessions end; this one goes on with a new
// session cookie, and the answer {token} carries the new session token.
func (a *API) ChangePassword() http.HandlerFunc {
	return a.pending(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Current, Password string }
		if !web.ReadJSON(w, r, &req) {
			return
		}
		me := UserFrom(r).Name
		if strings.HasPrefix(me, TokenUserPrefix) {
			web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "API 令牌没有密码")
			return
		}
		token, err := a.s.ChangePassword(r.Context(), me, req.Current, req.Password)
		if err != nil {
			userErrors.Write(w, r, err)
			return
		}
		if _, err := r.Cookie(SessionCookie); err == nil {
			a.setCookie(w, token)
		}
		zerolog.Ctx(r.Context()).Info().Str("user", me).Msg("password changed")
		a.s.audit.Add(r, me, audit.ActionPasswordChange, me, "")
		web.WriteJSON(w, http.StatusOK, map[string]string{"token": token})
	})
}

// typedName is the user name a failed sign-in typed, as the audit log keeps it: at most
// 64 bytes, cut at a character.
func typedName(s string) string {
	if len(s) <= 64 {
		return s
	}
	return strings.ToValidUTF8(s[:64], "")
}

// loginFailure is why a sign-in failed, for the audit log.
func loginFailure(err error) string {
	if errors.Is(err, ErrDisabled) {
		return "disabled"
	}
	return "wrong username or password"
}
