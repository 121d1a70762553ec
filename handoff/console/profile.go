package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// People, not logins: every user's display name and avatar, set by themselves (个人资料)
// or by an admin, and whether they serve (接待中 / 暂停接待). Avatars are photos of the
// file store kept under account.AvatarConv; anyone may load them, shoppers too.

// SetProfile handles PATCH /api/me {display_name?, avatar?} (any signed-in user): a
// field left out is kept; avatar is the id of a photo uploaded with POST /api/avatars,
// or "" for none. It answers the user (account.PublicUser).
func (c *Server) SetProfile() http.HandlerFunc {
	return c.anyone(func(w http.ResponseWriter, r *http.Request) {
		c.setProfile(w, r, account.UserFrom(r).Name)
	})
}

// SetUserProfile handles PATCH /api/users/{name} {display_name?, avatar?, role?, group?,
// max_chats?, disabled?} (admin): a field left out is kept. The desk follows at once:
// a new limit, group or role applies to the user's presence, and a user who is disabled
// or no longer serves chats goes offline, their chats back to the queue. Disabling ends
// the user's sessions and API tokens (account.Service.UpdateUser); the last enabled
// admin cannot be disabled or demoted (409 last_admin). It answers the user
// (account.PublicUser) with "changed", the fields that changed.
func (c *Server) SetUserProfile() http.HandlerFunc {
	return c.admins(func(w http.ResponseWriter, r *http.Request) {
		var ch account.Change
		if !web.ReadJSON(w, r, &ch) {
			return
		}
		if !c.avatarStored(w, r, ch.Avatar) || !c.nameClean(w, ch.DisplayName) {
			return
		}
		ctx := r.Context()
		name := r.PathValue("name")
		var before account.User
		if ch.Role != nil {
			before, _ = c.accounts.User(ctx, name)
		}
		u, changed, err := c.accounts.UpdateUser(ctx, name, ch)
		if err != nil {
			maxChatsErrors.Write(w, r, err)
			return
		}
		c.auditChange(r, before, u, changed)
		c.desk.ForgetPerson(u.Name)
		if u.Disabled || !u.Role.Acts(account.RoleAgent, account.RoleAdmin) {
			err = c.desk.TakeOffline(ctx, u.Name)
		} else {
			err = c.desk.RenewCap(ctx, u.Name)
		}
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		zerolog.Ctx(ctx).Info().Str("user", u.Name).Strs("changed", changed).Str("by", account.UserFrom(r).Name).Msg("user changed")
		out := account.PublicUser(u)
		out["changed"] = nonNilStrings(changed)
		web.WriteJSON(w, http.StatusOK, out)
	})
}

// auditChange writes a change of user u to the audit log: a role change, disabling and
// enabling each as their own action, the other fields together.
func (c *Server) auditChange(r *http.Request, before, u account.User, changed []string) {
	by := account.UserFrom(r).Name
	var rest []string
	for _, f := range changed {
		switch f {
		case "role":
			c.audit.Add(r, by, audit.ActionRoleChanged, u.Name, string(before.Role)+" → "+string(u.Role))
		case "disabled":
			if u.Disabled {
				c.audit.Add(r, by, audit.ActionUserDisabled, u.Name, "sessions and API tokens ended")
			} else {
				c.audit.Add(r, by, audit.ActionUserEnabled, u.Name, "")
			}
		default:
			rest = append(rest, f)
		}
	}
	if len(rest) > 0 {
		c.audit.Add(r, by, audit.ActionUserChanged, u.Name, strings.Join(rest, ","))
	}
}

// nonNilStrings is ss, or an empty list for none.
func nonNilStrings(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// nameClean checks that a display name, which shoppers see by every message of the
// user, holds no outside contact details (the reply guard); if it does, it answers 422
// blocked_contact and returns false. A name has no override: it is not a reply.
func (c *Server) nameClean(w http.ResponseWriter, name *string) bool {
	if name == nil {
		return true
	}
	if found := c.desk.CheckContact(*name); len(found) > 0 {
		writeBlocked(w, "昵称", found)
		return false
	}
	return true
}

// avatarStored checks that avatar, when given and not "", is a stored avatar; if not,
// it answers 400 and returns false.
func (c *Server) avatarStored(w http.ResponseWriter, r *http.Request, avatar *string) bool {
	if avatar == nil || *avatar == "" {
		return true
	}
	if err := c.checkAvatar(r.Context(), *avatar); err != nil {
		if errors.Is(err, files.ErrNotFound) || errors.Is(err, errNoFiles) {
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "头像不存在，请重新上传")
			return false
		}
		web.Fault(w, r, err)
		return false
	}
	return true
}

func (c *Server) setProfile(w http.ResponseWriter, r *http.Request, name string) {
	var p account.Profile
	if !web.ReadJSON(w, r, &p) {
		return
	}
	if !c.avatarStored(w, r, p.Avatar) || !c.nameClean(w, p.DisplayName) {
		return
	}
	u, err := c.accounts.SetProfile(r.Context(), name, p)
	if err != nil {
		maxChatsErrors.Write(w, r, err)
		return
	}
	c.desk.ForgetPerson(u.Name)
	zerolog.Ctx(r.Context()).Info().Str("user", u.Name).Str("by", account.UserFrom(r).Name).Msg("profile set")
	web.WriteJSON(w, http.StatusOK, account.PublicUser(u))
}

// errNoFiles: uploads are off, so no avatar can be stored.
var errNoFiles = errors.New("file uploads are off")

// checkAvatar checks that avatar id is a stored avatar.
func (c *Server) checkAvatar(ctx context.Context, id string) error {
	if c.files == nil {
		return errNoFiles
	}
	_, err := c.files.Stat(ctx, account.AvatarConv, id)
	return err
}

// UploadAvatar handles POST /api/avatars (any signed-in user): one photo, as a chat's
// (files.Service.Accept), 201 {id, url, type, size}; PATCH /api/me or
// /api/users/{name} then makes it someone's avatar.
func (c *Server) UploadAvatar() http.HandlerFunc {
	return c.anyone(func(w http.ResponseWriter, r *http.Request) {
		if c.files == nil {
			web.WriteError(w, http.StatusServiceUnavailable, web.CodeUnavailable, "图片上传未开启")
			return
		}
		if up, ok := c.acceptAvatar(w, r); ok {
			zerolog.Ctx(r.Context()).Info().Str("user", account.UserFrom(r).Name).Str("file", up.ID).Msg("avatar uploaded")
		}
	})
}

// acceptAvatar stores the request's photo as an avatar and answers it with its public
// URL.
func (c *Server) acceptAvatar(w http.ResponseWriter, r *http.Request) (files.Uploaded, bool) {
	rec := &holdJSON{ResponseWriter: w}
	up, ok := c.files.Accept(rec, r, account.AvatarConv)
	if !ok {
		rec.flush()
		return up, false
	}
	up.URL = account.AvatarURL(up.ID)
	web.WriteJSON(w, http.StatusCreated, up)
	return up, true
}

// holdJSON holds back a successful answer of files.Service.Accept (its URL is a chat
// photo's signed one, which an avatar does not use) and passes errors on.
type holdJSON struct {
	http.ResponseWriter
	status int
	body   []byte
}

func (h *holdJSON) WriteHeader(code int) { h.status = code }

func (h *holdJSON) Write(b []byte) (int, error) {
	h.body = append(h.body, b...)
	return len(b), nil
}

// flush writes what was held back.
func (h *holdJSON) flush() {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	h.ResponseWriter.WriteHeader(h.status)
	h.ResponseWriter.Write(h.body)
}

// Avatar handles GET /avatars/{id}: the avatar, to anyone (shoppers load it without a
// token: it is not private); 404 not_found when there is none.
func (c *Server) Avatar(w http.ResponseWriter, r *http.Request) {
	if c.files == nil {
		web.WriteError(w, http.StatusNotFound, web.CodeNotFound, "头像不存在")
		return
	}
	f, info, err := c.files.Store().Open(r.Context(), account.AvatarConv, r.PathValue("id"))
	if err != nil {
		if errors.Is(err, files.ErrNotFound) || !avatarID(r.PathValue("id")) {
			web.WriteError(w, http.StatusNotFound, web.CodeNotFound, "头像不存在")
			return
		}
		web.Fault(w, r, err)
		return
	}
	defer f.Close()
	// An avatar's id never names other bytes: a new photo gets a new id.
	files.ServeImage(w, r, f, info, "public, max-age=86400, immutable")
}

// avatarID reports whether id may name a stored file.
func avatarID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// SetServing handles PUT /api/me/serving {"serving": true|false}: whether automatic
// assignment gives the user chats (接待中 / 暂停接待), kept for them until changed
// (docs/domain.md rule 19). It answers the user's AgentLoad.
func (c *Server) SetServing() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Serving *bool `json:"serving"`
		}
		if !web.ReadJSON(w, r, &req) {
			return
		}
		if req.Serving == nil {
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "serving 须为 true 或 false")
			return
		}
		me := account.UserFrom(r).Name
		if _, err := c.accounts.SetServing(r.Context(), me, *req.Serving); err != nil {
			web.Fault(w, r, err)
			return
		}
		if err := c.desk.RenewServing(r.Context(), me); err != nil {
			web.Fault(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("user", me).Bool("serving", *req.Serving).Msg("serving set")
		a, err := c.desk.AgentLoad(r.Context(), me)
		web.Reply(w, r, http.StatusOK, a, err)
	})
}
