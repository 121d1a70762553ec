package console

import (
	"context"
	"embed"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// Accounts admits the console's requests by role and sets agents' chat limits;
// account.Service is the one Kefu runs with.
type Accounts interface {
	Require(roles ...account.Role) func(http.HandlerFunc) http.HandlerFunc
	SetMaxChats(ctx context.Context, name string, n int) (account.User, error)
	SetProfile(ctx context.Context, name string, p account.Profile) (account.User, error)
	SetServing(ctx context.Context, name string, on bool) (account.User, error)
	User(ctx context.Context, name string) (account.User, error)
	UpdateUser(ctx context.Context, name string, c account.Change) (account.User, []string, error)
	Recheck(r *http.Request) error
	// Ends tells an event stream that its session was signed out on this node.
	Ends(r *http.Request) (<-chan struct{}, func())
}

// Config configures a Server.
type Config struct {
	// Desk is required.
	Desk *handoff.Desk
	// Accounts is required.
	Accounts Accounts
	// Files receives the agents' photos and signs the URLs of the photos the console
	// shows; nil turns uploads off.
	Files *files.Service
	// Location is the shop's time zone, whose days the reports count (KEFU_TIMEZONE);
	// nil means Asia/Shanghai.
	Location *time.Location
	// Now is the clock of waiting times; nil means time.Now.
	Now func() time.Time
	// Audit receives changes of users and replies sent past the contact guard; nil
	// records none.
	Audit  *audit.Log
	Logger zerolog.Logger
}

// Server serves the agents' API, their event stream and the web console.
type Server struct {
	desk     *handoff.Desk
	accounts Accounts
	files    *files.Service
	audit    *audit.Log
	now      func() time.Time
	location *time.Location
	log      zerolog.Logger
	ui       *web.Page
	// agents admits agents (and so leads) and admins; admins, admins alone.
	agents, admins func(http.HandlerFunc) http.HandlerFunc
	// leads admits leads and admins (the reports).
	leads func(http.HandlerFunc) http.HandlerFunc
	// anyone admits every signed-in user (their own profile).
	anyone func(http.HandlerFunc) http.HandlerFunc
}

// uiFS holds the web console: its page template and static files.
//
//go:embed ui
var uiFS embed.FS

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Desk == nil || cfg.Accounts == nil {
		return nil, errors.New("console: Config.Desk and Accounts are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = ShopLocation
	}
	ui, err := web.NewPage(web.PageConfig{
		Files: uiFS, Template: "ui/console.html", Static: []string{"ui/*.css", "ui/*.js"}, Prefix: "/console/static/",
	})
	if err != nil {
		return nil, err
	}
	return &Server{
		desk: cfg.Desk, accounts: cfg.Accounts, files: cfg.Files, audit: cfg.Audit, now: cfg.Now, location: cfg.Location, log: cfg.Logger, ui: ui,
		agents: cfg.Accounts.Require(account.RoleAgent, account.RoleAdmin), admins: cfg.Accounts.Require(account.RoleAdmin),
		leads:  cfg.Accounts.Require(account.RoleLead, account.RoleAdmin),
		anyone: cfg.Accounts.Require(),
	}, nil
}

// Routes registers the console on mux: the page under /console, and the agents' API
// under /api/queue, /api/events, /api/conversations, /api/canned, /api/phrasebook,
// /api/presence, /api/me/load, /api/users/{name}/max_chats, and people's profiles and
// serving: PATCH /api/me, PATCH /api/users/{name}, POST /api/avatars, GET /avatars/{id}
// and PUT /api/me/serving (profile.go), and the leads' reports: GET /api/stats and GET
// /api/stats.csv (stats.go).
func (c *Server) Routes(mux *http.ServeMux) {
	mux.Handle("GET /console", c.ui)
	mux.HandleFunc("GET /console/static/{file}", c.ui.ServeStatic)
	mux.HandleFunc("GET /api/queue", c.Queue())
	mux.HandleFunc("GET /api/events", c.Events())
	mux.HandleFunc("GET /api/conversations/{id}", c.Conversation())
	mux.HandleFunc("GET /api/conversations/{id}/messages", c.Messages())
	mux.HandleFunc("POST /api/conversations/{id}/claim", c.Claim())
	mux.HandleFunc("POST /api/conversations/{id}/messages", c.Reply())
	mux.HandleFunc("POST /api/conversations/{id}/uploads", c.Upload())
	mux.HandleFunc("POST /api/conversations/{id}/resolve", c.Resolve())
	mux.HandleFunc("GET /api/canned", c.Canned())
	mux.HandleFunc("GET /api/phrasebook", c.GetPhrasebook())
	mux.HandleFunc("PUT /api/phrasebook", c.PutPhrasebook())
	mux.HandleFunc("GET /api/conversations/{id}/notes", c.GetNotes())
	mux.HandleFunc("POST /api/conversations/{id}/notes", c.PostNote())
	mux.HandleFunc("POST /api/conversations/{id}/transfer", c.Transfer())
	mux.HandleFunc("POST /api/conversations/{id}/bot", c.BackToBot())
	mux.HandleFunc("POST /api/presence", c.Presence())
	mux.HandleFunc("GET /api/presence", c.Agents())
	mux.HandleFunc("GET /api/me/load", c.Load())
	mux.HandleFunc("PUT /api/users/{name}/max_chats", c.SetMaxChats())
	mux.HandleFunc("PATCH /api/me", c.SetProfile())
	mux.HandleFunc("PATCH /api/users/{name}", c.SetUserProfile())
	mux.HandleFunc("POST /api/avatars", c.UploadAvatar())
	mux.HandleFunc("GET /avatars/{id}", c.Avatar)
	mux.HandleFunc("PUT /api/me/serving", c.SetServing())
	mux.HandleFunc("GET /api/stats", c.Stats())
	mux.HandleFunc("GET /api/stats.csv", c.StatsCSV())
}

// entry is one line of the queue as the console shows it.
type entry struct {
	Conversation string         `json:"conversation"`
	Status       handoff.Status `json:"status"`
	Group        handoff.Group  `json:"group"`
	Reason       string         `json:"reason"`
	Intent       string         `json:"intent"`
	VIP          int            `json:"vip,omitempty"`
	// Lang is the language the shopper's widget speaks (zh, en).
	Lang       handoff.Lang `json:"lang"`
	Agent      string       `json:"agent,omitempty"`
	WaitingS   int64        `json:"waiting_s"`
	EnqueuedAt int64        `json:"enqueued_at"`
	ClaimedAt  int64        `json:"claimed_at,omitempty"`
	// Order is the chat's place in its queue while it waits: the console keeps its
	// waiting list sorted by it (then by conversation id).
	Order int64 `json:"order,omitempty"`
	// Preview is the shopper's last message, shortened; an event's entry has it only when
	// the event carries a shopper's message (nil: keep the one shown).
	Preview *string `json:"preview,omitempty"`
	// AwaitingReply marks an active chat in which no agent has answered since its last
	// hand-off: its first-reply time runs from EnqueuedAt.
	AwaitingReply bool `json:"awaiting_reply,omitempty"`
}

// entryOf is the queue line of cv as of now, without what only its log tells.
func entryOf(cv handoff.Conversation, now time.Time) entry {
	e := entry{
		Conversation: cv.ID, Status: cv.Status, Group: cv.Group, Reason: string(cv.Reason),
		Intent: string(cv.Intent), VIP: cv.VIP, Lang: cv.Lang.Of(), Agent: cv.Agent, EnqueuedAt: cv.EnqueuedAt.UnixMilli(),
		WaitingS: int64(now.Sub(cv.EnqueuedAt) / time.Second),
	}
	if !cv.ClaimedAt.IsZero() {
		e.ClaimedAt = cv.ClaimedAt.UnixMilli()
	}
	if _, k, ok := cv.Waiting(); ok {
		e.Order = k.Score
	}
	e.AwaitingReply = cv.AwaitingReply()
	return e
}

// Queue handles GET /api/queue: the waiting chats the agent may take and the agent's
// own. The console reads it once and then follows the event stream (Events).
func (c *Server) Queue() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		u := account.UserFrom(r)
		waiting, err := c.desk.Waiting(r.Context(), groupSeen(u))
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
	})
}

// groupSeen is the group whose chats and agents u sees: their own, or every group ("")
// for an admin.
func groupSeen(u account.User) handoff.Group {
	if u.Role == account.RoleAdmin {
		return ""
	}
	return handoff.Group(u.Group)
}

// entries are the queue lines of cs, with what their logs tell.
func (c *Server) entries(ctx context.Context, cs []handoff.Conversation) []entry {
	now := c.now()
	out := make([]entry, 0, len(cs))
	for _, cv := range cs {
		e := entryOf(cv, now)
		msgs, err := c.desk.Messages(ctx, cv.ID, max(cv.Seq-previewScan, 0), 0)
		if err == nil {
			p, _ := preview(msgs)
			e.Preview = &p
		}
		out = append(out, e)
	}
	return out
}

// previewScan is how many of a chat's last records the queue reads for its preview.
const previewScan = 20

// preview returns the shopper's last message in msgs, shortened; ok is false when msgs
// hold none.
func preview(msgs []handoff.Message) (string, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].From == handoff.FromShopper && msgs[i].Kind == handoff.KindMessage {
			t := msgs[i].Text
			if t == "" && len(msgs[i].Attachments) > 0 {
				t = "[图片]"
			}
			if utf8.RuneCountInString(t) > 40 {
				t = string([]rune(t)[:40]) + "…"
			}
			return t, true
		}
	}
	return "", false
}

// Conversation handles GET /api/conversations/{id}: the record, its log and the context
// packet, for whoever may read it (handoff.Desk.MayRead; 403 forbidden otherwise).
func (c *Server) Conversation() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		cv, err := c.desk.ConversationFor(r.Context(), account.UserFrom(r), r.PathValue("id"))
		if err != nil {
			deskErrors.Write(w, r, err)
			return
		}
		msgs, err := c.desk.Messages(r.Context(), cv.ID, 0, 0)
		if err != nil {
			deskErrors.Write(w, r, err)
			return
		}
		packet, err := c.desk.Packet(r.Context(), cv.ID)
		deskErrors.Reply(w, r, http.StatusOK, map[string]any{"conversation": cv, "messages": nonNil(c.withURLs(cv.ID, msgs)), "packet": packet}, err)
	})
}

func nonNil(ms []handoff.Message) []handoff.Message {
	if ms == nil {
		return []handoff.Message{}
	}
	return ms
}

// Messages handles GET /api/conversations/{id}/messages?after=SEQ, for whoever may read
// the conversation.
func (c *Server) Messages() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		if r.URL.Query().Get("after") == "" {
			after, err = 0, nil
		}
		if err != nil || after < 0 {
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "after 须为非负整数")
			return
		}
		if _, err := c.desk.ConversationFor(r.Context(), account.UserFrom(r), r.PathValue("id")); err != nil {
			deskErrors.Write(w, r, err)
			return
		}
		msgs, err := c.desk.Messages(r.Context(), r.PathValue("id"), after, 0)
		deskErrors.Reply(w, r, http.StatusOK, map[string]any{"messages": nonNil(c.withURLs(r.PathValue("id"), msgs))}, err)
	})
}

// Claim handles POST /api/conversations/{id}/claim.
func (c *Server) Claim() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		u := account.UserFrom(r)
		cv, err := c.desk.Conversation(r.Context(), r.PathValue("id"))
		if err != nil {
			deskErrors.Write(w, r, err)
			return
		}
		if u.Role != account.RoleAdmin && cv.Group != "" && string(cv.Group) != u.Group {
			web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "该会话属于其他技能组")
			return
		}
		cv, err = c.desk.Claim(r.Context(), cv.ID, u.Name)
		if err != nil {
			deskErrors.Write(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("conv", cv.ID).Str("agent", u.Name).Msg("claimed")
		web.WriteJSON(w, http.StatusOK, map[string]any{"conversation": cv})
	})
}

// Reply handles POST /api/conversations/{id}/messages (reply.go).
func (c *Server) Reply() http.HandlerFunc { return c.agents(c.reply) }

// Resolve handles POST /api/conversations/{id}/resolve.
func (c *Server) Resolve() http.HandlerFunc {
	return c.agents(func(w http.ResponseWriter, r *http.Request) {
		cv, err := c.desk.Resolve(r.Context(), r.PathValue("id"), account.UserFrom(r).Name)
		deskErrors.Reply(w, r, http.StatusOK, map[string]any{"conversation": cv}, err)
	})
}
