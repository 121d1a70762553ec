package handoff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kefu-im/kefu/internal/triage"
)

// Leave a message: a shopper who has waited too long, or finds nobody of the group
// online (after hours), may leave a message instead of waiting, like the offline form of
// Zendesk's chat or Intercom's "leave your contact". The message becomes a ticket of type
// message for the group's agents, and the chat leaves the queue. A shopper who does not
// want to keeps waiting: the offer changes nothing.

// LeftMessage is what a waiting shopper leaves instead of waiting.
type LeftMessage struct {
	// Key is the id of the widget's frame: a resend with the same key finds the ticket
	// and the records the first made.
	Key string
	// Text is the message, 1 to maxLeftMessage characters.
	Text string
	// Contact (a phone number, an e-mail address…) and Order (an order number) are
	// optional.
	Contact string
	Order   string
}

const (
	maxLeftMessage = 500
	maxContact     = 64
)

// LeaveMessage checks m and stores it as a ticket of type message of conversation c,
// for c's group, made by c's shopper. A message with the same Key left before is
// returned instead of a second ticket.
func (tk *Tickets) LeaveMessage(ctx context.Context, c Conversation, m LeftMessage) (Ticket, error) {
	text, contact, order := strings.TrimSpace(m.Text), strings.TrimSpace(m.Contact), strings.TrimSpace(m.Order)
	switch {
	case !convPattern.MatchString(m.Key):
		return Ticket{}, badTicket("留言缺少编号")
	case text == "" || utf8.RuneCountInString(text) > maxLeftMessage:
		return Ticket{}, badTicket("留言须为 1-%d 个字", maxLeftMessage)
	case utf8.RuneCountInString(contact) > maxContact || strings.ContainsAny(contact, "\r\n"):
		return Ticket{}, badTicket("联系方式须为一行，最多 %d 个字", maxContact)
	case order != "" && !orderPattern.MatchString(order):
		return Ticket{}, badTicket("订单号只能包含字母、数字、_ 和 -，最多 64 个")
	}
	if t, err := tk.leftBefore(ctx, c.ID, m.Key); !errors.Is(err, ErrNotFound) {
		return t, err
	}
	shopper := ShopperOf(c)
	now := tk.now()
	t := Ticket{
		Conversation: c.ID, Order: order, Type: TicketMessage, Reason: text, Group: c.Group, Contact: contact,
		Key: m.Key, Evidence: []string{}, Status: TicketOpen, CreatedBy: shopper, CreatedAt: now, UpdatedAt: now,
	}
	t, err := tk.store.CreateTicket(ctx, now.In(tk.loc).Format("20060102"), t, TicketEvent{To: TicketOpen, By: shopper, Role: RoleShopper, At: now})
	if err != nil {
		return Ticket{}, fmt.Errorf("storing a left message: %w", err)
	}
	tk.notifyTicket(ctx, NoticeTicketNew, t)
	return t, nil
}

// leftBefore returns the ticket of the message left in conversation conv with key, or
// ErrNotFound.
func (tk *Tickets) leftBefore(ctx context.Context, conv, key string) (Ticket, error) {
	left, err := tk.store.Tickets(ctx, TicketFilter{Conversation: conv, Type: TicketMessage})
	if err != nil {
		return Ticket{}, fmt.Errorf("reading the messages left in %q: %w", conv, err)
	}
	for _, t := range left {
		if t.Key == key && key != "" {
			return tk.store.Ticket(ctx, t.ID)
		}
	}
	return Ticket{}, ErrNotFound
}

// LeaveMessage lets the shopper of waiting conversation conv leave message m instead of
// waiting: m becomes a ticket of type message for the conversation's group (an
// after-sales chat's for the after-sales group, who see it until one of them closes it,
// so that the chat is not dropped: docs/domain.md rule 7), and the chat leaves the
// queue, resolved, with a note that names the ticket. It returns the ticket and that
// note. A conversation that is not waiting gives ErrNotQueued (ErrAlreadyClaimed when an
// agent has it), and nothing is stored; a bad m gives ErrBadTicket. Calling it again
// with the same m.Key (a resend) returns what the first call made.
func (d *Desk) LeaveMessage(ctx context.Context, conv string, m LeftMessage) (Ticket, Message, error) {
	c, err := d.convs.Conversation(ctx, conv)
	if err != nil {
		return Ticket{}, Message{}, err
	}
	if c.Status != StatusQueued {
		// A resend of a message that went through (the chat may have moved on since)?
		t, err := d.tickets.leftBefore(ctx, conv, m.Key)
		switch {
		case err == nil:
			note, _, err := d.Append(ctx, conv, d.leaveNote(c.Lang, m.Key, t.ID))
			return t, note, err
		case !errors.Is(err, ErrNotFound):
			return Ticket{}, Message{}, err
		case c.Status == StatusActive:
			return Ticket{}, Message{}, ErrAlreadyClaimed
		}
		return Ticket{}, Message{}, ErrNotQueued
	}
	t, err := d.tickets.LeaveMessage(ctx, c, m)
	if err != nil {
		return Ticket{}, Message{}, err
	}
	now := d.nowMS()
	res, err := d.change(ctx, conv, func(c Conversation) (Change, error) {
		switch c.Status {
		case StatusQueued:
		case StatusActive:
			return Change{}, ErrAlreadyClaimed
		default:
			return Change{}, ErrNotQueued
		}
		next := c
		next.Status, next.ClosedAt = StatusResolved, now
		return Change{Next: &next, Append: []Message{
			{ID: "leave:" + m.Key, Kind: KindStatus, From: FromSystem, Status: StatusResolved, Reason: triage.ReasonLeftMessage, Group: c.Group},
			d.leaveNote(c.Lang, m.Key, t.ID),
		}}, nil
	})
	if err != nil {
		// The ticket stays: the agents see the message either way, and a resend finds it.
		return t, Message{}, fmt.Errorf("taking %q out of the queue: %w", conv, err)
	}
	if res.Dup {
		note, _, err := d.Append(ctx, conv, d.leaveNote(c.Lang, m.Key, t.ID))
		return t, note, err
	}
	d.tickets.notifyTicket(ctx, NoticeLeft, t)
	return t, res.Messages[len(res.Messages)-1], nil
}

func (d *Desk) leaveNote(l Lang, key, ticket string) Message {
	return system("leave:"+key+":note", strings.ReplaceAll(d.PhrasesFor(l).LeftMessage, "{ticket}", ticket))
}
