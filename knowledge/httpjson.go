package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/kefu-im/kefu/kb"
	"github.com/rs/zerolog"
)

// maxJSON bounds a JSON request body of the editor API: an article's answer is at most
// kb.MaxAnswerBytes, and its questions add to that.
const maxJSON = 1 << 20

// apiError is what a client sees of an error: a code from a closed set (bad_json,
// too_large, invalid, unsafe_content, not_found, exists, conflict, unauthorized,
// forbidden, unavailable) and a message for people. The cause stays in the log.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: message}})
}

// writeStoreError answers for an error of the store or of validation: the client's
// own mistakes get their code and a message that says what to fix; anything else is
// logged and answered 503.
func writeStoreError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, kb.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid", userMessage(err, kb.ErrInvalid))
	case errors.Is(err, ErrUnsafeContent):
		writeError(w, http.StatusBadRequest, "unsafe_content", userMessage(err, ErrUnsafeContent))
	case errors.Is(err, kb.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "文章或版本不存在 (article or version not found)")
	case errors.Is(err, kb.ErrExists):
		writeError(w, http.StatusConflict, "exists", "该文章 ID 已存在 (an article with this id exists)")
	case errors.Is(err, kb.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", "文章已被他人修改，请刷新后再保存 (the article changed since you opened it)")
	default:
		zerolog.Ctx(r.Context()).Error().Err(err).Str("path", r.URL.Path).Msg("request failed")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "服务暂时不可用，请稍后重试")
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

// readJSON decodes the request body into v, answering the client itself on failure.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "bad_json", "请求须为 JSON (the body must be JSON)")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "请求内容过大 (the body is larger than 1 MiB)")
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "bad_json", "请求内容为空 (empty body)")
		default:
			writeError(w, http.StatusBadRequest, "bad_json", "请求内容不是有效的 JSON: "+err.Error())
		}
		return false
	}
	return true
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
			writeError(w, http.StatusServiceUnavailable, "unavailable", "服务暂时不可用，请稍后重试")
			return
		}
		if !ok {
			writeError(w, http.StatusUnauthorized, "unauthorized", "请先登录 (sign in first)")
			return
		}
		// A cookie is sent by the browser on its own, so a state-changing request that
		// relies on it must come from our own origin.
		if fromCookie && r.Method != http.MethodGet && !sameOrigin(r) {
			writeError(w, http.StatusForbidden, "forbidden", "请求来源不被允许")
			return
		}
		allowed := len(roles) == 0
		for _, role := range roles {
			allowed = allowed || u.Role == role
		}
		if !allowed {
			writeError(w, http.StatusForbidden, "forbidden", "您的角色无权执行此操作 (your role may not do this)")
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
