package widget

import (
	"context"
	"errors"

	"github.com/kefu-im/kefu/handoff"
)

// onTicketAnswer is the shopper's 确认 or 不接受 on the remedy an agent proposed in a
// ticket of this conversation (handoff.Desk.AnswerTicket). The answer is acknowledged with
// the seq of the record that announces it, which both the shopper and the agent see.
func (s *session) onTicketAnswer(ctx context.Context, f clientFrame, confirm bool) {
	if !clientIDPattern.MatchString(f.ID) {
		s.c.enqueue(errFrame(s.lang, codeBadMessage, f.ID))
		return
	}
	if !ticketIDPattern.MatchString(f.Ticket) || f.Rev < 1 {
		s.c.enqueue(errFrame(s.lang, codeBadTicket, f.ID))
		return
	}
	// Held from storing the answer to queueing its ack, like a message (session.order).
	s.order.Lock()
	m, err := s.g.desk.AnswerTicket(ctx, s.id, f.Ticket, f.Rev, confirm)
	switch {
	case errors.Is(err, handoff.ErrNotFound):
		s.c.enqueue(errFrame(s.lang, codeBadTicket, f.ID))
	case errors.Is(err, handoff.ErrTicketChanged):
		s.c.enqueue(errFrame(s.lang, codeTicketChanged, f.ID))
	case err != nil:
		s.log.Error().Err(err).Str("ticket", f.Ticket).Msg("answering a ticket")
		s.c.enqueue(errFrame(s.lang, codeUnavailable, f.ID))
	default:
		s.c.enqueue(ackFrame{Type: "ack", ID: f.ID, Seq: m.Seq})
		s.log.Info().Str("ticket", f.Ticket).Bool("confirmed", confirm).Msg("shopper answered a ticket")
	}
	s.order.Unlock()
}
