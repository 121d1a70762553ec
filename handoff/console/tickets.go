package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// TicketAPIConfig configures a TicketAPI.
type TicketAPIConfig struct {
	// Desk is required: its tickets are the ones the API changes, and every change the
	// shopper is told of becomes a ticket card in the ticket's conversation
	// (Desk.AnnounceTicket): the widget shows a proposed remedy for confirmation, and what
	// became of it.
	Desk *handoff.Desk
	// Accounts admits requests by role; required.
	Accounts interface {
		Require(roles ...account.Role) func(http.HandlerFunc) http.HandlerFunc
	}
	// Files signs the URLs of the photos of a ticket's conversation, its evidence; nil
	// shows none.
	Files  *files.Service
	Logger zerolog.Logger
}

// TicketAPI serves the console's after-sales ticket API.
type TicketAPI struct {
	tickets *handoff.Tickets
	desk    *handoff.Desk
	files   *files.Service
	log     zerolog.Logger
	// staff admits agents, leads and admins; leads, leads and admins.
	staff, leads func(http.HandlerFunc) http.HandlerFunc
}

// NewTicketAPI returns a TicketAPI.
func NewTicketAPI(cfg TicketAPIConfig) (*TicketAPI, error) {
	if cfg.Accounts == nil || cfg.Desk == nil {
		return nil, errors.New("console: TicketAPIConfig.Desk and Accounts are required")
	}
	return &TicketAPI{
		tickets: cfg.Desk.Tickets(), desk: cfg.Desk, files: cfg.Files, log: cfg.Logger,
		staff: cfg.Accounts.Require(account.RoleAgent, account.RoleLead, account.RoleAdmin),
		leads: cfg.Accounts.Require(account.RoleLead, account.RoleAdmin),
	}, nil
}

// Routes registers the ticket API on mux, under /api/tickets.
func (a *TicketAPI) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/tickets", a.Create())
	mux.HandleFunc("GET /api/tickets", a.List())
	mux.HandleFunc("GET /api/tickets/{id}", a.Get())
	mux.HandleFunc("POST /api/tickets/{id}/transition", a.Transition())
	mux.HandleFunc("POST /api/tickets/{id}/approve", a.Approve())
	mux.HandleFunc("POST /api/tickets/{id}/reject", a.Reject())
}

// Create handles POST /api/tickets.
func (a *TicketAPI) Create() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request) {
		var d handoff.TicketDraft
		if !web.ReadJSON(w, r, &d) {
			return
		}
		u := account.UserFrom(r)
		t, err := a.tickets.Open(r.Context(), d, u)
		if err != nil {
			ticketErrors.Write(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("ticket", t.ID).Str("conv", t.Conversation).Str("type", t.Type).Str("by", u.Name).Msg("ticket opened")
		web.WriteJSON(w, http.StatusCreated, map[string]any{"ticket": t})
	})
}

// List handles GET /api/tickets?status=&conversation=&type=&group=.
func (a *TicketAPI) List() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := handoff.TicketFilter{
			Status: strings.TrimSpace(q.Get("status")), Conversation: strings.TrimSpace(q.Get("conversation")),
			Type: strings.TrimSpace(q.Get("type")), Group: handoff.Group(strings.TrimSpace(q.Get("group"))),
		}
		ts, err := a.tickets.List(r.Context(), f)
		ticketErrors.Reply(w, r, http.StatusOK, map[string]any{"tickets": ts}, err)
	})
}

// Get handles GET /api/tickets/{id}: {ticket, photos}, the photos sent in the ticket's
// conversation being its evidence.
func (a *TicketAPI) Get() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request) {
		t, err := a.tickets.Ticket(r.Context(), r.PathValue("id"))
		if err != nil {
			ticketErrors.Write(w, r, err)
			return
		}
		photos := []handoff.Attachment{}
		if a.files != nil && t.Conversation != "" {
			if photos, err = a.desk.Photos(r.Context(), t.Conversation, a.files.URL); err != nil && !errors.Is(err, handoff.ErrNotFound) {
				web.Fault(w, r, err)
				return
			}
		}
		if photos == nil {
			photos = []handoff.Attachment{}
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"ticket": t, "photos": photos})
	})
}

// Transition handles POST /api/tickets/{id}/transition {to, note, remedy}.
func (a *TicketAPI) Transition() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request) {
		var ch handoff.TicketChange
		if !web.ReadJSON(w, r, &ch) {
			return
		}
		a.change(w, r, ch)
	})
}

// Approve handles POST /api/tickets/{id}/approve {note}, for leads and admins.
func (a *TicketAPI) Approve() http.HandlerFunc { return a.decide(handoff.TicketApproved) }

// Reject handles POST /api/tickets/{id}/reject {note}, for leads and admins.
func (a *TicketAPI) Reject() http.HandlerFunc { return a.decide(handoff.TicketRejected) }

func (a *TicketAPI) decide(to string) http.HandlerFunc {
	return a.leads(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Note string `json:"note"`
		}
		if r.ContentLength != 0 && !web.ReadJSON(w, r, &req) {
			return
		}
		a.change(w, r, handoff.TicketChange{To: to, Note: req.Note})
	})
}

func (a *TicketAPI) change(w http.ResponseWriter, r *http.Request, ch handoff.TicketChange) {
	u := account.UserFrom(r)
	t, err := a.tickets.Transition(r.Context(), r.PathValue("id"), ch, u)
	if err != nil {
		ticketErrors.Write(w, r, err)
		return
	}
	zerolog.Ctx(r.Context()).Info().Str("ticket", t.ID).Str("to", t.Status).Str("by", u.Name).Msg("ticket changed")
	if err := a.desk.AnnounceTicket(r.Context(), t); err != nil {
		// The ticket has moved and the agent sees it; the shopper sees the change with
		// the ticket's next announced change (a proposal can be withdrawn and proposed
		// again).
		zerolog.Ctx(r.Context()).Error().Err(err).Str("ticket", t.ID).Msg("announcing ticket to the shopper")
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"ticket": t})
}
