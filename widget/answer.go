package widget

import (
	"context"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
)

// answer runs the bot on the shopper's message key and stores what it says; a hand-off
// puts the conversation in the queue with the bot's context. Every record is keyed by
// the shopper's message id, so a resend never answers twice.
func (s *session) answer(ctx context.Context, key, text, articleID string) {
	d, err := s.g.bot.Decide(ctx, bot.Input{Text: text, ArticleID: articleID})
	if err != nil {
		// Without a working search, a person is the honest answer.
		s.log.Error().Err(err).Msg("bot decision")
		d = bot.Decision{Action: bot.ActionHandoff, Reason: bot.ReasonLowConfidence, Intent: bot.IntentOther}
	}
	s.log.Info().Str("action", d.Action).Str("reason", d.Reason).Str("intent", d.Intent).
		Float64("confidence", d.Confidence).Str("article", articleIDOf(d)).Msg("bot decided")

	if d.Text != "" {
		m := handoff.Message{ID: "bot:" + key, Kind: handoff.KindMessage, From: handoff.FromBot, Text: d.Text}
		if d.Article != nil && d.Action != bot.ActionClarify {
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
	if d.Action != bot.ActionHandoff {
		return
	}
	req := handoff.HandoffRequest{Key: key, Reason: d.Reason, Intent: d.Intent, Group: handoff.GroupPresale, Context: contextOf(d, text)}
	if d.Reason == bot.ReasonAfterSales || d.Intent == bot.IntentAftersale {
		req.Group = handoff.GroupAftersale
	}
	if err := s.g.desk.Handoff(ctx, s.id, req); err != nil {
		s.log.Error().Err(err).Msg("handing off")
		s.c.enqueue(errFrame(codeUnavailable, ""))
	}
}

func articleIDOf(d bot.Decision) string {
	if d.Article == nil {
		return ""
	}
	return d.Article.ID
}

// contextOf turns the bot's decision into the hand-off packet agents see.
func contextOf(d bot.Decision, question string) *handoff.Context {
	c := &handoff.Context{Reason: d.Reason, Intent: d.Intent, Confidence: d.Confidence, Question: question}
	for _, h := range d.Hits {
		c.Hits = append(c.Hits, handoff.Candidate{ID: h.ID, Title: h.Title, Category: h.Category, Score: h.Score})
	}
	return c
}
