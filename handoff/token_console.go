//go:build legacyconsole

package handoff

import (
	"errors"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// tokenView is an API token as the API shows it: never its hash.
type tokenView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func viewToken(t APIToken) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, Role: t.Role, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt}
}

// Tokens handles GET /api/tokens (admin): the API tokens, oldest first.
func (c *Console) Tokens() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		ts, err := c.desk.Tokens(r.Context())
		if err != nil {
			writeFault(w, r, err)
			return
		}
		out := make([]tokenView, len(ts))
		for i, t := range ts {
			out[i] = viewToken(t)
		}
		writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	}, RoleAdmin)
}

// AddToken handles POST /api/tokens {name, role} (admin): it issues an API token and
// answers it once, in "token"; only its hash is kept.
func (c *Console) AddToken() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Name, Role string }
		if !readJSON(w, r, &req) {
			return
		}
		by := userFrom(r).Name
		t, token, err := c.desk.AddToken(r.Context(), req.Name, req.Role, by)
		switch {
		case errors.Is(err, ErrBadAPIToken):
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		case errors.Is(err, ErrAPITokenExists):
			writeError(w, http.StatusConflict, "token_exists", "已有同名的 API 令牌")
		case err != nil:
			writeFault(w, r, err)
		default:
			zerolog.Ctx(r.Context()).Info().Str("token", t.ID).Str("name", t.Name).Str("role", t.Role).Str("by", by).Msg("API token issued")
			writeJSON(w, http.StatusCreated, struct {
				tokenView
				Token string `json:"token"`
			}{viewToken(t), token})
		}
	}, RoleAdmin)
}

// RevokeToken handles DELETE /api/tokens/{id} (admin).
func (c *Console) RevokeToken() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		err := c.desk.RevokeToken(r.Context(), id)
		switch {
		case errors.Is(err, ErrNotFound):
			writeError(w, http.StatusNotFound, "not_found", "API 令牌不存在")
		case err != nil:
			writeFault(w, r, err)
		default:
			zerolog.Ctx(r.Context()).Info().Str("token", id).Str("by", userFrom(r).Name).Msg("API token revoked")
			w.WriteHeader(http.StatusNoContent)
		}
	}, RoleAdmin)
}
