package console

import (
	"net/http"

	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/web"
)

// Canned handles GET /api/canned: {"canned": [CannedReply]}, the texts filled in for the
// user.
func (c *Server) Canned() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		web.WriteJSON(w, http.StatusOK, map[string]any{"canned": c.desk.CannedReplies(account.UserFrom(r).Name)})
	})
}
