package handoff

import (
	"context"
	"time"

	"github.com/kefu-im/kefu/internal/triage"
)

// Notifier hears of the desk's changes for other systems (the webhooks of package
// webhook). The desk calls it on the node that committed the change, right after the
// commit and once per change (a retried call that changed nothing does not notify), so
// that with several nodes an event is told once, not once per node; it is not called
// from the Bus's subscriptions, which every node receives. A node that dies between the
// commit and Notify loses that notice: at least once holds from Notify on.
type Notifier interface {
	// Notify queues event with data; it does not fail the change, which is made.
	Notify(ctx context.Context, event string, data any)
}

// The events the desk notifies.
const (
	NoticeHandedOff    = "conversation.handed_off" // ConversationNotice: the chat went to a queue
	NoticeAssigned     = "conversation.assigned"   // ConversationNotice: an agent took it (claim, assignment, transfer)
	NoticeResolved     = "conversation.resolved"   // ConversationNotice: resolved, or closed as a left message
	NoticeRated        = "conversation.rated"      // ConversationNotice with Rating
	NoticeTicketNew    = "ticket.created"          // Ticket
	NoticeTicketUpdate = "ticket.updated"          // Ticket
	NoticeLeft         = "message.left"            // Ticket (of type message): the shopper left a message
)

// ConversationNotice is the data of a conversation's notice: what the conversation is
// after the change. It carries no message text.
type ConversationNotice struct {
	Conversation string        `json:"conversation"`
	Status       Status        `json:"status"`
	Group        Group         `json:"group,omitempty"`
	Agent        string        `json:"agent,omitempty"`
	Reason       triage.Reason `json:"reason,omitempty"`
	Lang         Lang          `json:"lang,omitempty"`
	// Shopper is the shopper's id (the shop's buyer id when verified) and Verified
	// whether the shop signed it.
	Shopper    string    `json:"shopper,omitempty"`
	Verified   bool      `json:"verified,omitempty"`
	EnqueuedAt time.Time `json:"enqueued_at,omitzero"`
	ClaimedAt  time.Time `json:"claimed_at,omitzero"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	Rating     *Rating   `json:"rating,omitempty"`
}

func noticeOf(c Conversation) ConversationNotice {
	n := ConversationNotice{
		Conversation: c.ID, Status: c.Status, Group: c.Group, Agent: c.Agent, Reason: c.Reason, Lang: c.Lang,
		EnqueuedAt: c.EnqueuedAt, ClaimedAt: c.ClaimedAt, ClosedAt: c.ClosedAt,
	}
	if c.Shopper != nil {
		n.Shopper, n.Verified = c.Shopper.ID, c.Shopper.Verified
	}
	return n
}

// notifyChange tells the notifier what a committed change did.
func (d *Desk) notifyChange(ctx context.Context, ch Change, res Committed) {
	if d.notifier == nil || res.Dup || ch.Next == nil {
		return
	}
	prev, next := ch.Prev, res.Conversation
	if prev == nil {
		prev = &Conversation{}
	}
	for _, m := range res.Messages {
		switch m.Kind {
		case KindHandoff:
			n := noticeOf(next)
			n.Reason, n.Group = m.Reason, m.Group
			d.notifier.Notify(ctx, NoticeHandedOff, n)
		case KindRating:
			n := noticeOf(next)
			n.Rating = m.Rating
			d.notifier.Notify(ctx, NoticeRated, n)
		}
	}
	switch {
	case next.Status == StatusActive && (prev.Status != StatusActive || prev.Agent != next.Agent):
		d.notifier.Notify(ctx, NoticeAssigned, noticeOf(next))
	case next.Status == StatusResolved && prev.Status != StatusResolved:
		d.notifier.Notify(ctx, NoticeResolved, noticeOf(next))
	}
}

// notifyTicket tells the notifier of a ticket created or changed.
func (tk *Tickets) notifyTicket(ctx context.Context, event string, t Ticket) {
	if tk.notifier != nil {
		t.History = nil
		tk.notifier.Notify(ctx, event, t)
	}
}
