package widget

import (
	"context"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/triage"
)

// answer runs the bot on the shopper's message key and stores what it says; a hand-off
// puts the conversation in the queue with the bot's context. Every record is keyed by
// the shopper's message id, so a resend never answers twice.
func (s *session) answer(ctx context.Context, key, text, articleID string, seq int64) {
	d, err := s.g.bot.Decide(ctx, bot.Input{Text: text, ArticleID: articleID, Previous: s.previousTurn(ctx, seq)})
	if err != nil {
		// Without a working search, a person is the honest answer.
		s.log.Error().Err(err).Msg("bot decision")
		d = bot.Decision{Action: triage.Handoff, Reason: triage.ReasonLowConfidence, Intent: triage.IntentOther}
	}
	s.g.stats.decided(string(d.Action), string(d.Reason))
	s.log.Info().Str("action", string(d.Action)).Str("reason", string(d.Reason)).Str("intent", string(d.Intent)).
		Float64("confidence", d.Confidence).Str("article", articleIDOf(d)).Msg("bot decided")
	if err := s.g.desk.RecordDecision(ctx, s.id, decisionOf(d, key, seq)); err != nil {
		// The decision only informs agents; the answer goes on without it.
		s.log.Warn().Err(err).Msg("keeping the bot decision")
	}

	if d.Text != "" {
		m := handoff.Message{ID: "bot:" + key, Kind: handoff.KindMessage, From: handoff.FromBot, Text: d.Text}
		if d.Article != nil && d.Action != triage.Clarify {
			m.Article = &handoff.ArticleRef{ID: d.Article.ID, Title: d.Article.Title, Category: d.Article.Category}
		}
		for _, sug := range d.Suggestions {
			m.Suggestions = append(m.Suggestions, handoff.ArticleRef{ID: sug.ID, Title: sug.Title, Category: sug.Category})
		}
		if _, _, err := s.g.desk.Append(ctx, s.id, m); err != nil {
			s.log.Error().Err(err).Msg("storing the bot's answer")
			s.c.enqueue(errFrame(codeUnavailable, ""))
			return
		}
	}
	if d.Action != triage.Handoff {
		return
	}
	req := handoff.HandoffRequest{Key: key, Reason: string(d.Reason), Intent: string(d.Intent), Group: handoff.GroupPresale, Context: contextOf(d, text), VIP: s.vip()}
	if d.Reason == triage.ReasonAfterSales || d.Intent == triage.IntentAftersale {
		req.Group = handoff.GroupAftersale
	}
	if err := s.g.desk.Handoff(ctx, s.id, req); err != nil {
		s.log.Error().Err(err).Msg("handing off")
		s.c.enqueue(errFrame(codeUnavailable, ""))
	}
}

// previousTurnWindow is how many records before a message are read for its context.
const previousTurnWindow = 12

// previousTurn finds, in the log before seq, the bot's last reply and the shopper's
// question it answered. The log, not the socket, is the memory, so a shopper who
// reconnects to another node keeps the context. A hand-off or status change in between
// starts a new round without one.
func (s *session) previousTurn(ctx context.Context, seq int64) *bot.Turn {
	msgs, err := s.g.desk.Messages(ctx, s.id, max(seq-1-previousTurnWindow, 0), previousTurnWindow)
	if err != nil {
		return nil
	}
	var t *bot.Turn
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Seq >= seq {
			continue
		}
		switch {
		case m.Kind != handoff.KindMessage:
			return nil
		case t == nil && m.From == handoff.FromBot:
			t = &bot.Turn{Weak: len(m.Suggestions) > 0}
			if m.Article != nil && !t.Weak {
				t.Article = m.Article.ID
			}
		case t != nil && m.From == handoff.FromShopper:
			t.Text = m.Text
			return t
		case t == nil && m.From == handoff.FromShopper:
			return nil // the last shopper message got no bot reply
		}
	}
	return nil
}

func articleIDOf(d bot.Decision) string {
	if d.Article == nil {
		return ""
	}
	return d.Article.ID
}

// decisionOf is the bot's decision on the shopper's message key (stored as seq) as
// agents see it in the context packet.
func decisionOf(d bot.Decision, key string, seq int64) handoff.Decision {
	out := handoff.Decision{Key: key, Seq: seq, Action: string(d.Action), Reason: string(d.Reason), Intent: string(d.Intent), Confidence: d.Confidence}
	if d.Article != nil {
		out.Article, out.Category = d.Article.ID, d.Article.Category
	}
	for i, h := range d.Hits {
		if i == 5 {
			break
		}
		out.Hits = append(out.Hits, handoff.Candidate{ID: h.ID, Title: h.Title, Category: h.Category, Score: h.Score})
	}
	return out
}

// vip is the shopper's VIP level for the hand-off priority: a verified shopper's
// signed level, 0 for anyone else.
func (s *session) vip() int {
	if s.shopper == nil || !s.shopper.Verified {
		return 0
	}
	return s.shopper.VIP
}

// contextOf turns the bot's decision into the hand-off packet agents see.
func contextOf(d bot.Decision, question string) *handoff.Context {
	c := &handoff.Context{Reason: string(d.Reason), Intent: string(d.Intent), Confidence: d.Confidence, Question: question}
	for _, h := range d.Hits {
		c.Hits = append(c.Hits, handoff.Candidate{ID: h.ID, Title: h.Title, Category: h.Category, Score: h.Score})
	}
	return c
}
