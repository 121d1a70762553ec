package console

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// PostNote handles POST /api/conversations/{id}/notes {text, id?}: 201 {note}.
func (c *Server) PostNote() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Text, ID string }
		if !web.ReadJSON(w, r, &req) {
			return
		}
		text := strings.TrimSpace(req.Text)
		if text == "" || utf8.RuneCountInString(text) > handoff.MaxReplyRunes || len(req.ID) > 64 {
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "备注不能为空，且不超过 2000 字")
			return
		}
		n, err := c.desk.AddNote(r.Context(), r.PathValue("id"), account.UserFrom(r), req.ID, text)
		if err != nil {
			writeNoteError(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("conv", r.PathValue("id")).Str("agent", n.Author).Msg("note added")
		web.WriteJSON(w, http.StatusCreated, map[string]any{"note": n})
	})
}

// GetNotes handles GET /api/conversations/{id}/notes: {notes: [Note]}.
func (c *Server) GetNotes() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		ns, err := c.desk.Notes(r.Context(), r.PathValue("id"), account.UserFrom(r))
		if err != nil {
			writeNoteError(w, r, err)
			return
		}
		if ns == nil {
			ns = []handoff.Note{}
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"notes": ns})
	})
}

func writeNoteError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, handoff.ErrNotOwner):
		web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "只有接待客服和本组客服可以查看或添加备注")
	case errors.Is(err, handoff.ErrNoteLimit):
		web.WriteError(w, http.StatusConflict, web.CodeTooManyNotes, "该会话的备注已达上限")
	default:
		writeDeskError(w, r, err)
	}
}
