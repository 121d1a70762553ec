package handoff

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// SessionCookie is the console's session cookie.
const SessionCookie = "kefu_session"

// MaxReplyRunes bounds an agent's message.
const MaxReplyRunes = 2000

// ConsoleConfig configures a Console.
type ConsoleConfig struct {
	// Desk is required.
	Desk *Desk
	// InsecureCookie drops the Secure flag of the session cookie, for plain-HTTP
	// deployments that are not on localhost. Browsers accept Secure cookies on
	// http://localhost, so the default suits local use and HTTPS.
	InsecureCookie bool
	Logger         zerolog.Logger
}

// Console serves the agents' API and web console.
type Console struct {
	desk   *Desk
	secure bool
	log    zerolog.Logger
	ui     *web.Page
}

// NewConsole returns a Console.
func NewConsole(cfg ConsoleConfig) (*Console, error) {
	if cfg.Desk == nil {
		return nil, errors.New("handoff: ConsoleConfig.Desk is required")
	}
	ui, err := newConsolePage()
	if err != nil {
		return nil, err
	}
	return &Console{desk: cfg.Desk, secure: !cfg.InsecureCookie, log: cfg.Logger, ui: ui}, nil
}

type userKey struct{}

// authed wraps h so that it runs only for a logged-in user with one of roles; the user
// is in the request's context (userFrom).
func (c *Console) authed(h http.HandlerFunc, roles ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, fromCookie := bearer(r), false
		if token == "" {
			if ck, err := r.Cookie(SessionCookie); err == nil {
				token, fromCookie = ck.Value, true
			}
		}
		u, err := c.desk.Authenticate(r.Context(), token)
		if errors.Is(err, ErrBadCredentials) {
			web.WriteError(w, http.StatusUnauthorized, web.CodeUnauthorized, "请先登录")
			return
		}
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		// A cookie is sent by the browser on its own, so a state-changing request that
		// relies on it must come from the console's own origin.
		if fromCookie && r.Method != http.MethodGet && !sameOrigin(r) {
			web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "请求来源不被允许")
			return
		}
		if len(roles) > 0 && !hasRole(u, roles) {
			web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "您的角色无权执行此操作")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	}
}

// hasRole reports whether u has one of roles. A lead is an agent who also approves
// after-sales refunds, so a lead may do what an agent may.
func hasRole(u User, roles []string) bool {
	for _, r := range roles {
		if u.Role == r || (u.Role == RoleLead && r == RoleAgent) {
			return true
		}
	}
	return false
}

func userFrom(r *http.Request) User { u, _ := r.Context().Value(userKey{}).(User); return u }

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// Login handles POST /api/login.
func (c *Console) Login(w http.ResponseWriter, r *http.Request) {
	var req struct{ Username, Password string }
	if !web.ReadJSON(w, r, &req) {
		return
	}
	token, u, err := c.desk.Login(r.Context(), req.Username, req.Password)
	if errors.Is(err, ErrBadCredentials) {
		web.WriteError(w, http.StatusUnauthorized, web.CodeBadCredentials, "用户名或密码错误")
		return
	}
	if err != nil {
		web.Fault(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: c.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(c.desk.ttl / time.Second),
	})
	zerolog.Ctx(r.Context()).Info().Str("user", u.Name).Msg("login")
	web.WriteJSON(w, http.StatusOK, map[string]any{"token": token, "user": publicUser(u)})
}

// Logout handles POST /api/logout.
func (c *Console) Logout(w http.ResponseWriter, r *http.Request) {
	token := bearer(r)
	if ck, err := r.Cookie(SessionCookie); token == "" && err == nil {
		token = ck.Value
	}
	if token != "" {
		if err := c.desk.Logout(r.Context(), token); err != nil {
			web.Fault(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	web.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func publicUser(u User) map[string]string {
	return map[string]string{"name": u.Name, "role": u.Role, "group": u.Group}
}

// Me handles GET /api/me: the user's name, role and group, and the desk's skill groups.
func (c *Console) Me() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		u := userFrom(r)
		web.WriteJSON(w, http.StatusOK, map[string]any{"name": u.Name, "role": u.Role, "group": u.Group, "groups": c.desk.Groups()})
	})
}

// entry is one line of the queue as the console shows it.
type entry struct {
	Conversation string `json:"conversation"`
	Status       string `json:"status"`
	Group        string `json:"group"`
	Reason       string `json:"reason"`
	Intent       string `json:"intent"`
	VIP          int    `json:"vip,omitempty"`
	Agent        string `json:"agent,omitempty"`
	WaitingS     int64  `json:"waiting_s"`
	EnqueuedAt   int64  `json:"enqueued_at"`
	Preview      string `json:"preview"`
	// AwaitingReply marks an active chat in which no agent has answered since its last
	// hand-off: its first-reply time runs from EnqueuedAt.
	AwaitingReply bool `json:"awaiting_reply,omitempty"`
}

// Queue handles GET /api/queue.
func (c *Console) Queue() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		u := userFrom(r)
		group := u.Group
		if u.Role == RoleAdmin {
			group = ""
		}
		waiting, err := c.desk.Waiting(r.Context(), group)
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		mine, err := c.desk.Owned(r.Context(), u.Name)
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		out := map[string][]entry{"waiting": c.entries(r.Context(), waiting), "mine": c.entries(r.Context(), mine)}
		web.WriteJSON(w, http.StatusOK, out)
	}, RoleAgent, RoleAdmin)
}

func (c *Console) entries(ctx context.Context, cs []Conversation) []entry {
	now := c.desk.now()
	out := make([]entry, 0, len(cs))
	for _, cv := range cs {
		e := entry{
			Conversation: cv.ID, Status: cv.Status, Group: cv.Group, Reason: cv.Reason,
			Intent: cv.Intent, VIP: cv.VIP, Agent: cv.Agent, EnqueuedAt: cv.EnqueuedAt.UnixMilli(),
			WaitingS: int64(now.Sub(cv.EnqueuedAt) / time.Second),
		}
		e.Preview = c.preview(ctx, cv)
		if cv.Status == StatusActive {
			e.AwaitingReply = c.awaitingReply(ctx, cv)
		}
		out = append(out, e)
	}
	return out
}

// preview returns the shopper's last message, shortened.
func (c *Console) preview(ctx context.Context, cv Conversation) string {
	msgs, err := c.desk.Messages(ctx, cv.ID, max(cv.Seq-20, 0), 0)
	if err != nil {
		return ""
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].From == FromShopper && msgs[i].Kind == KindMessage {
			t := msgs[i].Text
			if utf8.RuneCountInString(t) > 40 {
				t = string([]rune(t)[:40]) + "…"
			}
			return t
		}
	}
	return ""
}

// Conversation handles GET /api/conversations/{id}.
func (c *Console) Conversation() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		cv, err := c.desk.Conversation(r.Context(), r.PathValue("id"))
		if err != nil {
			writeDeskError(w, r, err)
			return
		}
		msgs, err := c.desk.Messages(r.Context(), cv.ID, 0, 0)
		if err != nil {
			writeDeskError(w, r, err)
			return
		}
		packet, err := c.desk.Packet(r.Context(), cv.ID)
		if err != nil {
			writeDeskError(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"conversation": cv, "messages": nonNil(msgs), "packet": packet})
	}, RoleAgent, RoleAdmin)
}

func nonNil(ms []Message) []Message {
	if ms == nil {
		return []Message{}
	}
	return ms
}

// Messages handles GET /api/conversations/{id}/messages?after=SEQ.
func (c *Console) Messages() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		if r.URL.Query().Get("after") == "" {
			after, err = 0, nil
		}
		if err != nil || after < 0 {
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "after 须为非负整数")
			return
		}
		msgs, err := c.desk.Messages(r.Context(), r.PathValue("id"), after, 0)
		if err != nil {
			writeDeskError(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"messages": nonNil(msgs)})
	}, RoleAgent, RoleAdmin)
}

// Claim handles POST /api/conversations/{id}/claim.
func (c *Console) Claim() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		u := userFrom(r)
		cv, err := c.desk.Conversation(r.Context(), r.PathValue("id"))
		if err != nil {
			writeDeskError(w, r, err)
			return
		}
		if u.Role != RoleAdmin && cv.Group != "" && cv.Group != u.Group {
			web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "该会话属于其他技能组")
			return
		}
		cv, err = c.desk.Claim(r.Context(), cv.ID, u.Name)
		if err != nil {
			writeDeskError(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("conv", cv.ID).Str("agent", u.Name).Msg("claimed")
		web.WriteJSON(w, http.StatusOK, map[string]any{"conversation": cv})
	}, RoleAgent, RoleAdmin)
}

// Reply handles POST /api/conversations/{id}/messages (console_reply.go).
func (c *Console) Reply() http.HandlerFunc { return c.authed(c.reply, RoleAgent, RoleAdmin) }

// Resolve handles POST /api/conversations/{id}/resolve.
func (c *Console) Resolve() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		cv, err := c.desk.Resolve(r.Context(), r.PathValue("id"), userFrom(r).Name)
		if err != nil {
			writeDeskError(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"conversation": cv})
	}, RoleAgent, RoleAdmin)
}

// Users handles GET /api/users.
func (c *Console) Users() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		us, err := c.desk.Users(r.Context())
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		out := make([]map[string]string, 0, len(us))
		for _, u := range us {
			out = append(out, publicUser(u))
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"users": out})
	}, RoleAdmin)
}

// AddUser handles POST /api/users.
func (c *Console) AddUser() http.HandlerFunc {
	return c.authed(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Username, Password, Role, Group string }
		if !web.ReadJSON(w, r, &req) {
			return
		}
		u, err := c.desk.AddUser(r.Context(), req.Username, req.Password, req.Role, req.Group)
		switch {
		case errors.Is(err, ErrBadUser):
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, err.Error())
		case errors.Is(err, ErrUserExists):
			web.WriteError(w, http.StatusConflict, web.CodeUserExists, "用户名已存在")
		case err != nil:
			web.Fault(w, r, err)
		default:
			zerolog.Ctx(r.Context()).Info().Str("user", u.Name).Str("by", userFrom(r).Name).Msg("user added")
			web.WriteJSON(w, http.StatusCreated, publicUser(u))
		}
	}, RoleAdmin)
}
