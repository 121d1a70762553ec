package account

import (
	"net/http"
	"time"

	"github.com/kefu-im/kefu/internal/audit"
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
		web.Reply(w, r, http.StatusOK, map[string]any{"tokens": views(ts, viewToken)}, err)
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
		if err != nil {
			tokenErrors.Write(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("token", t.ID).Str("name", t.Name).Str("role", string(t.Role)).Str("by", by).Msg("API token issued")
		a.s.audit.Add(r, by, audit.ActionTokenAdded, t.Name, "id="+t.ID+" role="+string(t.Role))
		web.WriteJSON(w, http.StatusCreated, struct {
			tokenView
			Token string `json:"token"`
		}{viewToken(t), token})
	})
}

// RevokeToken handles DELETE /api/tokens/{id} (admin).
func (a *API) RevokeToken() http.HandlerFunc {
	return a.admins(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := a.s.RevokeToken(r.Context(), id); err != nil {
			tokenErrors.Write(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("token", id).Str("by", UserFrom(r).Name).Msg("API token revoked")
		a.s.audit.Add(r, UserFrom(r).Name, audit.ActionTokenRevoked, id, "")
		w.WriteHeader(http.StatusNoContent)
	})
}
