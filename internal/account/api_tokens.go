package account

import (
	"errors"
	"net/http"
	"time"

	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// tokenView is an API token as the API shows it: never its hash.
type tokenView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func viewToken(t APIToken) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, Role: t.Role, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt}
}

// Tokens handles GET /api/tokens (admin): the API tokens, oldest first.
func (a *API) Tokens() http.HandlerFunc {
	return a.admins(func(w http.ResponseWriter, r *http.Request) {
		ts, err := a.s.Tokens(r.Context())
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		out := make([]tokenView, len(ts))
		for i, t := range ts {
			out[i] = viewToken(t)
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"tokens": out})
	})
}

// AddToken handles POST /api/tokens {name, role} (admin): it issues an API token and
// answers it once, in "token"; only its hash is kept.
func (a *API) AddToken() http.HandlerFunc {
	return a.admins(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name string
			Role Role
		}
		if !web.ReadJSON(w, r, &req) {
			return
		}
		by := UserFrom(r).Name
		t, token, err := a.s.AddToken(r.Context(), req.Name, req.Role, by)
		switch {
		case writeRefusal(w, err):
		case errors.Is(err, ErrAPITokenExists):
			web.WriteError(w, http.StatusConflict, web.CodeTokenExists, "已有同名的 API 令牌")
		case err != nil:
			web.Fault(w, r, err)
		default:
			zerolog.Ctx(r.Context()).Info().Str("token", t.ID).Str("name", t.Name).Str("role", string(t.Role)).Str("by", by).Msg("API token issued")
			web.WriteJSON(w, http.StatusCreated, struct {
				tokenView
				Token string `json:"token"`
			}{viewToken(t), token})
		}
	})
}

// RevokeToken handles DELETE /api/tokens/{id} (admin).
func (a *API) RevokeToken() http.HandlerFunc {
	return a.admins(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		err := a.s.RevokeToken(r.Context(), id)
		switch {
		case errors.Is(err, ErrNotFound):
			web.WriteError(w, http.StatusNotFound, web.CodeNotFound, "API 令牌不存在")
		case err != nil:
			web.Fault(w, r, err)
		default:
			zerolog.Ctx(r.Context()).Info().Str("token", id).Str("by", UserFrom(r).Name).Msg("API token revoked")
			w.WriteHeader(http.StatusNoContent)
		}
	})
}
