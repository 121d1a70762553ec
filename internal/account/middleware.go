package account

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/kefu-im/kefu/internal/web"
)

// SessionCookie is the cookie that carries the session token in the browser, for the
// console and the editor alike.
const SessionCookie = "kefu_session"

type userKey struct{}

// authErrors are the answers to a failed authentication.
var authErrors = web.ErrorAnswers{
	{Err: ErrBadCredentials, Status: http.StatusUnauthorized, Code: web.CodeUnauthorized, Message: "请先登录"},
}

// Require returns a middleware that runs a handler only for a signed-in user whose role
// acts as one of roles (Role.Acts: a lead acts as an agent too), or for any signed-in
// user when roles is empty. The user is in the request's context (UserFrom). The token
// is the bearer token of the Authorization header or else the session cookie; a request
// that changes state with the cookie, which the browser sends on its own, must come
// from the page's own origin. It answers 401 unauthorized without a good token, 403
// forbidden for another origin or role, 403 must_change_password for a user who must
// change their password first (User.MustChangePassword), and 503 when the store fails.
func (s *Service) Require(roles ...Role) func(http.HandlerFunc) http.HandlerFunc {
	return s.require(false, roles...)
}

// require is Require; pending admits a user who must change their password, for the
// requests that let them: reading who they are and changing it.
func (s *Service) require(pending bool, roles ...Role) func(http.HandlerFunc) http.HandlerFunc {
	return func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			token, fromCookie := bearer(r), false
			if token == "" {
				if ck, err := r.Cookie(SessionCookie); err == nil {
					token, fromCookie = ck.Value, true
				}
			}
			u, err := s.Authenticate(r.Context(), token)
			if err != nil {
				authErrors.Write(w, r, err)
				return
			}
			if fromCookie && r.Method != http.MethodGet && !sameOrigin(r) {
				web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "请求来源不被允许")
				return
			}
			if u.MustChangePassword && !pending {
				web.WriteError(w, http.StatusForbidden, web.CodeMustChangePassword, "请先修改初始密码")
				return
			}
			if len(roles) > 0 && !u.Role.Acts(roles...) {
				web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "您的角色无权执行此操作")
				return
			}
			h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
		}
	}
}

// UserFrom returns the user Require admitted the request for; the zero User outside
// Require.
func UserFrom(r *http.Request) User {
	u, _ := r.Context().Value(userKey{}).(User)
	return u
}

// bearer returns the token of the request's "Authorization: Bearer" header, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// sameOrigin reports whether the browser says the request comes from the server's own
// origin: by its Origin header, or, without one, by Sec-Fetch-Site (a request with
// neither is not from a browser that would send a cookie on its own).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		site := r.Header.Get("Sec-Fetch-Site")
		return site == "" || site == "same-origin"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
