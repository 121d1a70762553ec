package handoff

import (
	"context"
	"errors"
	"fmt"

	"github.com/kefu-im/kefu/internal/account"
)

// Who may read a conversation (docs/domain.md rule 32): least privilege for agents. The
// rule lives here once; the console's API, its event stream, notes, photos and tickets
// all ask it.

// ErrNotReader is returned when a user asks for a conversation they may not read.
var ErrNotReader = errors.New("user may not read the conversation")

// MayRead reports whether u may read conversation c by its record alone: leads and
// admins read every conversation; an agent reads the conversations handed off to their
// own group (c.Group is set by the first hand-off, so a chat only the bot served has
// none) and those they own now. An agent who served a chat that has since gone to
// another group reads it too, but only the log tells that: Desk.MayRead asks it.
func MayRead(u account.User, c Conversation) bool {
	switch {
	case u.Role == account.RoleAdmin || u.Role == account.RoleLead:
		return true
	case u.Role != account.RoleAgent || u.Name == "":
		return false
	case c.Agent != "" && c.Agent == u.Name:
		return true
	}
	return c.Group != "" && string(c.Group) == u.Group
}

// MayRead reports whether u may read conversation c: by its record (MayRead), or, for
// an agent, because they served it once (claimed it, were assigned it or wrote in it),
// which its log tells.
func (d *Desk) MayRead(ctx context.Context, u account.User, c Conversation) (bool, error) {
	if MayRead(u, c) {
		return true, nil
	}
	if u.Role != account.RoleAgent || u.Name == "" {
		return false, nil
	}
	return d.served(ctx, u.Name, c.ID)
}

// served reports whether agent's name is on a record of conversation id's log: a
// message they wrote, or a status record that gave them the chat or took it from them.
func (d *Desk) served(ctx context.Context, agent, id string) (bool, error) {
	msgs, err := d.convs.Messages(ctx, id, 0, 0)
	if err != nil {
		return false, fmt.Errorf("reading the log of %q: %w", id, err)
	}
	for _, m := range msgs {
		if m.Agent == agent {
			return true, nil
		}
	}
	return false, nil
}

// ConversationFor returns conversation id if u may read it (Desk.MayRead); ErrNotFound
// for none, ErrNotReader for one they may not read.
func (d *Desk) ConversationFor(ctx context.Context, u account.User, id string) (Conversation, error) {
	c, err := d.convs.Conversation(ctx, id)
	if err != nil {
		return Conversation{}, err
	}
	ok, err := d.MayRead(ctx, u, c)
	if err != nil {
		return Conversation{}, err
	}
	if !ok {
		return Conversation{}, fmt.Errorf("%s reading %q: %w", u.Name, id, ErrNotReader)
	}
	return c, nil
}

// OpenTicket opens an after-sales ticket from draft on behalf of by, on a conversation
// that exists (ErrNoConversation otherwise) and, for an agent, is of their group and
// one they own or served (ErrNotTheirs otherwise); leads and admins open tickets on any
// conversation. The rest is Tickets.Open's.
func (d *Desk) OpenTicket(ctx context.Context, draft TicketDraft, by account.User) (Ticket, error) {
	if !isStaff(by.Role) {
		return Ticket{}, ErrRoleNotAllowed
	}
	if !convPattern.MatchString(draft.Conversation) {
		return Ticket{}, badTicket("会话编号无效")
	}
	c, err := d.convs.Conversation(ctx, draft.Conversation)
	if errors.Is(err, ErrNotFound) {
		return Ticket{}, fmt.Errorf("opening a ticket on %q: %w", draft.Conversation, ErrNoConversation)
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("opening a ticket on %q: %w", draft.Conversation, err)
	}
	if by.Role == account.RoleAgent {
		theirs := c.Group != "" && string(c.Group) == by.Group && c.Agent == by.Name
		if !theirs && c.Group != "" && string(c.Group) == by.Group {
			if theirs, err = d.served(ctx, by.Name, c.ID); err != nil {
				return Ticket{}, err
			}
		}
		if !theirs {
			return Ticket{}, fmt.Errorf("%s opening a ticket on %q: %w", by.Name, c.ID, ErrNotTheirs)
		}
	}
	return d.tickets.Open(ctx, draft, by)
}

// MayReadTicket reports whether u may read ticket t by its record alone: leads and
// admins read every ticket; a message a shopper left, with the contact they gave, is
// read by the agents of its group; an after-sales ticket by the agent who opened it.
// An agent reads the after-sales tickets of the conversations they may read too, but
// only the conversation tells that: Desk.MayReadTicket asks it.
func MayReadTicket(u account.User, t Ticket) bool {
	switch {
	case u.Role == account.RoleAdmin || u.Role == account.RoleLead:
		return true
	case u.Role != account.RoleAgent || u.Name == "":
		return false
	case t.Type == TicketMessage:
		return t.Group != "" && string(t.Group) == u.Group
	}
	return t.CreatedBy == u.Name
}

// MayReadTicket reports whether u may read ticket t: by its record (MayReadTicket), or,
// for an agent and an after-sales ticket, because they may read its conversation
// (Desk.MayRead). Acting on a ticket asks the same (Desk.TransitionTicket): what an
// agent may not read they may not change.
func (d *Desk) MayReadTicket(ctx context.Context, u account.User, t Ticket) (bool, error) {
	if MayReadTicket(u, t) {
		return true, nil
	}
	if u.Role != account.RoleAgent || u.Name == "" || t.Type == TicketMessage || t.Conversation == "" {
		return false, nil
	}
	c, err := d.convs.Conversation(ctx, t.Conversation)
	if errors.Is(err, ErrNotFound) {
		return false, nil // deleted: the ticket is its opener's
	}
	if err != nil {
		return false, fmt.Errorf("reading the conversation of ticket %s: %w", t.ID, err)
	}
	return d.MayRead(ctx, u, c)
}

// TicketFor returns ticket id, with its history, if u may read it (Desk.MayReadTicket);
// ErrNotFound for none, ErrNotReader for one they may not read.
func (d *Desk) TicketFor(ctx context.Context, u account.User, id string) (Ticket, error) {
	t, err := d.tickets.Ticket(ctx, id)
	if err != nil {
		return Ticket{}, err
	}
	if err := d.mayReadTicket(ctx, u, t); err != nil {
		return Ticket{}, err
	}
	return t, nil
}

// mayReadTicket is Desk.MayReadTicket as an error: ErrNotReader when u may not.
func (d *Desk) mayReadTicket(ctx context.Context, u account.User, t Ticket) error {
	ok, err := d.MayReadTicket(ctx, u, t)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s reading ticket %s: %w", u.Name, t.ID, ErrNotReader)
	}
	return nil
}

// TicketsFor returns the tickets matching f that u may read (Desk.MayReadTicket),
// newest first, as Tickets.List does. A conversation is asked once however many of its
// tickets are listed.
func (d *Desk) TicketsFor(ctx context.Context, u account.User, f TicketFilter) ([]Ticket, error) {
	ts, err := d.tickets.List(ctx, f)
	if err != nil {
		return nil, err
	}
	readable := map[string]bool{} // by conversation, for the tickets the record does not give
	out := ts[:0]
	for _, t := range ts {
		ok := MayReadTicket(u, t)
		if !ok && t.Type != TicketMessage && t.Conversation != "" {
			known, asked := readable[t.Conversation]
			if !asked {
				if known, err = d.MayReadTicket(ctx, u, t); err != nil {
					return nil, err
				}
				readable[t.Conversation] = known
			}
			ok = known
		}
		if ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// TransitionTicket makes a change asked for by staff (Tickets.Transition) on a ticket
// they may read (Desk.MayReadTicket, asked of the ticket as it is when the change is
// stored); ErrNotReader otherwise, and nothing changes.
func (d *Desk) TransitionTicket(ctx context.Context, id string, ch TicketChange, by account.User) (Ticket, error) {
	return d.tickets.transition(ctx, id, ch, by, func(cur Ticket) error { return d.mayReadTicket(ctx, by, cur) })
}
