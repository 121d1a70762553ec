package handoff

import (
	"context"

	"github.com/kefu-im/kefu/internal/triage"
)

// Bot is the FAQ bot as the desk asks it (package bot, through a small adapter that
// cmd/kefu wires in).
type Bot interface {
	Decide(ctx context.Context, q Question) (BotDecision, error)
}

// Question is a shopper's message as the bot reads it.
type Question struct {
	Text string
	// Article is the article the shopper picked from the bot's suggestions, if any.
	Article string
	// Previous is the bot's last turn in the conversation, for a follow-up question.
	Previous *Turn
}

// Turn is the bot's last answer and the shopper's question it answered.
type Turn struct {
	Text    string
	Article string
	// Weak marks a turn in which the bot only offered suggestions.
	Weak bool
}

// BotDecision is what the bot does with a message.
type BotDecision struct {
	Action     triage.Action
	Reason     triage.Reason // of a hand-off
	Intent     triage.Intent
	Confidence float64
	// Text is what the bot says, empty for nothing.
	Text string
	// Article is the best article, when there is one; Suggestions are those offered.
	Article     *triage.ArticleRef
	Suggestions []triage.ArticleRef
	// Hits are the ranked articles, for the agents' context.
	Hits []Candidate
}
