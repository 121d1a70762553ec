package console

import (
	"errors"
	"net/http"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// The console's routing API: presence and load, transfers, hand-back to the bot and
// agents' limits.

// Presence handles POST /api/presence, the console's heartbeat:
// {"status": "online" | "away" | "offline"}. It answers the agent's AgentLoad. The
// console sends it every few seconds (well within DeskConfig.Grace) and says offline when
// the agent leaves.
func (c *Server) Presence() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Status string }
		if !web.ReadJSON(w, r, &req) {
			return
		}
		switch req.Status {
		case handoff.PresenceOnline, handoff.PresenceAway, handoff.PresenceOffline:
		default:
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "状态须为 online、away 或 offline")
			return
		}
		a, err := c.desk.Heartbeat(r.Context(), account.UserFrom(r).Name, req.Status)
		web.Reply(w, r, http.StatusOK, a, err)
	})
}

// Agents handles GET /api/presence: the presence and load of the agents of the user's
// group, or of every group for an admin, and the desk's groups (for transfers).
func (c *Server) Agents() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		as, err := c.desk.Agents(r.Context(), groupSeen(account.UserFrom(r)))
		web.Reply(w, r, http.StatusOK, map[string]any{"agents": as, "groups": c.desk.Groups()}, err)
	})
}

// Load handles GET /api/me/load: the user's presence, how many chats they own and how
// many they may.
func (c *Server) Load() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		a, err := c.desk.AgentLoad(r.Context(), account.UserFrom(r).Name)
		web.Reply(w, r, http.StatusOK, a, err)
	})
}

// Transfer handles POST /api/conversations/{id}/transfer: {"agent": NAME} gives the chat
// to another agent, who must be online and below their limit; {"group": GROUP} sends it
// to that group's queue, keeping its waiting time.
func (c *Server) Transfer() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Agent, Group string }
		if !web.ReadJSON(w, r, &req) {
			return
		}
		if (req.Agent == "") == (req.Group == "") {
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "须指定 agent 或 group 之一")
			return
		}
		me := account.UserFrom(r).Name
		var (
			cv  handoff.Conversation
			err error
		)
		if req.Agent != "" {
			cv, err = c.desk.Transfer(r.Context(), r.PathValue("id"), me, req.Agent)
		} else {
			cv, err = c.desk.TransferGroup(r.Context(), r.PathValue("id"), me, handoff.Group(req.Group))
		}
		switch {
		case errors.Is(err, handoff.ErrAtCapacity):
			web.WriteError(w, http.StatusConflict, web.CodeAtCapacity, "对方客服的同时接待数已达上限")
			return
		case errors.Is(err, handoff.ErrWrongStatus) && req.Agent == me:
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "不能转接给自己")
			return
		case err != nil:
			deskErrors.Write(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("conv", cv.ID).Str("from", me).Str("to_agent", req.Agent).Str("to_group", req.Group).Msg("transferred")
		web.WriteJSON(w, http.StatusOK, map[string]any{"conversation": cv})
	})
}

// BackToBot handles POST /api/conversations/{id}/bot: the owner hands the chat back to
// the bot. After-sales chats stay with people (409 aftersale_stays).
func (c *Server) BackToBot() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		cv, err := c.desk.BackToBot(r.Context(), r.PathValue("id"), account.UserFrom(r).Name)
		deskErrors.Reply(w, r, http.StatusOK, map[string]any{"conversation": cv}, err)
	})
}

// SetMaxChats handles PUT /api/users/{name}/max_chats (admin): {"max_chats": N} sets how
// many chats the user may own at once; 0 means the desk's default.
func (c *Server) SetMaxChats() http.HandlerFunc {
	return c.admins(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			MaxChats int `json:"max_chats"`
		}
		if !web.ReadJSON(w, r, &req) {
			return
		}
		u, err := c.accounts.SetMaxChats(r.Context(), r.PathValue("name"), req.MaxChats)
		if err != nil {
			maxChatsErrors.Write(w, r, err)
			return
		}
		if err := c.desk.RenewCap(r.Context(), u.Name); err != nil {
			web.Fault(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("user", u.Name).Int("max_chats", u.MaxChats).Str("by", account.UserFrom(r).Name).Msg("limit set")
		web.WriteJSON(w, http.StatusOK, map[string]any{"name": u.Name, "max_chats": u.MaxChats})
	})
}
