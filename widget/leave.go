package widget

import (
	"context"
	"errors"
	"strings"

	"github.com/kefu-im/kefu/handoff"
)

// onLeaveMessage is the shopper's leave-a-message form (handoff.Desk.LeaveMessage): offered
// after the queue timeout or when nobody of the group is online, it turns the waiting
// chat into a ticket for the group's agents. It is acknowledged with the seq of the note
// that names the ticket. If an agent took the chat meanwhile, the text is stored as an
// ordinary message for that agent instead, so nothing the shopper wrote is lost.
func (s *session) onLeaveMessage(ctx context.Context, f clientFrame) {
	if !clientIDPattern.MatchString(f.ID) {
		s.c.enqueue(errFrame(s.lang, codeBadMessage, f.ID))
		return
	}
	if ok, wait := s.g.allow(ctx, LimitLeave, s.client()); !ok {
		s.c.enqueue(limitedFrame(s.lang, f.ID, wait))
		return
	}
	s.order.Lock()
	m := handoff.LeftMessage{Key: f.ID, Text: f.Text, Contact: f.Contact, Order: f.Order}
	t, note, err := s.g.desk.LeaveMessage(ctx, s.id, m)
	switch {
	case errors.Is(err, handoff.ErrBadTicket):
		// The text after the sentinel says which field, for a Chinese shopper; an English
		// one is told in general (the widget checks the fields before sending).
		msg := strings.TrimPrefix(err.Error(), handoff.ErrBadTicket.Error()+": ")
		if s.lang == handoff.LangEN {
			msg = errorMessagesEN[codeBadForm]
		}
		s.c.enqueue(errorFrame{Type: "error", Code: codeBadForm, Message: msg, ID: f.ID})
	case errors.Is(err, handoff.ErrAlreadyClaimed):
		s.order.Unlock()
		s.log.Info().Msg("left a message after an agent took the chat: stored as a message")
		s.onMessage(ctx, clientFrame{Type: "message", ID: f.ID, Text: f.Text})
		return
	case errors.Is(err, handoff.ErrNotQueued), errors.Is(err, handoff.ErrNotFound): // a draft waits for nobody
		s.c.enqueue(errFrame(s.lang, codeNotQueued, f.ID))
	case err != nil:
		s.log.Error().Err(err).Msg("leaving a message")
		s.c.enqueue(errFrame(s.lang, codeUnavailable, f.ID))
	default:
		s.c.enqueue(ackFrame{Type: "ack", ID: f.ID, Seq: note.Seq})
		s.log.Info().Str("ticket", t.ID).Str("group", string(t.Group)).Msg("shopper left a message")
	}
	s.order.Unlock()
}
