package handoff

import (
	"context"
	"fmt"
	"strings"

	"github.com/kefu-im/kefu/internal/secret"
)

// Reply stores an agent's message. The agent must own the conversation. msgID makes a
// retried request idempotent; empty means a fresh id.
func (d *Desk) Reply(ctx context.Context, id, agent, msgID, text string) (Message, error) {
	return d.send(ctx, id, agent, AgentMessage{ID: msgID, Text: text})
}

// AgentMessage is what an agent sends in a chat.
type AgentMessage struct {
	// ID makes a retried request idempotent; empty means a fresh id.
	ID   string
	Text string
	// Attachments are the ids of photos uploaded to the conversation; a message has
	// text, photos or both.
	Attachments []string
}

// send stores an agent's message, as Reply does.
func (d *Desk) send(ctx context.Context, id, agent string, am AgentMessage) (Message, error) {
	msgID := am.ID
	if msgID == "" {
		msgID = secret.New("")
	}
	atts, err := d.attachments(ctx, id, am.Attachments)
	if err != nil {
		return Message{}, err
	}
	if am.Text == "" && len(atts) == 0 {
		return Message{}, fmt.Errorf("replying in %q: a message needs text or a photo", id)
	}
	m := Message{ID: "agent:" + agent + ":" + msgID, Kind: KindMessage, From: FromAgent, Agent: agent, Text: am.Text, Attachments: atts}
	now := d.nowMS()
	res, err := d.change(ctx, id, func(c Conversation) (Change, error) {
		if err := owned(c, agent); err != nil {
			return Change{}, err
		}
		ch := Change{Append: []Message{m}}
		if c.RepliedAt.IsZero() {
			// The first answer since the chat went to people ends its first-reply wait.
			next := c
			next.RepliedAt = now
			ch.Next = &next
		}
		return ch, nil
	})
	if err != nil {
		return Message{}, fmt.Errorf("replying in %q: %w", id, err)
	}
	return res.Messages[0], nil
}

// ReplyOverriding stores an agent's message like Reply, with its photos; when found is
// not empty (the contact guard refused the text and the agent overrode it), it also
// records the override as a note of the conversation: who sent what (masked) and why. A
// retry with the same message id stores neither twice. A note that cannot be written is
// logged with everything it would have held, since the reply is already stored.
func (d *Desk) ReplyOverriding(ctx context.Context, id, agent string, am AgentMessage, found []ContactFinding, reason string) (Message, error) {
	if am.ID == "" {
		am.ID = secret.New("")
	}
	msgID := am.ID
	m, err := d.send(ctx, id, agent, am)
	if err != nil || len(found) == 0 {
		return m, err
	}
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.String()
	}
	n := Note{
		ID: "override:" + agent + ":" + msgID, Kind: NoteOverride, Author: agent, AfterSeq: m.Seq,
		Text:  fmt.Sprintf("放行发送站外联系方式：%s。原因：%s", strings.Join(names, "、"), reason),
		Found: found, Reason: reason, Message: m.Seq,
	}
	if _, err := d.addNote(ctx, id, n); err != nil {
		d.log.Error().Err(err).Str("conv", id).Str("agent", agent).Int64("seq", m.Seq).Strs("found", names).
			Msg("recording a contact guard override")
	}
	return m, nil
}
