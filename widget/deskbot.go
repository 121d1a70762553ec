package widget

import (
	"context"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
)

// DeskBot returns the bot b as the desk asks it (handoff.Bot): the desk hears what
// shoppers say and asks the bot, which speaks its own types.
func DeskBot(b Decider) handoff.Bot { return deskBot{b} }

type deskBot struct{ b Decider }

// Decide implements handoff.Bot.
func (d deskBot) Decide(ctx context.Context, q handoff.Question) (handoff.BotDecision, error) {
	in := bot.Input{Text: q.Text, ArticleID: q.Article}
	if p := q.Previous; p != nil {
		in.Previous = &bot.Turn{Text: p.Text, Article: p.Article, Weak: p.Weak}
	}
	dec, err := d.b.Decide(ctx, in)
	if err != nil {
		return handoff.BotDecision{}, err
	}
	out := handoff.BotDecision{Action: dec.Action, Reason: dec.Reason, Intent: dec.Intent, Confidence: dec.Confidence,
		Text: dec.Text, Article: dec.Article, Suggestions: dec.Suggestions}
	for _, h := range dec.Hits {
		out.Hits = append(out.Hits, handoff.Candidate{ID: h.ID, Title: h.Title, Category: h.Category, Score: h.Score})
	}
	return out, nil
}
