//go:build legacyconsole

package handoff

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/rs/zerolog"
)

// Canned handles GET /api/canned: {"canned": [CannedReply]}, the texts filled in for the
// user.
func (c *Console) Canned() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"canned": c.desk.CannedReplies(userFrom(r).Name)})
	}, RoleAgent, RoleAdmin)
}

// PostNote handles POST /api/conversations/{id}/notes {text, id?}: 201 {note}.
func (c *Console) PostNote() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Text, ID string }
		if !readJSON(w, r, &req) {
			return
		}
		text := strings.TrimSpace(req.Text)
		if text == "" || utf8.RuneCountInString(text) > MaxReplyRunes || len(req.ID) > 64 {
			writeError(w, http.StatusBadRequest, "bad_request", "备注不能为空，且不超过 2000 字")
			return
		}
		n, err := c.desk.AddNote(r.Context(), r.PathValue("id"), userFrom(r), req.ID, text)
		if err != nil {
			writeNoteError(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("conv", r.PathValue("id")).Str("agent", n.Author).Msg("note added")
		writeJSON(w, http.StatusCreated, map[string]any{"note": n})
	}, RoleAgent, RoleAdmin)
}

// GetNotes handles GET /api/conversations/{id}/notes: {notes: [Note]}.
func (c *Console) GetNotes() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		ns, err := c.desk.Notes(r.Context(), r.PathValue("id"), userFrom(r))
		if err != nil {
			writeNoteError(w, r, err)
			return
		}
		if ns == nil {
			ns = []Note{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"notes": ns})
	}, RoleAgent, RoleAdmin)
}

func writeNoteError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotOwner):
		writeError(w, http.StatusForbidden, "forbidden", "只有接待客服和本组客服可以查看或添加备注")
	case errors.Is(err, ErrNoteLimit):
		writeError(w, http.StatusConflict, "too_many_notes", "该会话的备注已达上限")
	default:
		writeDeskError(w, r, err)
	}
}
