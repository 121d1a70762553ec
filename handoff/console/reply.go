package console

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/contactguard"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// What agents write in a chat: replies past the reply guard, canned replies and
// internal notes.

// maxReasonRunes bounds the reason of an override.
const maxReasonRunes = 200

// badMessage is the answer to a text that is garbled whatever it says
// (contactguard.Garbled): nothing of it is stored.
const badMessage = "消息含有无效字符（无效编码、控制字符、双向文本控制符，或只有不可见字符）"

// replyRequest is the body of POST /api/conversations/{id}/messages.
type replyRequest struct {
	Text string `json:"text"`
	// ID makes a retry idempotent.
	ID string `json:"id"`
	// Confirm sends a one-word reply (otherwise 409 confirm_short).
	Confirm bool `json:"confirm"`
	// Override sends a reply with outside contact details (otherwise 422
	// blocked_contact); Reason, required with it, is recorded in a note.
	Override bool   `json:"override"`
	Reason   string `json:"reason"`
	// Attachments are ids of photos uploaded to the conversation
	// (POST /api/conversations/{id}/uploads); with them the text may be empty.
	Attachments []string `json:"attachments"`
}

// reply stores an agent's reply after the guard's checks: a one-word reply needs
// confirm, outside contact details need override with a reason, and an override is
// recorded as a note of the conversation and logged, masked.
func (c *Server) reply(w http.ResponseWriter, r *http.Request) {
	var req replyRequest
	if !web.ReadJSON(w, r, &req) {
		return
	}
	text := strings.TrimSpace(req.Text)
	reason := strings.TrimSpace(req.Reason)
	if text == "" && len(req.Attachments) == 0 || utf8.RuneCountInString(text) > handoff.MaxReplyRunes || len(req.ID) > 64 || utf8.RuneCountInString(reason) > maxReasonRunes {
		web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "消息不能为空，且不超过 2000 字")
		return
	}
	if contactguard.Garbled(text) || contactguard.Garbled(reason) {
		web.WriteError(w, http.StatusBadRequest, web.CodeBadMessage, badMessage)
		return
	}
	if text != "" && handoff.IsShortReply(text) && !req.Confirm {
		web.WriteError(w, http.StatusConflict, web.CodeConfirmShort, "这条回复过短，确认发送？")
		return
	}
	found := c.desk.CheckContact(text)
	if len(found) > 0 && !req.Override {
		names := make([]string, len(found))
		for i, f := range found {
			names[i] = f.String()
		}
		web.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"error": web.Error{Code: web.CodeBlockedContact, Message: "回复中含有站外联系方式（" + strings.Join(names, "、") +
				"），平台规则不允许发送；如确有必要，请填写原因后放行"},
			"found": found,
		})
		return
	}
	if len(found) > 0 && reason == "" {
		web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "放行站外联系方式须填写原因")
		return
	}
	me := account.UserFrom(r).Name
	am := handoff.AgentMessage{ID: req.ID, Text: text, Attachments: req.Attachments}
	m, err := c.desk.ReplyOverriding(r.Context(), r.PathValue("id"), me, am, found, reason)
	if err != nil {
		deskErrors.Write(w, r, err)
		return
	}
	if len(found) > 0 {
		kinds := make([]string, len(found))
		for i, f := range found {
			kinds[i] = f.Kind + " " + f.Masked
		}
		zerolog.Ctx(r.Context()).Warn().Str("conv", r.PathValue("id")).Str("agent", me).Int64("seq", m.Seq).
			Strs("found", kinds).Str("reason", c.loggableReason(reason)).Msg("reply sent past the contact guard")
		c.audit.Add(r, me, audit.ActionGuardOverride, r.PathValue("id"),
			fmt.Sprintf("seq %d: %s; reason: %s", m.Seq, strings.Join(kinds, ", "), c.loggableReason(reason)))
	}
	web.WriteJSON(w, http.StatusCreated, map[string]int64{"seq": m.Seq})
}

var longNumber = regexp.MustCompile(`[0-9０-９]{5,}`)

// loggableReason is the reason of an override as the log may keep it: the agent's own
// words, withheld when they carry a contact detail or a long number themselves.
func (c *Server) loggableReason(reason string) string {
	if len(c.desk.CheckContact(reason)) > 0 || longNumber.MatchString(reason) {
		return "（原因中含联系方式，已隐去）"
	}
	return reason
}

// Canned handles GET /api/canned?lang=zh|en: {"canned": [CannedReply]}, in the language
// asked for (Chinese by default), as an admin last edited them, the texts filled in for
// the user.
func (c *Server) Canned() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		l := handoff.ParseLang(r.URL.Query().Get("lang"))
		shown := c.desk.Person(r.Context(), account.UserFrom(r).Name).Name
		web.WriteJSON(w, http.StatusOK, map[string]any{"canned": c.desk.CannedRepliesIn(l, shown), "lang": l})
	})
}

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
		if contactguard.Garbled(text) {
			web.WriteError(w, http.StatusBadRequest, web.CodeBadMessage, badMessage)
			return
		}
		n, err := c.desk.AddNote(r.Context(), r.PathValue("id"), account.UserFrom(r), req.ID, text)
		if err != nil {
			noteErrors.Write(w, r, err)
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
			noteErrors.Write(w, r, err)
			return
		}
		if ns == nil {
			ns = []handoff.Note{}
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"notes": ns})
	})
}
