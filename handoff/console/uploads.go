package console

import (
	"net/http"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// Photos in the console: agents upload them to a conversation they may see, send them
// with a reply (reply.go), and every record the console delivers carries its photos'
// URLs, signed as it is delivered.

// Upload handles POST /api/conversations/{id}/uploads: one photo of an agent who may see
// the conversation (its owner, an agent of its group, an admin), 201 {id, url, type,
// size} (files.Service.Accept); 404 not_found, 403 forbidden otherwise.
func (c *Server) Upload() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		if c.files == nil {
			web.WriteError(w, http.StatusServiceUnavailable, web.CodeUnavailable, "图片上传未开启")
			return
		}
		u := account.UserFrom(r)
		cv, err := c.desk.Conversation(r.Context(), r.PathValue("id"))
		if err != nil {
			deskErrors.Write(w, r, err)
			return
		}
		if !handoff.MaySee(u, cv) {
			web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "只有接待客服和本组客服可以在该会话中发送图片")
			return
		}
		if up, ok := c.files.Accept(w, r, cv.ID); ok {
			zerolog.Ctx(r.Context()).Info().Str("conv", cv.ID).Str("agent", u.Name).Str("file", up.ID).Str("type", up.Type).
				Int64("size", up.Size).Msg("agent uploaded a photo")
		}
	})
}

// withURLs returns the records of conversation conv as the console delivers them: with
// their photos' URLs.
func (c *Server) withURLs(conv string, msgs []handoff.Message) []handoff.Message {
	if c.files == nil {
		return msgs
	}
	return handoff.WithURLs(msgs, conv, c.files.URL)
}
