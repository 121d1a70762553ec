package console

import (
	"net/http"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// phrasebookErrors are the answers to the errors of saving the phrasebook. The text of
// ErrBadPhrase after the sentinel names the language, the key and the guard's reason.
var phrasebookErrors = web.ErrorAnswers{
	{Err: handoff.ErrConflict, Status: http.StatusConflict, Code: web.CodeConflict, Message: "话术已被其他管理员修改，请刷新后重试"},
	{Err: handoff.ErrBadPhrase, Status: http.StatusUnprocessableEntity, Code: web.CodeBadPhrase},
}

// phrasebookBody is the body of PUT /api/phrasebook: the admin's edits over the bundled
// phrases, whole (a key left out is back at its default), and the revision they were
// read at.
type phrasebookBody struct {
	Rev int64 `json:"rev"`
	handoff.PhrasebookEdits
}

// GetPhrasebook handles GET /api/phrasebook: for an admin the whole phrasebook
// (handoff.PhrasebookView: every language's phrases and canned replies with their
// defaults, the opening hours and the revision); for an agent the canned replies of
// ?lang= (zh by default) and the opening hours.
func (c *Server) GetPhrasebook() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		u := account.UserFrom(r)
		if u.Role != account.RoleAdmin {
			l := handoff.ParseLang(r.URL.Query().Get("lang"))
			web.WriteJSON(w, http.StatusOK, map[string]any{
				"lang": l, "canned": c.desk.CannedRepliesIn(l, u.Name), "hours": c.desk.Hours(),
			})
			return
		}
		v, err := c.desk.Phrasebook(r.Context())
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, v)
	})
}

// PutPhrasebook handles PUT /api/phrasebook {rev, phrases, canned, hours}, admins only:
// 200 with the phrasebook saved, 409 when it changed since rev, 422 when the reply
// guard refuses an edited text. Every node uses it at once.
func (c *Server) PutPhrasebook() http.HandlerFunc {
	return c.admins(func(w http.ResponseWriter, r *http.Request) {
		var b phrasebookBody
		if !web.ReadJSON(w, r, &b) {
			return
		}
		rev, err := c.desk.SavePhrasebook(r.Context(), b.PhrasebookEdits, b.Rev)
		if err != nil {
			phrasebookErrors.Write(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("admin", account.UserFrom(r).Name).Int64("rev", rev).Msg("phrasebook saved")
		v, err := c.desk.Phrasebook(r.Context())
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, v)
	})
}
