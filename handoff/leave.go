package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Leave a message: a shopper who has waited too long, or finds nobody of the group
// online (after hours), may leave a message instead of waiting, like the offline form of
// Zendesk's chat or Intercom's "leave your contact". The message becomes a ticket of type
// message for the group's agents, and the chat leaves the queue. A shopper who does not
// want to keeps waiting: the offer changes nothing.

// Why a waiting shopper is offered to leave a message (QueueStatus.Offer).
const (
	OfferTimeout = "timeout" // waited DeskConfig.QueueTimeout
	OfferOffline = "offline" // no agent of the chat's group is online
)

// QueueStatus is what a waiting shopper is told.
type QueueStatus struct {
	// Position is the place in the group's queue, 1 being next.
	Position int
	// Wait is the expected wait.
	Wait time.Duration
	// Offer, when set, is why the shopper may leave a message instead of waiting.
	Offer string
	// OfferIn, when positive, is how long until the queue timeout makes the offer.
	OfferIn time.Duration
}

// QueueStatus returns a queued conversation's position, expected wait and whether to
// offer the shopper to leave a message. It returns ErrNotQueued for a conversation that
// is not waiting.
func (d *Desk) QueueStatus(ctx context.Context, id string) (QueueStatus, error) {
	c, err := d.store.Conversation(ctx, id)
	if err != nil {
		return QueueStatus{}, err
	}
	pos, wait, err := d.position(ctx, c)
	if err != nil {
		return QueueStatus{}, err
	}
	qs := QueueStatus{Position: pos, Wait: wait}
	if d.timeout > 0 {
		if left := c.EnqueuedAt.Add(d.timeout).Sub(d.now()); left > 0 {
			qs.OfferIn = left
		} else {
			qs.Offer = OfferTimeout
			return qs, nil
		}
	}
	online, err := d.groupOnline(ctx, c.Group)
	if err != nil {
		return QueueStatus{}, err
	}
	if !online {
		qs.Offer = OfferOffline
	}
	return qs, nil
}

// groupOnline reports whether an agent of group is online (not away) with a recent
// heartbeat.
func (d *Desk) groupOnline(ctx context.Context, group string) (bool, error) {
	ps, err := d.store.Presences(ctx)
	if err != nil {
		return false, err
	}
	now := d.now()
	for _, p := range ps {
		if p.Group == group && d.effective(p, now) == PresenceOnline {
			return true, nil
		}
	}
	return false, nil
}

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
	left, err := tk.store.Tickets(ctx, TicketFilter{Conversation: c.ID, Type: TicketMessage})
	if err != nil {
		return Ticket{}, fmt.Errorf("reading the messages left in %q: %w", c.ID, err)
	}
	for _, t := range left {
		if t.Key == m.Key {
			return tk.store.Ticket(ctx, t.ID)
		}
	}
	shopper := ShopperOf(c)
	now := tk.now()
	t := Ticket{
		Conversation: c.ID, Order: order, Type: TicketMessage, Reason: text, Group: c.Group, Contact: contact,
		Key: m.Key, Evidence: []string{}, Status: TicketOpen, CreatedBy: shopper, CreatedAt: now, UpdatedAt: now,
	}
	t, err = tk.store.CreateTicket(ctx, now.In(tk.loc).Format("20060102"), t, TicketEvent{To: TicketOpen, By: shopper, Role: RoleShopper, At: now})
	if err != nil {
		return Ticket{}, fmt.Errorf("storing a left message: %w", err)
	}
	return t, nil
}

// leaveData is what a pending leave keeps for writing its conversation side again.
type leaveData struct {
	Key    string `json:"key"`
	Ticket string `json:"ticket"`
}

// LeaveMessage lets the shopper of waiting conversation conv leave message m instead of
// waiting: m becomes a ticket of type message for the conversation's group (an
// after-sales chat's for the after-sales group, who see it until one of them closes it,
// so that the chat is not dropped: DOMAIN rule 7), and the chat leaves the queue,
// resolved, with a note that names the ticket. It returns the ticket and that note. A
// conversation that is not waiting gives ErrNotQueued (ErrAlreadyClaimed when an agent
// has it), and nothing is stored; a bad m gives ErrBadTicket. Calling it again
// with the same m.Key (a resend) returns what the first call made.
func LeaveMessage(ctx context.Context, d *Desk, tk *Tickets, conv string, m LeftMessage) (Ticket, Message, error) {
	c, err := d.store.Conversation(ctx, conv)
	if err != nil {
		return Ticket{}, Message{}, err
	}
	if c.Status != StatusQueued {
		// A resend of a message that went through (the chat may have moved on since)?
		t, note, err := leftBefore(ctx, d, tk, c, m.Key)
		switch {
		case err == nil || !errors.Is(err, ErrNotFound):
			return t, note, err
		case c.Status == StatusActive:
			return Ticket{}, Message{}, ErrAlreadyClaimed
		}
		return Ticket{}, Message{}, ErrNotQueued
	}
	t, err := tk.LeaveMessage(ctx, c, m)
	if err != nil {
		return Ticket{}, Message{}, err
	}
	data, err := json.Marshal(leaveData{Key: m.Key, Ticket: t.ID})
	if err != nil {
		return Ticket{}, Message{}, fmt.Errorf("encoding the leave: %w", err)
	}
	now := d.nowMS()
	mine := func(p RouteOp) bool { return p.Kind == opLeave }
	op, err := d.reroute(ctx, conv, mine, func(st RouteState) (RouteChange, error) {
		r := st.Route
		switch {
		case st.Pending != nil:
			return RouteChange{}, ErrBusy
		case r == nil:
			return RouteChange{}, d.unrouted(ctx, conv, true)
		case r.Agent != "":
			return RouteChange{}, ErrAlreadyClaimed
		}
		return RouteChange{Conv: conv, Rev: st.Rev, Prev: r, Op: RouteOp{Kind: opLeave, At: now, Data: data}}, nil
	})
	if err == nil {
		err = d.complete(ctx, op)
	}
	if err != nil {
		// The ticket stays: the agents see the message either way, and a resend finds it.
		return t, Message{}, fmt.Errorf("taking %q out of the queue: %w", conv, err)
	}
	note, _, err := d.apply(ctx, conv, Transition{}, d.leaveNote(m.Key, t.ID))
	return t, note, err
}

// leftBefore returns the ticket and note of the message left in c with key, or
// ErrNotFound.
func leftBefore(ctx context.Context, d *Desk, tk *Tickets, c Conversation, key string) (Ticket, Message, error) {
	left, err := tk.List(ctx, TicketFilter{Conversation: c.ID, Type: TicketMessage})
	if err != nil {
		return Ticket{}, Message{}, err
	}
	for _, t := range left {
		if t.Key == key && key != "" {
			note, _, err := d.apply(ctx, c.ID, Transition{}, d.leaveNote(key, t.ID))
			return t, note, err
		}
	}
	return Ticket{}, Message{}, ErrNotFound
}

func (d *Desk) leaveNote(key, ticket string) Message {
	return Message{ID: "leave:" + key + ":note", Kind: KindMessage, From: FromSystem, Text: strings.ReplaceAll(d.phrases.LeftMessage, "{ticket}", ticket)}
}

// writeLeave writes the conversation side of a leave (routing.go): resolved, with the
// note naming the ticket.
func (d *Desk) writeLeave(ctx context.Context, op RouteOp) error {
	var l leaveData
	if err := json.Unmarshal(op.Data, &l); err != nil {
		return fmt.Errorf("decoding the leave of %q: %w", op.Conv, err)
	}
	group := ""
	if op.Prev != nil {
		group = op.Prev.Group
	}
	t := Transition{From: []string{StatusQueued}, To: StatusResolved}
	rec := Message{ID: "leave:" + l.Key, Kind: KindStatus, From: FromSystem, Status: StatusResolved, Reason: ReasonLeftMessage, Group: group}
	if _, _, err := d.apply(ctx, op.Conv, t, rec); err != nil {
		return err
	}
	_, _, err := d.apply(ctx, op.Conv, Transition{}, d.leaveNote(l.Key, l.Ticket))
	return err
}
