package knowledge

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/kb"
	"github.com/rs/zerolog"
)

// readJSON reads the JSON request bodies of the editor API: an article's answer is at
// most kb.MaxAnswerBytes, and its questions add to that; a field the API does not know
// is refused, so that a typo in a sync job's request is not silently ignored.
var readJSON = web.JSONReader{MaxBytes: 1 << 20, Strict: true}.Read

// writeStoreError answers for an error of the store or of validation: the client's
// own mistakes get their code and a message that says what to fix; anything else is
// logged and answered 503.
func writeStoreError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, kb.ErrInvalid):
		web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, userMessage(err, kb.ErrInvalid))
	case errors.Is(err, ErrUnsafeContent):
		web.WriteError(w, http.StatusBadRequest, web.CodeUnsafeContent, userMessage(err, ErrUnsafeContent))
	case errors.Is(err, kb.ErrNotFound):
		web.WriteError(w, http.StatusNotFound, web.CodeNotFound, "文章或版本不存在 (article or version not found)")
	case errors.Is(err, kb.ErrExists):
		web.WriteError(w, http.StatusConflict, web.CodeExists, "该文章 ID 已存在 (an article with this id exists)")
	case errors.Is(err, kb.ErrConflict):
		web.WriteError(w, http.StatusConflict, web.CodeConflict, "文章已被他人修改，请刷新后再保存 (the article changed since you opened it)")
	default:
		web.Fault(w, r, err)
	}
}

// userMessage is err's text from the sentinel on: the validation's own words, without
// the wrapping context meant for the log.
func userMessage(err, sentinel error) string {
	msg := err.Error()
	if i := strings.Index(msg, sentinel.Error()); i >= 0 {
		return msg[i:]
	}
	return msg
}

type userKey struct{}

func userFrom(ctx context.Context) User { u, _ := ctx.Value(userKey{}).(User); return u }

// authed wraps h so that it runs only for a signed-in user with one of roles.
func (s *Service) authed(h http.HandlerFunc, roles ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, fromCookie := bearer(r), false
		if token == "" {
			if ck, err := r.Cookie(s.cfg.SessionCookie); err == nil {
				token, fromCookie = ck.Value, true
			}
		}
		u, ok, err := s.cfg.Auth.Authenticate(r.Context(), token)
		if err != nil {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("checking a session failed")
			web.WriteError(w, http.StatusServiceUnavailable, web.CodeUnavailable, "服务暂时不可用，请稍后重试")
			return
		}
		if !ok {
			web.WriteError(w, http.StatusUnauthorized, web.CodeUnauthorized, "请先登录 (sign in first)")
			return
		}
		// A cookie is sent by the browser on its own, so a state-changing request that
		// relies on it must come from our own origin.
		if fromCookie && r.Method != http.MethodGet && !sameOrigin(r) {
			web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "请求来源不被允许")
			return
		}
		allowed := len(roles) == 0
		for _, role := range roles {
			allowed = allowed || u.Role == role
		}
		if !allowed {
			web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "您的角色无权执行此操作 (your role may not do this)")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	}
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		site := r.Header.Get("Sec-Fetch-Site")
		return site == "" || site == "same-origin"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
