package handoff

import (
	"context"
	"fmt"

	"github.com/kefu-im/kefu/internal/triage"
)

// Small talk (docs/domain.md rule 16): a greeting, thanks, goodbye, presence check or
// acknowledgement gets a short reply from the shop's phrases and nothing else. It is no
// question, so it is not kept among the bot's decisions, never hands off, and never
// changes a queue.

// smallTalk replies to the small talk msg while the conversation is the bot's. prev is
// the bot's previous turn: thanks right after an answer closes the loop
// (Phrases.SmallTalkThanksMore).
func (d *Desk) smallTalk(ctx context.Context, conv string, l Lang, msg Message, intent triage.Intent, prev *Turn) error {
	text := d.SmallTalkReply(l, intent, prev != nil && prev.Article != "")
	m := Message{ID: "bot:" + msg.ID, Kind: KindMessage, From: FromBot, Text: text, SmallTalk: intent}
	if _, _, err := d.Append(ctx, conv, m); err != nil {
		return fmt.Errorf("replying to small talk: %w", err)
	}
	return nil
}

// smallTalkWaiting replies to the small talk msg while the conversation waits in a
// queue: the shopper hears that they are waiting, and the queue is left as it is.
func (d *Desk) smallTalkWaiting(ctx context.Context, conv string, msg Message, intent triage.Intent) error {
	return d.whileQueued(ctx, conv, func(c Conversation) (Change, error) {
		p := d.PhrasesFor(c.Lang)
		text := p.SmallTalkQueued
		if intent == triage.IntentPresence {
			text = p.SmallTalkPresenceQueued
		}
		m := Message{ID: "bot:" + msg.ID, Kind: KindMessage, From: FromBot, Text: text, SmallTalk: intent}
		return Change{Append: []Message{m}}, nil
	})
}

// resolvedSmallTalk asks the bot whether m, written to a resolved conversation, is small
// talk: 「谢谢」 or 「拜拜」 after the agent's resolve is no reason to reopen it.
func (d *Desk) resolvedSmallTalk(ctx context.Context, m ShopperMessage) (BotDecision, bool) {
	if d.bot == nil || m.Text == "" || len(m.Attachments) > 0 || m.Article != "" {
		return BotDecision{}, false
	}
	dec, err := d.bot.Decide(ctx, Question{Text: m.Text})
	if err != nil {
		d.log.Warn().Err(err).Msg("bot decision on a resolved chat")
		return BotDecision{}, false
	}
	return dec, dec.Action == triage.SmallTalk
}

// smallTalkResolved stores the small talk m in the resolved conversation conv and
// replies to it; the conversation stays resolved. A resend is stored and replied to once.
func (d *Desk) smallTalkResolved(ctx context.Context, conv string, l Lang, m ShopperMessage, atts []Attachment, dec BotDecision, stored func(Message, bool)) (Said, error) {
	res, err := d.commit(ctx, Change{Conv: conv, Append: []Message{{ID: m.ID, Kind: KindMessage, From: FromShopper, Text: m.Text, Attachments: atts}}})
	if err != nil {
		return Said{}, fmt.Errorf("storing a shopper's message in %q: %w", conv, err)
	}
	said := Said{Message: res.Messages[0], Dup: res.Dup, Decision: &dec}
	if stored != nil {
		stored(said.Message, said.Dup)
	}
	reply := Message{ID: "bot:" + m.ID, Kind: KindMessage, From: FromBot, Text: d.SmallTalkReply(l, dec.Intent, false), SmallTalk: dec.Intent}
	if _, _, err := d.Append(ctx, conv, reply); err != nil {
		return said, fmt.Errorf("replying to small talk: %w", err)
	}
	return said, nil
}

// SmallTalkReply is the reply in language l to small talk of intent while the chat is
// the bot's; afterAnswer is true right after the bot answered a question.
func (d *Desk) SmallTalkReply(l Lang, intent triage.Intent, afterAnswer bool) string {
	p := d.PhrasesFor(l)
	switch intent {
	case triage.IntentThanks:
		if afterAnswer {
			return p.SmallTalkThanksMore
		}
		return p.SmallTalkThanks
	case triage.IntentGoodbye:
		return p.SmallTalkGoodbye
	case triage.IntentPresence:
		return p.SmallTalkPresence
	case triage.IntentAck:
		return p.SmallTalkAck
	}
	return p.SmallTalkGreeting
}
