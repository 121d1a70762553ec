package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/audit"
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
	Files *files.Service
	// Audit receives remedies sent past the contact guard; nil records none.
	Audit  *audit.Log
	Logger zerolog.Logger
}

// TicketAPI serves the console's after-sales ticket API.
type TicketAPI struct {
	desk  *handoff.Desk
	files *files.Service
	audit *audit.Log
	log   zerolog.Logger
	// staff admits agents, leads and admins; leads, leads and admins.
	staff, leads func(http.HandlerFunc) http.HandlerFunc
}

// NewTicketAPI returns a TicketAPI.
func NewTicketAPI(cfg TicketAPIConfig) (*TicketAPI, error) {
	if cfg.Accounts == nil || cfg.Desk == nil {
		return nil, errors.New("console: TicketAPIConfig.Desk and Accounts are required")
	}
	return &TicketAPI{
		desk: cfg.Desk, files: cfg.Files, audit: cfg.Audit, log: cfg.Logger,
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

// Create handles POST /api/tickets: a ticket on a conversation that exists and that
// the agent may open one on (handoff.Desk.OpenTicket), its remedy past the contact
// guard (422 blocked_contact, or override with override_reason).
func (a *TicketAPI) Create() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request) {
		var d handoff.TicketDraft
		if !web.ReadJSON(w, r, &d) {
			return
		}
		u := account.UserFrom(r)
		t, err := a.desk.OpenTicket(r.Context(), d, u)
		if err != nil {
			writeTicketError(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("ticket", t.ID).Str("conv", t.Conversation).Str("type", t.Type).Str("by", u.Name).Msg("ticket opened")
		if d.Override {
			a.recordOverride(r, t, d.OverrideReason)
		}
		web.WriteJSON(w, http.StatusCreated, map[string]any{"ticket": t})
	})
}

// writeTicketError answers err: a remedy the contact guard blocked as a refused reply
// is (422 blocked_contact with what was found, masked), the rest by ticketErrors.
func writeTicketError(w http.ResponseWriter, r *http.Request, err error) {
	var blocked *handoff.ContactBlocked
	if errors.As(err, &blocked) {
		writeBlocked(w, "处理方案", blocked.Found)
		return
	}
	ticketErrors.Write(w, r, err)
}

// recordOverride logs and audits a remedy of ticket t sent past the contact guard, if
// the guard finds anything in it, masked, as reply overrides are.
func (a *TicketAPI) recordOverride(r *http.Request, t handoff.Ticket, reason string) {
	found := a.desk.CheckContact(t.Remedy.Text)
	if len(found) == 0 {
		return
	}
	kinds := make([]string, len(found))
	for i, f := range found {
		kinds[i] = f.Kind + " " + f.Masked
	}
	me := account.UserFrom(r).Name
	why := loggableReason(a.desk, reason)
	zerolog.Ctx(r.Context()).Warn().Str("ticket", t.ID).Str("conv", t.Conversation).Str("by", me).
		Strs("found", kinds).Str("reason", why).Msg("ticket remedy sent past the contact guard")
	a.audit.Add(r, me, audit.ActionGuardOverride, t.ID,
		fmt.Sprintf("ticket remedy: %s; reason: %s", strings.Join(kinds, ", "), why))
}

// List handles GET /api/tickets?status=&conversation=&type=&group=: the tickets the user
// may read (handoff.Desk.MayReadTicket).
func (a *TicketAPI) List() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := handoff.TicketFilter{
			Status: strings.TrimSpace(q.Get("status")), Conversation: strings.TrimSpace(q.Get("conversation")),
			Type: strings.TrimSpace(q.Get("type")), Group: handoff.Group(strings.TrimSpace(q.Get("group"))),
		}
		ts, err := a.desk.TicketsFor(r.Context(), account.UserFrom(r), f)
		ticketErrors.Reply(w, r, http.StatusOK, map[string]any{"tickets": nonNilTickets(ts)}, err)
	})
}

// Get handles GET /api/tickets/{id}: {ticket, photos}, the photos sent in the ticket's
// conversation being its evidence; 403 for a ticket the user may not read
// (handoff.Desk.MayReadTicket).
func (a *TicketAPI) Get() http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request) {
		t, err := a.desk.TicketFor(r.Context(), account.UserFrom(r), r.PathValue("id"))
		if err != nil {
			ticketErrors.Write(w, r, err)
			return
		}
		photos := []handoff.Attachment{}
		if a.files != nil && t.Conversation != "" && a.mayRead(r, t.Conversation) {
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

// nonNilTickets is ts, or an empty list for none.
func nonNilTickets(ts []handoff.Ticket) []handoff.Ticket {
	if ts == nil {
		return []handoff.Ticket{}
	}
	return ts
}

// mayRead reports whether the request's user may read conversation conv, whose photos
// a ticket shows (handoff.Desk.MayRead); a conversation that is gone shows none.
func (a *TicketAPI) mayRead(r *http.Request, conv string) bool {
	_, err := a.desk.ConversationFor(r.Context(), account.UserFrom(r), conv)
	return err == nil
}

// Transition handles POST /api/tickets/{id}/transition {to, note, remedy, override,
// override_reason}. This and every other change is made only by those who may read the
// ticket (handoff.Desk.TransitionTicket), 403 otherwise.
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
	t, err := a.desk.TransitionTicket(r.Context(), r.PathValue("id"), ch, u)
	if err != nil {
		writeTicketError(w, r, err)
		return
	}
	if ch.Override && t.Status == handoff.TicketAwaitingConfirmation {
		a.recordOverride(r, t, ch.OverrideReason)
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
