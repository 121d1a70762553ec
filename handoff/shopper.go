package handoff

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-im/kefu/internal/secret"
	"github.com/kefu-im/kefu/internal/triage"
)

// The shopper's side of the desk: starting and opening a conversation, and "a shopper
// says something" — store, dedupe, reopen, ask the bot, record its decision, answer or
// hand off to the right group with the right priority — in one place.

// maxShopperHistory is how many conversations are listed per verified shopper.
const maxShopperHistory = 20

// DefaultMaxLog bounds a conversation's log unless DeskConfig.MaxLog says otherwise
// (docs/domain.md rule 30): once it holds that many records, a shopper's message is
// refused with ErrLogFull. A real chat stays far below; a script writing into one chat
// from many sockets stops there.
const DefaultMaxLog = 2000

// StartAs creates a conversation of shopper sh (nil: an anonymous visitor without
// attributes) and returns it with the shopper's secret token. A verified shopper's
// conversation is added to their list of conversations.
func (d *Desk) StartAs(ctx context.Context, sh *Shopper) (Conversation, string, error) {
	return d.StartIn(ctx, sh, LangZH)
}

// StartIn is StartAs for a conversation held in language l: its system messages,
// phrases and notices are in l.
func (d *Desk) StartIn(ctx context.Context, sh *Shopper, l Lang) (Conversation, string, error) {
	c, token := d.Draft(sh, l)
	c, err := d.Keep(ctx, c)
	return c, token, err
}

// Draft returns a new conversation of shopper sh in language l, and its token, without
// storing it (docs/domain.md rule 30): a visitor who opens the widget and says nothing
// leaves nothing behind. Keep stores it at the shopper's first message. The draft's id
// and epoch are digests of its token (and of its shopper's id when verified), so OpenAs
// knows a draft again by its token alone, on any node, with nothing stored, and a
// verified shopper's draft only for that shopper.
func (d *Desk) Draft(sh *Shopper, l Lang) (Conversation, string) {
	token := secret.New("t_")
	verified := ""
	if sh != nil && sh.Verified {
		verified = sh.ID
	}
	c := draftOf(token, verified)
	c.Shopper, c.Lang = sh, l.Of()
	return c, token
}

// draftOf is the unstored conversation of token drafted for the verified shopper
// verified (empty for anyone else): Rev 0, with the bot.
func draftOf(token, verified string) Conversation {
	return Conversation{
		ID: draftID(token, verified), TokenHash: secret.Hash(token), Epoch: secret.Hash("epoch:" + token)[:12],
		Status: StatusBot,
	}
}

// draftID is the id of the conversation of token and verified: "c_" and 22 characters
// of a digest that a reader of the id cannot turn back into the token.
func draftID(token, verified string) string {
	sum := sha256.Sum256([]byte("conversation:" + verified + ":" + token))
	return "c_" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// Stored reports whether c is kept by the desk rather than a draft (Draft).
func (c Conversation) Stored() bool { return c.Rev > 0 }

// Keep stores c if it is a draft and returns it as stored. Two sockets of one draft
// may keep it at once: the second gets the first one's conversation.
func (d *Desk) Keep(ctx context.Context, c Conversation) (Conversation, error) {
	if c.Stored() {
		return c, nil
	}
	c.Rev, c.CreatedAt = 1, d.nowMS()
	err := d.convs.Create(ctx, c)
	if errors.Is(err, ErrExists) {
		return d.convs.Conversation(ctx, c.ID)
	}
	if err != nil {
		return Conversation{}, err
	}
	if sh := c.Shopper; sh != nil && sh.Verified {
		// The list only shows earlier chats to agents; a chat missing from it is still
		// the shopper's, so a failure is logged and the chat goes on.
		if err := d.annals.AddShopperConversation(ctx, sh.ID, c.ID, maxShopperHistory); err != nil {
			d.log.Warn().Err(err).Str("conv", c.ID).Msg("listing the shopper's conversation")
		}
	}
	return c, nil
}

// OpenAs is Open for a shopper: besides the token, a conversation of a verified shopper
// may only be opened by that same verified shopper (shopperID is the verified id, empty
// for an anonymous visitor). Every refusal is ErrBadToken, so it tells nothing. A draft
// (Draft) opens as a draft without a shopper or language: the caller gives it the
// shopper and language of whoever opened it, since nothing of it was stored.
func (d *Desk) OpenAs(ctx context.Context, id, token, shopperID string) (Conversation, error) {
	c, err := d.Open(ctx, id, token)
	if errors.Is(err, ErrBadToken) && token != "" && id == draftID(token, shopperID) {
		// Only the token the id was drafted from gives the id again, so the token is
		// right and the conversation was never stored.
		return draftOf(token, shopperID), nil
	}
	if err != nil {
		return Conversation{}, err
	}
	if c.Shopper != nil && c.Shopper.Verified && c.Shopper.ID != shopperID {
		return Conversation{}, ErrBadToken
	}
	return c, nil
}

// ShopperMessage is something a shopper sent.
type ShopperMessage struct {
	// ID is the client's message id: a resend with the same id is stored once and
	// answered once.
	ID   string
	Text string
	// Article is the article the shopper picked from the bot's suggestions, if any.
	Article string
	// Attachments are the ids of photos uploaded to the conversation; a message has
	// text, photos or both.
	Attachments []string
	// MayHandOff, when set, is asked before the bot's decision to hand the chat to
	// people is carried out: the shopper's client may be over its limit of hand-offs. On
	// false nothing more is stored (neither the decision nor the bot's reply) and
	// ShopperSays returns ErrLimited, so that volume never buys a place in the queue.
	MayHandOff func(ctx context.Context) bool
}

// Said is what became of a shopper's message.
type Said struct {
	// Message is the message as stored, and Dup whether it was stored before.
	Message Message
	Dup     bool
	// Decision is what the bot decided, nil when it was not asked (a person has the
	// chat, or the message was answered before).
	Decision *BotDecision
}

// ShopperSays hears a shopper's message m in conversation conv: a resolved chat is
// reopened first (Reopen), so that whoever takes it sees the message, unless m is small
// talk, which the bot answers in the resolved chat; the message is
// stored (once per m.ID), and stored is called with it at once, before anything else,
// so that the shopper's widget can acknowledge it; then, while the conversation is the
// bot's, the bot decides, its decision is kept for the agents, its answer stored, and a
// hand-off puts the chat in the right queue with the bot's context. While the chat waits
// in a queue the bot still reads the message (answerWaiting).
func (d *Desk) ShopperSays(ctx context.Context, conv string, m ShopperMessage, stored func(Message, bool)) (Said, error) {
	if m.ID == "" {
		return Said{}, errors.New("a shopper's message needs an id")
	}
	if m.Text == "" && len(m.Attachments) == 0 {
		return Said{}, errors.New("a shopper's message needs text or a photo")
	}
	atts, err := d.attachments(ctx, conv, m.Attachments)
	if err != nil {
		return Said{}, err
	}
	c, err := d.convs.Conversation(ctx, conv)
	if err != nil {
		return Said{}, err
	}
	if c.Seq >= d.maxLog {
		return Said{}, fmt.Errorf("storing a shopper's message in %q: %w", conv, ErrLogFull)
	}
	status := c.Status
	if status == StatusResolved {
		if dec, ok := d.resolvedSmallTalk(ctx, m); ok {
			// 「谢谢」 after the agent's resolve: a reply, and the chat stays resolved.
			return d.smallTalkResolved(ctx, conv, c.Lang, m, atts, dec, stored)
		}
		if status, err = d.Reopen(ctx, conv, m.ID); err != nil {
			return Said{}, err
		}
	}
	res, err := d.commit(ctx, Change{Conv: conv, Append: []Message{{ID: m.ID, Kind: KindMessage, From: FromShopper, Text: m.Text, Attachments: atts}}})
	if err != nil {
		return Said{}, fmt.Errorf("storing a shopper's message in %q: %w", conv, err)
	}
	said := Said{Message: res.Messages[0], Dup: res.Dup}
	if stored != nil {
		stored(said.Message, said.Dup)
	}
	if !said.Dup && c.Marks&MarkCounted == 0 {
		d.count(ctx, conv)
	}
	if said.Dup {
		// A resend. The bot answers it again only if its first answer never got stored:
		// the message is still the last record.
		cur, err := d.convs.Conversation(ctx, conv)
		if err != nil || cur.Seq != said.Message.Seq {
			return said, err
		}
		status = cur.Status
	}
	if d.bot == nil || status != StatusBot && status != StatusQueued {
		return said, nil // a person has the conversation
	}
	if status == StatusQueued {
		if said.Message.Text == "" {
			return said, nil // a photo alone, for the person the shopper waits for
		}
		said.Decision, err = d.answerWaiting(ctx, conv, said.Message)
		return said, err
	}
	if said.Message.Text == "" {
		// A photo alone: the bot cannot read it, so it says so instead of answering and
		// the shopper may ask for a person (docs/domain.md rule 8).
		ack := Message{ID: "bot:" + said.Message.ID, Kind: KindMessage, From: FromBot, Text: d.PhrasesFor(c.Lang).PhotoReceived}
		if _, _, err := d.Append(ctx, conv, ack); err != nil {
			return said, fmt.Errorf("acknowledging a photo: %w", err)
		}
		return said, nil
	}
	dec, err := d.answer(ctx, c, said.Message, m.Article, m.MayHandOff)
	said.Decision = &dec
	return said, err
}

// answer lets the bot decide on the shopper's message msg and carries the decision out.
// Every record is keyed by the message's id, so a resend never answers twice.
func (d *Desk) answer(ctx context.Context, c Conversation, msg Message, article string, mayHandOff func(context.Context) bool) (BotDecision, error) {
	conv := c.ID
	q := Question{Text: msg.Text, Article: article, Previous: d.previousTurn(ctx, conv, msg.Seq)}
	start := time.Now()
	dec, err := d.bot.Decide(ctx, q)
	d.decided(start)
	if err != nil {
		// Without a working bot, a person is the honest answer.
		d.log.Error().Err(err).Str("conv", conv).Msg("bot decision")
		dec = BotDecision{Action: triage.Handoff, Reason: triage.ReasonLowConfidence, Intent: triage.IntentOther}
	}
	if dec.Action == triage.SmallTalk {
		return dec, d.smallTalk(ctx, conv, c.Lang, msg, dec.Intent, q.Previous)
	}
	if dec.Action == triage.Handoff && mayHandOff != nil && !mayHandOff(ctx) {
		return dec, ErrLimited
	}
	if err := d.RecordDecision(ctx, conv, decisionOf(dec, msg)); err != nil {
		// The decision only informs agents; the answer goes on without it.
		d.log.Warn().Err(err).Str("conv", conv).Msg("keeping the bot decision")
	}
	if dec.Action == triage.Clarify {
		dec.Text = d.PhrasesFor(c.Lang).Clarify // the prompt in the conversation's language
	}
	if dec.Text != "" {
		m := Message{ID: "bot:" + msg.ID, Kind: KindMessage, From: FromBot, Text: dec.Text, Suggestions: dec.Suggestions}
		if dec.Article != nil && dec.Action != triage.Clarify {
			m.Article = dec.Article
		}
		if _, _, err := d.Append(ctx, conv, m); err != nil {
			return dec, fmt.Errorf("storing the bot's answer: %w", err)
		}
	}
	if dec.Action != triage.Handoff {
		return dec, nil
	}
	h := HandoffRequest{Key: msg.ID, Reason: dec.Reason, Intent: dec.Intent, Context: contextOf(dec, msg.Text)}
	if err := d.Handoff(ctx, conv, h); err != nil && !errors.Is(err, ErrWrongStatus) {
		return dec, fmt.Errorf("handing off: %w", err)
	}
	return dec, nil
}

// AskForPerson is the shopper's 「转人工」: the conversation goes to a person, in the queue
// its latest intent calls for. A chat with people already stays as it is; a resolved one
// is reopened (Reopen). key is the id of the shopper's request.
func (d *Desk) AskForPerson(ctx context.Context, conv, key string) error {
	c, err := d.convs.Conversation(ctx, conv)
	if err != nil {
		return err
	}
	switch c.Status {
	case StatusQueued, StatusActive:
		return nil
	case StatusResolved:
		st, err := d.Reopen(ctx, conv, "h"+key)
		if err != nil || st != StatusBot {
			return err
		}
	}
	intent := c.Intent
	if decs, err := d.annals.Decisions(ctx, conv); err == nil {
		for _, dec := range decs {
			if dec.Intent != "" {
				intent = dec.Intent
			}
		}
	}
	h := HandoffRequest{Key: key, Reason: triage.ReasonRequested, Intent: intent}
	if err := d.Handoff(ctx, conv, h); err != nil && !errors.Is(err, ErrWrongStatus) {
		return err
	}
	return nil
}

// previousTurnWindow is how many records before a message are read for its context.
const previousTurnWindow = 12

// previousTurn finds, in the log before seq, the bot's last reply and the shopper's
// question it answered. The log, not the socket, is the memory, so a shopper who
// reconnects to another node keeps the context. A hand-off or status change in between
// starts a new round without one; small talk and the bot's reply to it are skipped.
func (d *Desk) previousTurn(ctx context.Context, conv string, seq int64) *Turn {
	msgs, err := d.convs.Messages(ctx, conv, max(seq-1-previousTurnWindow, 0), previousTurnWindow)
	if err != nil {
		return nil
	}
	var t *Turn
	talk := false // the shopper message before is small talk the bot replied to
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Seq >= seq {
			continue
		}
		switch {
		case m.Kind != KindMessage:
			return nil
		case t == nil && m.From == FromBot && m.SmallTalk != "":
			// Small talk in between keeps the round: 「好的」 then 「那运费呢」 still
			// follows the answer before.
			talk = true
		case t == nil && talk && m.From == FromShopper:
			talk = false
		case t == nil && m.From == FromBot:
			t = &Turn{Weak: len(m.Suggestions) > 0}
			if m.Article != nil && !t.Weak {
				t.Article = m.Article.ID
			}
		case t != nil && m.From == FromShopper:
			t.Text = m.Text
			return t
		case t == nil && m.From == FromShopper:
			return nil // the last shopper message got no bot reply
		}
	}
	return nil
}

// contextOf turns the bot's decision into the hand-off packet agents see.
func contextOf(d BotDecision, question string) *Context {
	return &Context{Reason: d.Reason, Intent: d.Intent, Confidence: d.Confidence, Question: question, Hits: d.Hits}
}

// Decision is one decision the bot made in a conversation, kept for the agents'
// context packet (the last maxDecisions of them).
type Decision struct {
	// Key is the shopper's message id the decision answered; a decision is kept once
	// per key.
	Key        string        `json:"key"`
	Seq        int64         `json:"seq,omitempty"`
	Action     triage.Action `json:"action"`
	Reason     triage.Reason `json:"reason,omitempty"`
	Intent     triage.Intent `json:"intent,omitempty"`
	Category   string        `json:"category,omitempty"`
	Confidence float64       `json:"confidence"`
	Article    string        `json:"article,omitempty"`
	Hits       []Candidate   `json:"hits,omitempty"`
	TS         int64         `json:"ts"`
}

// maxDecisions is how many bot decisions are kept per conversation.
const maxDecisions = 20

// maxDecisionHits is how many of the bot's hits a kept decision carries.
const maxDecisionHits = 5

// decisionOf is the bot's decision on shopper's message msg as agents see it.
func decisionOf(d BotDecision, msg Message) Decision {
	out := Decision{Key: msg.ID, Seq: msg.Seq, Action: d.Action, Reason: d.Reason, Intent: d.Intent, Confidence: d.Confidence}
	if d.Article != nil {
		out.Article, out.Category = d.Article.ID, d.Article.Category
	}
	out.Hits = d.Hits[:min(len(d.Hits), maxDecisionHits)]
	return out
}

// RecordDecision keeps a bot decision for the conversation's context packet.
func (d *Desk) RecordDecision(ctx context.Context, conv string, dec Decision) error {
	if dec.Key == "" {
		return errors.New("recording decision: empty key")
	}
	if dec.TS == 0 {
		dec.TS = d.now().UnixMilli()
	}
	return d.annals.AddDecision(ctx, conv, dec, maxDecisions)
}

// PastConversation is an earlier conversation of the same verified shopper.
type PastConversation struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Status    Status    `json:"status"`
	Agent     string    `json:"agent,omitempty"`
	// First is the shopper's first message, shortened.
	First string `json:"first,omitempty"`
}

// ShopperOf returns who answers for the shopper of c in ticket histories: the
// conversation's shopper, or the conversation itself when it has none.
func ShopperOf(c Conversation) string {
	if c.Shopper != nil && c.Shopper.ID != "" {
		return c.Shopper.ID
	}
	return "conv:" + c.ID
}

// shorten cuts s to n characters with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n])) + "…"
}
