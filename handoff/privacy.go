package handoff

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// A shopper's data (docs/domain.md rule 29): an admin exports everything the desk keeps
// about one shopper, or erases it, as China's PIPL and the GDPR expect.
//
// The shopper id is the shop's buyer id of a verified shopper (the signed identity of
// widget/identity.go: every conversation they held), a visitor id ("v_…") of an
// anonymous widget, or a conversation id ("c_…"): that conversation alone, for an
// anonymous shopper who can show no more than their chat.

// ShopperData is what the desk keeps about one shopper.
type ShopperData struct {
	Shopper       string              `json:"shopper"`
	Conversations []ShopperChat       `json:"conversations"`
	Tickets       []Ticket            `json:"tickets"`
	Attachments   []ShopperAttachment `json:"attachments"`
}

// ShopperChat is one of the shopper's conversations with its log, the bot's decisions
// and the agents' notes on it. Its rating is on the conversation.
type ShopperChat struct {
	Conversation Conversation `json:"conversation"`
	Messages     []Message    `json:"messages"`
	Decisions    []Decision   `json:"decisions"`
	Notes        []Note       `json:"notes"`
}

// ShopperAttachment is the metadata of a photo in one of the shopper's conversations.
type ShopperAttachment struct {
	Conversation string `json:"conversation"`
	Message      int64  `json:"message"`
	Attachment
}

// ErasedText replaces the personal texts of a ticket whose shopper was erased.
const ErasedText = "（已按顾客要求删除 erased at the shopper's request）"

// ShopperConversations returns the ids of every conversation of shopper: a
// conversation id names itself; any other id, the conversations whose shopper it is
// (all of them, found by reading every conversation: the shopper's own list keeps only
// the latest). None is no error.
func (d *Desk) ShopperConversations(ctx context.Context, shopper string) ([]string, error) {
	if d.purger == nil {
		return nil, ErrNoPurge
	}
	if strings.HasPrefix(shopper, "c_") {
		if _, err := d.convs.Conversation(ctx, shopper); errors.Is(err, ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		return []string{shopper}, nil
	}
	ids, err := d.purger.ConversationIDs(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		c, err := d.convs.Conversation(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c.Shopper != nil && c.Shopper.ID == shopper {
			out = append(out, id)
		}
	}
	return out, nil
}

// ExportShopper returns everything the desk keeps about shopper.
func (d *Desk) ExportShopper(ctx context.Context, shopper string) (ShopperData, error) {
	out := ShopperData{Shopper: shopper, Conversations: []ShopperChat{}, Tickets: []Ticket{}, Attachments: []ShopperAttachment{}}
	ids, err := d.ShopperConversations(ctx, shopper)
	if err != nil {
		return out, err
	}
	for _, id := range ids {
		ch, err := d.shopperChat(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		out.Conversations = append(out.Conversations, ch)
		for _, m := range ch.Messages {
			for _, a := range m.Attachments {
				out.Attachments = append(out.Attachments, ShopperAttachment{Conversation: id, Message: m.Seq, Attachment: a})
			}
		}
		ts, err := d.ticketsOf(ctx, id)
		if err != nil {
			return out, err
		}
		out.Tickets = append(out.Tickets, ts...)
	}
	return out, nil
}

// shopperChat reads conversation id with its log, decisions and notes.
func (d *Desk) shopperChat(ctx context.Context, id string) (ShopperChat, error) {
	c, err := d.convs.Conversation(ctx, id)
	if err != nil {
		return ShopperChat{}, err
	}
	ch := ShopperChat{Conversation: c}
	if ch.Messages, err = d.convs.Messages(ctx, id, 0, 0); err != nil {
		return ShopperChat{}, fmt.Errorf("reading the log of %q: %w", id, err)
	}
	if ch.Decisions, err = d.annals.Decisions(ctx, id); err != nil {
		return ShopperChat{}, fmt.Errorf("reading the decisions of %q: %w", id, err)
	}
	if ch.Notes, err = d.annals.Notes(ctx, id); err != nil {
		return ShopperChat{}, fmt.Errorf("reading the notes of %q: %w", id, err)
	}
	ch.Messages, ch.Decisions, ch.Notes = nonNil(ch.Messages), nonNil(ch.Decisions), nonNil(ch.Notes)
	return ch, nil
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// ticketsOf returns the tickets of conversation conv, each with its history.
func (d *Desk) ticketsOf(ctx context.Context, conv string) ([]Ticket, error) {
	list, err := d.tickets.store.Tickets(ctx, TicketFilter{Conversation: conv})
	if err != nil {
		return nil, fmt.Errorf("reading the tickets of %q: %w", conv, err)
	}
	out := make([]Ticket, 0, len(list))
	for _, t := range list {
		full, err := d.tickets.store.Ticket(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, full)
	}
	return out, nil
}

// Erased is what EraseShopper did.
type Erased struct {
	Conversations int `json:"conversations"`
	Tickets       int `json:"tickets"`
	// Texts are what the shopper wrote, so that the caller can remove them from where
	// the desk does not keep them (the editors' unanswered inbox).
	Texts []string `json:"-"`
}

// EraseShopper deletes the shopper's conversations whole (PurgeConversation) and
// strips their tickets of personal data (order, reason, contact, evidence, the
// conversation, the shopper's confirmation, notes of the history): a ticket stays as
// the shop's after-sales record of a remedy.
func (d *Desk) EraseShopper(ctx context.Context, shopper string) (Erased, error) {
	var out Erased
	ids, err := d.ShopperConversations(ctx, shopper)
	if err != nil {
		return out, err
	}
	for _, id := range ids {
		ms, err := d.convs.Messages(ctx, id, 0, 0)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return out, err
		}
		for _, m := range ms {
			if m.From == FromShopper && m.Text != "" {
				out.Texts = append(out.Texts, m.Text)
			}
		}
		ts, err := d.ticketsOf(ctx, id)
		if err != nil {
			return out, err
		}
		for _, t := range ts {
			if err := d.purger.RedactTicket(ctx, redactTicket(t, shopper), id); err != nil {
				return out, err
			}
			out.Tickets++
		}
		if err := d.PurgeConversation(ctx, id); err != nil {
			return out, err
		}
		out.Conversations++
	}
	return out, nil
}

// redactTicket is t without the personal data of shopper.
func redactTicket(t Ticket, shopper string) Ticket {
	t.Conversation, t.Order, t.Contact, t.Key, t.Evidence, t.Confirmation = "", "", "", "", nil, nil
	t.Reason = ErasedText
	hist := make([]TicketEvent, len(t.History))
	for i, ev := range t.History {
		ev.Note = ""
		if ev.By == shopper || ev.Role == "shopper" {
			ev.By = ""
		}
		hist[i] = ev
	}
	t.History = hist
	t.Rev++
	return t
}
