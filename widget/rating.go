package widget

import (
	"context"
	"errors"
	"strconv"

	"github.com/kefu-im/kefu/handoff"
)

// onRate is the shopper's rating of the resolved chat (handoff.Desk.Rate), acknowledged
// like a message with the seq of its rating record. A bad score or comment, or a chat
// that is not resolved, gets an error frame and nothing is stored.
func (s *session) onRate(ctx context.Context, f clientFrame) {
	if !clientIDPattern.MatchString(f.ID) {
		s.c.enqueue(errFrame(s.lang, codeBadMessage, f.ID))
		return
	}
	if f.Score == nil {
		s.c.enqueue(errFrame(s.lang, codeBadRating, f.ID))
		return
	}
	// Held from storing the rating to queueing its ack, like a message (session.order).
	s.order.Lock()
	defer s.order.Unlock()
	m, err := s.g.desk.Rate(ctx, s.id, f.ID, *f.Score, f.Comment)
	switch {
	case errors.Is(err, handoff.ErrBadRating):
		s.c.enqueue(errFrame(s.lang, codeBadRating, f.ID))
	case errors.Is(err, handoff.ErrNotRatable), errors.Is(err, handoff.ErrNotFound): // a draft has nothing to rate
		s.c.enqueue(errFrame(s.lang, codeNotRatable, f.ID))
	case err != nil:
		s.log.Error().Err(err).Msg("rating the chat")
		s.c.enqueue(errFrame(s.lang, codeUnavailable, f.ID))
	default:
		s.c.enqueue(ackFrame{Type: "ack", ID: f.ID, Seq: m.Seq})
	}
}

// onFeedback is the shopper's 有帮助 / 没帮助 on a bot answer (handoff.Desk.GiveFeedback),
// acknowledged with the seq of its feedback record. A seq that names no bot answer gets
// an error frame and nothing is stored.
func (s *session) onFeedback(ctx context.Context, f clientFrame) {
	if !clientIDPattern.MatchString(f.ID) {
		s.c.enqueue(errFrame(s.lang, codeBadMessage, f.ID))
		return
	}
	if f.Helpful == nil || f.Seq <= 0 {
		s.c.enqueue(errFrame(s.lang, codeBadFeedback, f.ID))
		return
	}
	s.order.Lock()
	defer s.order.Unlock()
	m, err := s.g.desk.GiveFeedback(ctx, s.id, f.ID, f.Seq, *f.Helpful)
	switch {
	case errors.Is(err, handoff.ErrNotBotAnswer), errors.Is(err, handoff.ErrNotFound): // a draft has no answer
		s.c.enqueue(errFrame(s.lang, codeBadFeedback, f.ID))
	case err != nil:
		s.log.Error().Err(err).Msg("feedback on a bot answer")
		s.c.enqueue(errFrame(s.lang, codeUnavailable, f.ID))
	default:
		s.c.enqueue(ackFrame{Type: "ack", ID: f.ID, Seq: m.Seq})
		if m.Feedback != nil {
			s.g.metrics.BotFeedback.WithLabelValues(m.Feedback.Article, strconv.FormatBool(m.Feedback.Helpful)).Inc()
		}
	}
}
