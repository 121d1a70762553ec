package handoff

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/internal/account"
)

// Ticket types.
const (
	TicketReturn       = "return"
	TicketExchange     = "exchange"
	TicketRefund       = "refund"
	TicketRepair       = "repair"
	TicketResend       = "resend"
	TicketCompensation = "compensation"
	TicketInvoice      = "invoice"
)

// TicketTypes lists every after-sales ticket type, those an agent opens.
var TicketTypes = []string{TicketReturn, TicketExchange, TicketRefund, TicketRepair, TicketResend, TicketCompensation, TicketInvoice}

// TicketMessage is the type of a ticket a shopper leaves when nobody can serve them
// (LeaveMessage): their message, with a contact and an order number if they gave them.
const TicketMessage = "message"

// Ticket statuses. Resolved, rejected and cancelled are final.
const (
	TicketOpen                 = "open"
	TicketAwaitingConfirmation = "awaiting_confirmation"
	TicketAwaitingApproval     = "awaiting_approval"
	TicketApproved             = "approved"
	TicketInProgress           = "in_progress"
	TicketResolved             = "resolved"
	TicketRejected             = "rejected"
	TicketCancelled            = "cancelled"
)

// TicketStatuses lists every ticket status.
var TicketStatuses = []string{TicketOpen, TicketAwaitingConfirmation, TicketAwaitingApproval, TicketApproved, TicketInProgress, TicketResolved, TicketRejected, TicketCancelled}

// Evidence a ticket asks the shopper for.
const (
	EvidenceWaybill      = "waybill"
	EvidenceProductPhoto = "product_photo"
	EvidenceDefectPhoto  = "defect_photo"
)

// EvidenceKinds lists every kind of evidence, in the order a ticket keeps them.
var EvidenceKinds = []string{EvidenceWaybill, EvidenceProductPhoto, EvidenceDefectPhoto}

// RoleShopper is the Role of history events written by the shopper (Confirm, Decline).
// Shoppers have no account: no user has this role.
const RoleShopper account.Role = "shopper"

// maxTicketList bounds what one listing of tickets returns.
const maxTicketList = 200

// Remedy is the solution proposed to the shopper.
type Remedy struct {
	Text string `json:"text"`
	// AmountFen is the money in fen (0.01 yuan) for a refund or compensation; 0 otherwise.
	AmountFen int64 `json:"amount_fen,omitempty"`
}

// Confirmation records the shopper's explicit consent to the proposed remedy.
type Confirmation struct {
	Shopper string    `json:"shopper"`
	At      time.Time `json:"at"`
}

// TicketEvent is one entry of a ticket's status history.
type TicketEvent struct {
	From string       `json:"from,omitempty"` // "" for the creation
	To   string       `json:"to"`
	By   string       `json:"by"`
	Role account.Role `json:"role"`
	At   time.Time    `json:"at"`
	Note string       `json:"note,omitempty"`
}

// Ticket is an after-sales case (售后工单), opened by an agent from a chat.
type Ticket struct {
	// ID is AS-YYYYMMDD-NNNNNN: the day it was opened (China time) and that day's
	// counter, of six digits or more (TicketID).
	ID           string `json:"id"`
	Conversation string `json:"conversation"`
	// Order is the order number; a left message may have none.
	Order string `json:"order"`
	Type  string `json:"type"`
	// Reason is why the ticket was opened; for a left message, the shopper's message.
	Reason string `json:"reason"`
	// Group is the skill group whose agents handle a left message: the group of the
	// queue the shopper left.
	Group Group `json:"group,omitempty"`
	// Contact is how the shopper who left a message asks to be reached, if they said.
	Contact string `json:"contact,omitempty"`
	// Key is the id of the widget frame that left the message, so that a resend finds
	// the ticket it made.
	Key          string        `json:"key,omitempty"`
	Evidence     []string      `json:"evidence"`
	Remedy       Remedy        `json:"remedy"`
	Status       string        `json:"status"`
	Confirmation *Confirmation `json:"confirmation,omitempty"`
	CreatedBy    string        `json:"created_by"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
	// Rev counts the ticket's changes; a change is stored only if Rev is still the one read.
	Rev int64 `json:"rev"`
	// History is every status change, oldest first; listings leave it out.
	History []TicketEvent `json:"history,omitempty"`
}

// TicketFilter selects tickets; empty fields match any.
type TicketFilter struct {
	Status       string
	Conversation string
	Type         string
	Group        Group
	// Limit is how many tickets a listing returns at most; 0 means all.
	Limit int
}

// Match reports whether t passes the filter.
func (f TicketFilter) Match(t Ticket) bool {
	return (f.Status == "" || t.Status == f.Status) && (f.Conversation == "" || t.Conversation == f.Conversation) &&
		(f.Type == "" || t.Type == f.Type) && (f.Group == "" || t.Group == f.Group)
}

// Listed puts tickets that match f in the order of a listing, newest first (ties: the
// highest id first), and keeps the first f.Limit: what TicketStore.Tickets returns.
func (f TicketFilter) Listed(ts []Ticket) []Ticket {
	slices.SortFunc(ts, func(a, b Ticket) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return compareTicketIDs(b.ID, a.ID)
	})
	if f.Limit > 0 && len(ts) > f.Limit {
		ts = ts[:f.Limit]
	}
	return ts
}

// TicketStore keeps tickets. The engines of handoff/boltstore and handoff/redisstore
// implement it.
type TicketStore interface {
	// CreateTicket stores t as a new ticket under the next id of day (YYYYMMDD, counted
	// by the engine, formatted by TicketID) and returns it with its ID, Rev 1 and the
	// creation event as its History.
	CreateTicket(ctx context.Context, day string, t Ticket, created TicketEvent) (Ticket, error)
	// Ticket returns the ticket with its history, or ErrNotFound.
	Ticket(ctx context.Context, id string) (Ticket, error)
	// Tickets returns up to f.Limit tickets matching f, newest first (ties: the highest
	// id first), without history.
	Tickets(ctx context.Context, f TicketFilter) ([]Ticket, error)
	// UpdateTicket replaces the ticket next.ID with next and appends ev to its history,
	// atomically, if its status is still ev.From and its Rev still next.Rev; it returns
	// the stored ticket (Rev bumped). A ticket that changed gives ErrTicketStale, and an
	// unknown one ErrNotFound.
	UpdateTicket(ctx context.Context, next Ticket, ev TicketEvent) (Ticket, error)
}

// ErrTicketStale is returned by TicketStore.UpdateTicket for a ticket that changed since
// it was read.
var ErrTicketStale = errors.New("ticket changed since it was read")

// TicketID formats the n-th ticket id of day: AS-YYYYMMDD-NNNNNN, the counter padded
// to six digits and longer past 999,999, so a day's ids never run out and every id
// ever given keeps its form.
func TicketID(day string, n int64) (string, error) {
	if n < 1 {
		return "", fmt.Errorf("ticket counter of %s at %d: not a counter", day, n)
	}
	return fmt.Sprintf("AS-%s-%06d", day, n), nil
}

// compareTicketIDs orders ticket ids as their days and counters do: a longer id of the
// same day has the higher counter (AS-…-1000000 after AS-…-999999).
func compareTicketIDs(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// TicketsConfig configures Tickets.
type TicketsConfig struct {
	// Store is required.
	Store TicketStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the time zone of the day in ticket ids; nil means China Standard
	// Time (UTC+8).
	Location *time.Location
	// Guard finds outside contact details in a remedy the shopper will see (the desk's
	// reply guard, Desk.CheckContact); nil checks nothing.
	Guard func(text string) []ContactFinding
	// ApprovalCapFen is the largest amount, in fen, that a lead may approve; a larger
	// one needs an admin. 0 means DefaultApprovalCapFen, a negative number no cap.
	ApprovalCapFen int64
}

// DefaultApprovalCapFen is the approval cap unless configured: ¥5,000.
const DefaultApprovalCapFen = 500_000

// Tickets opens after-sales tickets and changes their status by the rules of
// ticketRules. It does not depend on the Desk, so the widget can confirm too.
type Tickets struct {
	store    TicketStore
	now      func() time.Time
	loc      *time.Location
	guard    func(string) []ContactFinding
	capFen   int64 // < 0: no cap
	notifier Notifier
}

// NewTickets returns Tickets.
func NewTickets(cfg TicketsConfig) (*Tickets, error) {
	if cfg.Store == nil {
		return nil, errors.New("handoff: TicketsConfig.Store is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*60*60)
	}
	if cfg.ApprovalCapFen == 0 {
		cfg.ApprovalCapFen = DefaultApprovalCapFen
	}
	return &Tickets{store: cfg.Store, now: cfg.Now, loc: cfg.Location, guard: cfg.Guard, capFen: cfg.ApprovalCapFen}, nil
}

// TicketDraft is what an agent fills in to open a ticket.
type TicketDraft struct {
	Conversation string   `json:"conversation"`
	Order        string   `json:"order"`
	Type         string   `json:"type"`
	Reason       string   `json:"reason"`
	Evidence     []string `json:"evidence"`
	Remedy       Remedy   `json:"remedy"`
	// Override lets a remedy with outside contact details through the guard, for
	// OverrideReason (required with it); the caller records it in the audit log.
	Override       bool   `json:"override,omitempty"`
	OverrideReason string `json:"override_reason,omitempty"`
}

var (
	orderPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	convPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

const maxTicketText = 500

// maxOverrideReason bounds the reason of a guard override, as for replies.
const maxOverrideReason = 200

// CheckRemedyContact passes a remedy's text, which the shopper sees as the ticket's
// card, through the guard: outside contact details give a ContactBlocked unless
// override, which needs a reason. It returns what the guard found, for the caller to
// record an override.
func (tk *Tickets) CheckRemedyContact(text string, override bool, reason string) ([]ContactFinding, error) {
	if tk.guard == nil || text == "" {
		return nil, nil
	}
	found := tk.guard(text)
	switch {
	case len(found) == 0:
		return nil, nil
	case !override:
		return found, &ContactBlocked{Found: found}
	case strings.TrimSpace(reason) == "":
		return found, badTicket("放行站外联系方式须填写原因")
	case utf8.RuneCountInString(reason) > maxOverrideReason:
		return found, badTicket("放行原因最多 %d 个字", maxOverrideReason)
	}
	return found, nil
}

func badTicket(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadTicket}, args...)...)
}

// checkRemedy checks a remedy for a ticket of type typ; proposed means it is about to
// be shown to the shopper, so it must be complete.
func checkRemedy(typ string, r Remedy, proposed bool) error {
	money := typ == TicketRefund || typ == TicketCompensation
	switch {
	case utf8.RuneCountInString(r.Text) > maxTicketText:
		return badTicket("处理方案最多 %d 个字", maxTicketText)
	case r.AmountFen < 0:
		return badTicket("金额不能为负")
	case r.AmountFen > 0 && !money:
		return badTicket("只有退款和补偿可以填写金额")
	case proposed && r.Text == "":
		return badTicket("请先填写处理方案")
	case proposed && money && r.AmountFen == 0:
		return badTicket("退款和补偿须填写金额")
	}
	return nil
}

// Open opens a ticket from d on behalf of by.
func (tk *Tickets) Open(ctx context.Context, d TicketDraft, by account.User) (Ticket, error) {
	if !isStaff(by.Role) {
		return Ticket{}, ErrRoleNotAllowed
	}
	switch {
	case !convPattern.MatchString(d.Conversation):
		return Ticket{}, badTicket("会话编号无效")
	case !orderPattern.MatchString(d.Order):
		return Ticket{}, badTicket("订单号须为 1-64 个字母、数字或 _ -")
	case !slices.Contains(TicketTypes, d.Type):
		return Ticket{}, badTicket("未知工单类型 %q", d.Type)
	case d.Reason == "" || utf8.RuneCountInString(d.Reason) > maxTicketText:
		return Ticket{}, badTicket("原因须为 1-%d 个字", maxTicketText)
	}
	if err := checkRemedy(d.Type, d.Remedy, false); err != nil {
		return Ticket{}, err
	}
	if _, err := tk.CheckRemedyContact(d.Remedy.Text, d.Override, d.OverrideReason); err != nil {
		return Ticket{}, err
	}
	evidence := []string{}
	for _, e := range d.Evidence {
		if !slices.Contains(EvidenceKinds, e) {
			return Ticket{}, badTicket("未知凭证类型 %q", e)
		}
	}
	for _, e := range EvidenceKinds {
		if slices.Contains(d.Evidence, e) {
			evidence = append(evidence, e)
		}
	}
	now := tk.now()
	t := Ticket{
		Conversation: d.Conversation, Order: d.Order, Type: d.Type, Reason: d.Reason,
		Evidence: evidence, Remedy: d.Remedy, Status: TicketOpen,
		CreatedBy: by.Name, CreatedAt: now, UpdatedAt: now,
	}
	ev := TicketEvent{To: TicketOpen, By: by.Name, Role: by.Role, At: now}
	t, err := tk.store.CreateTicket(ctx, now.In(tk.loc).Format("20060102"), t, ev)
	if err != nil {
		return Ticket{}, fmt.Errorf("creating ticket: %w", err)
	}
	tk.notifyTicket(ctx, NoticeTicketNew, t)
	return t, nil
}

// Ticket returns a ticket with its history, or ErrNotFound.
func (tk *Tickets) Ticket(ctx context.Context, id string) (Ticket, error) {
	return tk.store.Ticket(ctx, id)
}

// List returns the tickets matching f, newest first, without history.
func (tk *Tickets) List(ctx context.Context, f TicketFilter) ([]Ticket, error) {
	if f.Status != "" && !slices.Contains(TicketStatuses, f.Status) {
		return nil, badTicket("未知工单状态 %q", f.Status)
	}
	if f.Type != "" && f.Type != TicketMessage && !slices.Contains(TicketTypes, f.Type) {
		return nil, badTicket("未知工单类型 %q", f.Type)
	}
	f.Limit = maxTicketList
	return tk.store.Tickets(ctx, f)
}

// sameEvent reports whether two history events are the same change.
func sameEvent(a, b TicketEvent) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// Who may make which change. Staff are agents, leads and admins; the shopper acts only
// through Confirm and Decline.
var (
	staffRoles   = []account.Role{account.RoleAgent, account.RoleLead, account.RoleAdmin}
	leadRoles    = []account.Role{account.RoleLead, account.RoleAdmin}
	shopperRoles = []account.Role{RoleShopper}
)

// ticketRules maps a status to the statuses it may change to and the roles that may
// make each change. A ticket needs the shopper's confirmation before anything is done;
// a refund or compensation then needs the lead's approval; approving
// and rejecting are the lead's (or an admin's) alone.
var ticketRules = map[string]map[string][]account.Role{
	TicketOpen: {
		TicketAwaitingConfirmation: staffRoles,
		TicketCancelled:            staffRoles,
	},
	TicketAwaitingConfirmation: {
		TicketOpen:             append(slices.Clip(staffRoles), RoleShopper), // withdrawn or declined
		TicketAwaitingApproval: shopperRoles,                                 // confirmed: refund, compensation
		TicketInProgress:       shopperRoles,                                 // confirmed: every other type
		TicketCancelled:        staffRoles,
	},
	TicketAwaitingApproval: {
		TicketApproved:  leadRoles,
		TicketRejected:  leadRoles,
		TicketCancelled: staffRoles,
	},
	TicketApproved: {
		TicketInProgress: staffRoles,
		TicketResolved:   staffRoles,
		TicketCancelled:  staffRoles,
	},
	TicketInProgress: {
		TicketResolved:  staffRoles,
		TicketRejected:  leadRoles,
		TicketCancelled: staffRoles,
	},
}

// messageRules are the ticketRules of a left message: an agent takes it up, or answers
// it at once, and closes it; nothing needs the shopper's confirmation or the lead.
var messageRules = map[string]map[string][]account.Role{
	TicketOpen: {
		TicketInProgress: staffRoles,
		TicketResolved:   staffRoles,
		TicketCancelled:  staffRoles,
	},
	TicketInProgress: {
		TicketResolved:  staffRoles,
		TicketCancelled: staffRoles,
	},
}

// rulesFor returns the rules of tickets of type typ.
func rulesFor(typ string) map[string]map[string][]account.Role {
	if typ == TicketMessage {
		return messageRules
	}
	return ticketRules
}

func isStaff(role account.Role) bool { return slices.Contains(staffRoles, role) }

// needsApproval reports whether a ticket of type typ needs the lead's approval.
func needsApproval(typ string) bool { return typ == TicketRefund || typ == TicketCompensation }

// TicketChange is a status change asked for by staff.
type TicketChange struct {
	To   string `json:"to"`
	Note string `json:"note"`
	// Remedy, with To awaiting_confirmation, replaces the proposed remedy.
	Remedy *Remedy `json:"remedy,omitempty"`
	// Override lets a proposed remedy with outside contact details through the guard,
	// for OverrideReason, as TicketDraft's.
	Override       bool   `json:"override,omitempty"`
	OverrideReason string `json:"override_reason,omitempty"`
}

// maxTicketTries bounds how often a change is tried again after the ticket changed
// under it; each try reads the ticket and checks the rules again.
const maxTicketTries = 5

// change moves ticket id to the status to(current ticket), as actor (name, role), if
// the rules allow it and allow (nil: no more) does not refuse the current ticket, with
// edit applied to the stored ticket.
func (tk *Tickets) change(ctx context.Context, id string, to func(Ticket) string, name string, role account.Role, note string, allow func(Ticket) error, edit func(*Ticket) error) (Ticket, error) {
	if utf8.RuneCountInString(note) > maxTicketText {
		return Ticket{}, badTicket("备注最多 %d 个字", maxTicketText)
	}
	for range maxTicketTries {
		cur, err := tk.store.Ticket(ctx, id)
		if err != nil {
			return Ticket{}, err
		}
		target := to(cur)
		roles, ok := rulesFor(cur.Type)[cur.Status][target]
		if !ok {
			return Ticket{}, fmt.Errorf("ticket %s from %s to %q: %w", id, cur.Status, target, ErrBadTransition)
		}
		if !slices.Contains(roles, role) {
			return Ticket{}, fmt.Errorf("ticket %s from %s to %s as %q: %w", id, cur.Status, target, role, ErrRoleNotAllowed)
		}
		if allow != nil {
			if err := allow(cur); err != nil {
				return Ticket{}, fmt.Errorf("ticket %s from %s to %s by %s: %w", id, cur.Status, target, name, err)
			}
		}
		now := tk.now()
		next := cur
		next.History, next.Status, next.UpdatedAt = nil, target, now
		if edit != nil {
			if err := edit(&next); err != nil {
				return Ticket{}, err
			}
		}
		ev := TicketEvent{From: cur.Status, To: target, By: name, Role: role, At: now, Note: note}
		t, err := tk.store.UpdateTicket(ctx, next, ev)
		if errors.Is(err, ErrTicketStale) {
			// A retry of this very change, whose reply was lost, finds it stored.
			if t, err := tk.store.Ticket(ctx, id); err == nil && t.Rev == cur.Rev+1 && sameEvent(t.History[len(t.History)-1], ev) {
				return t, nil
			}
			continue
		}
		if err != nil {
			return Ticket{}, fmt.Errorf("updating ticket %s: %w", id, err)
		}
		tk.notifyTicket(ctx, NoticeTicketUpdate, t)
		return t, nil
	}
	return Ticket{}, ErrBusy
}

// Transition makes a change asked for by staff: any change of ticketRules but the
// shopper's (use Confirm and Decline for those). A remedy proposed to the shopper
// passes the contact guard (CheckRemedyContact); an approval is refused to the lead
// who opened the ticket or proposed its remedy (ErrSelfApproval), and to a lead when
// the amount is over the cap (ErrOverCap).
// It does not ask who may read the ticket: the console changes tickets through
// Desk.TransitionTicket, which does.
func (tk *Tickets) Transition(ctx context.Context, id string, ch TicketChange, by account.User) (Ticket, error) {
	return tk.transition(ctx, id, ch, by, nil)
}

// transition is Transition, with mayAct (nil: anyone the rules allow) refusing staff
// who may not act on the current ticket.
func (tk *Tickets) transition(ctx context.Context, id string, ch TicketChange, by account.User, mayAct func(Ticket) error) (Ticket, error) {
	if !isStaff(by.Role) {
		return Ticket{}, ErrRoleNotAllowed
	}
	allow := func(cur Ticket) error {
		if mayAct != nil {
			if err := mayAct(cur); err != nil {
				return err
			}
		}
		if ch.To != TicketApproved {
			return nil
		}
		if by.Role == account.RoleLead && proposedBy(cur, by.Name) {
			return ErrSelfApproval
		}
		if by.Role != account.RoleAdmin && tk.capFen >= 0 && cur.Remedy.AmountFen > tk.capFen {
			return ErrOverCap
		}
		return nil
	}
	return tk.change(ctx, id, func(Ticket) string { return ch.To }, by.Name, by.Role, ch.Note, allow, func(t *Ticket) error {
		if ch.Remedy != nil {
			if ch.To != TicketAwaitingConfirmation {
				return badTicket("只有提交客户确认时可以修改处理方案")
			}
			t.Remedy = *ch.Remedy
		}
		if t.Status == TicketAwaitingConfirmation {
			t.Confirmation = nil
			if err := checkRemedy(t.Type, t.Remedy, true); err != nil {
				return err
			}
			_, err := tk.CheckRemedyContact(t.Remedy.Text, ch.Override, ch.OverrideReason)
			return err
		}
		return nil
	})
}

// proposedBy reports whether name opened ticket t or proposed its remedy to the shopper.
func proposedBy(t Ticket, name string) bool {
	return t.CreatedBy == name || slices.ContainsFunc(t.History, func(e TicketEvent) bool {
		return e.To == TicketAwaitingConfirmation && e.By == name
	})
}

// ApprovalCapFen is the largest amount, in fen, a lead may approve; negative for none.
func (tk *Tickets) ApprovalCapFen() int64 { return tk.capFen }

// Approve approves a refund or compensation waiting for approval; only a lead or an
// admin may.
func (tk *Tickets) Approve(ctx context.Context, id, note string, by account.User) (Ticket, error) {
	return tk.Transition(ctx, id, TicketChange{To: TicketApproved, Note: note}, by)
}

// Reject rejects a ticket waiting for approval or in progress; only a lead or an admin
// may.
func (tk *Tickets) Reject(ctx context.Context, id, note string, by account.User) (Ticket, error) {
	return tk.Transition(ctx, id, TicketChange{To: TicketRejected, Note: note}, by)
}

// Confirm records the shopper's explicit consent to the proposed remedy: the ticket
// goes on to the lead's approval (refund, compensation) or into progress. rev is the
// revision of the ticket the shopper was shown: a remedy changed since (withdrawn and
// proposed again) gives ErrTicketChanged, so the shopper never agrees to a remedy they
// did not see. The caller (the widget) must have checked that shopperID is the shopper
// of t's conversation.
func (tk *Tickets) Confirm(ctx context.Context, id, shopperID string, rev int64) (Ticket, error) {
	if shopperID == "" {
		return Ticket{}, badTicket("缺少顾客身份")
	}
	to := func(t Ticket) string {
		switch {
		case t.Status != TicketAwaitingConfirmation:
			return "confirmed" // no status: refused as a bad transition, whoever asks
		case needsApproval(t.Type):
			return TicketAwaitingApproval
		}
		return TicketInProgress
	}
	return tk.change(ctx, id, to, shopperID, RoleShopper, "", nil, func(t *Ticket) error {
		if t.Rev != rev {
			return ErrTicketChanged
		}
		t.Confirmation = &Confirmation{Shopper: shopperID, At: t.UpdatedAt}
		return nil
	})
}

// Decline records that the shopper did not accept the proposed remedy of revision rev
// (see Confirm): the ticket goes back to open for the agent to propose another.
func (tk *Tickets) Decline(ctx context.Context, id, shopperID string, rev int64) (Ticket, error) {
	if shopperID == "" {
		return Ticket{}, badTicket("缺少顾客身份")
	}
	to := func(t Ticket) string {
		if t.Status != TicketAwaitingConfirmation {
			return "declined" // no status: refused as a bad transition, whoever asks
		}
		return TicketOpen
	}
	return tk.change(ctx, id, to, shopperID, RoleShopper, "顾客未接受处理方案", nil, func(t *Ticket) error {
		if t.Rev != rev {
			return ErrTicketChanged
		}
		return nil
	})
}
