package handoff

import (
	"context"
	"errors"
	"fmt"

	"github.com/kefu-im/kefu/internal/triage"
)

// The bot stays while a shopper waits (docs/domain.md rule 15): a question it answers
// with confidence is answered at once, and the chat keeps its place; an after-sales case
// raised while the chat waits in another group's queue moves it to the after-sales
// queue, with its waiting time. Small talk gets a short reply that says the shopper
// waits (smallTalkWaiting). Anything else waits for the person.

// answerWaiting lets the bot read msg, a message of a shopper whose conversation waits
// in a queue, and carries out what it may do there. It returns the bot's decision, nil
// when the bot failed.
func (d *Desk) answerWaiting(ctx context.Context, conv string, msg Message) (*BotDecision, error) {
	q := Question{Text: msg.Text, Previous: d.previousTurn(ctx, conv, msg.Seq)}
	dec, err := d.bot.Decide(ctx, q)
	if err != nil {
		// The shopper waits for a person anyway; the message is theirs to read.
		d.log.Warn().Err(err).Str("conv", conv).Msg("bot decision while waiting")
		return nil, nil
	}
	if dec.Action == triage.SmallTalk {
		return &dec, d.smallTalkWaiting(ctx, conv, msg, dec.Intent)
	}
	if err := d.RecordDecision(ctx, conv, decisionOf(dec, msg)); err != nil {
		d.log.Warn().Err(err).Str("conv", conv).Msg("keeping the bot decision")
	}
	switch {
	case dec.Action == triage.Handoff && d.groupFor(dec.Reason, dec.Intent) == GroupAftersale:
		return &dec, d.toAftersale(ctx, conv, msg, dec)
	case dec.Action == triage.Answer && dec.Text != "":
		m := Message{ID: "bot:" + msg.ID, Kind: KindMessage, From: FromBot, Text: dec.Text, Article: dec.Article}
		return &dec, d.whileQueued(ctx, conv, func(Conversation) (Change, error) {
			return Change{Append: []Message{m}}, nil
		})
	}
	return &dec, nil
}

// toAftersale moves a waiting conversation to the after-sales queue for the after-sales
// case (or complaint) msg raised, keeping when it started waiting: the shopper is told
// as on a hand-off, with the bot's explanation of the procedure first. A chat waiting
// for after-sales already is only told the explanation.
func (d *Desk) toAftersale(ctx context.Context, conv string, msg Message, dec BotDecision) error {
	var explain []Message
	if dec.Text != "" {
		explain = []Message{{ID: "bot:" + msg.ID, Kind: KindMessage, From: FromBot, Text: dec.Text, Article: dec.Article}}
	}
	key := "handoff:" + msg.ID
	err := d.whileQueued(ctx, conv, func(c Conversation) (Change, error) {
		if c.Group == GroupAftersale {
			return Change{Append: explain}, nil
		}
		next := c
		next.Group, next.Reason, next.Intent, next.Key = GroupAftersale, dec.Reason, dec.Intent, key
		next.Context = contextOf(dec, msg.Text)
		next.Score = d.score(c.EnqueuedAt, next.Reason, next.Intent, next.Group, c.VIP)
		return Change{Next: &next, Append: append(explain,
			Message{ID: key, Kind: KindHandoff, From: FromSystem, Reason: dec.Reason, Group: GroupAftersale},
			system("transfer:"+msg.ID, d.transferPhrase(c.Lang, GroupAftersale, dec.Reason)),
		)}, nil
	})
	if err != nil {
		return fmt.Errorf("moving %q to the after-sales queue: %w", conv, err)
	}
	d.assignSoon(ctx, GroupAftersale)
	return nil
}

// whileQueued commits the change decide makes of a conversation that still waits; once
// a person took it, or it left the queue, nothing is done: the shopper's message is
// theirs.
func (d *Desk) whileQueued(ctx context.Context, conv string, decide func(Conversation) (Change, error)) error {
	_, err := d.change(ctx, conv, func(c Conversation) (Change, error) {
		if c.Status != StatusQueued {
			return Change{}, errDone
		}
		ch, err := decide(c)
		if err == nil && ch.Next == nil && len(ch.Append) == 0 {
			return Change{}, errDone
		}
		return ch, err
	})
	if errors.Is(err, errDone) {
		return nil
	}
	return err
}
