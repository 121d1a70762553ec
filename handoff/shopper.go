package handoff

import (
	"context"
	"errors"
	"time"
)

// Shopper is who a conversation belongs to. A verified shopper's identity and attributes
// were signed by the shop (widget.Config.IdentitySecret); anything else is an anonymous
// visitor with a random id, whose attributes are never shown or trusted.
type Shopper struct {
	// ID is the shop's id of the buyer when Verified, else a random visitor id ("v_…").
	ID       string  `json:"id"`
	Name     string  `json:"name,omitempty"`
	VIP      int     `json:"vip,omitempty"`
	Orders   []Order `json:"orders,omitempty"`
	Verified bool    `json:"verified"`
}

// Order is one of a verified shopper's recent orders, as the shop signed it.
type Order struct {
	ID     string   `json:"id"`
	Items  []string `json:"items,omitempty"`
	Status string   `json:"status,omitempty"`
}

// maxShopperHistory is how many conversations the stores index per verified shopper.
const maxShopperHistory = 20

// StartAs creates a conversation of shopper sh (nil: an anonymous visitor without
// attributes) and returns it with the shopper's secret token. A verified shopper's
// conversation is added to their index of conversations (Store.AddShopperConversation).
func (d *Desk) StartAs(ctx context.Context, sh *Shopper) (Conversation, string, error) {
	token := randomID("t_")
	c := Conversation{
		ID: randomID("c_"), TokenHash: hashToken(token), Epoch: randomID("")[:12],
		Status: StatusBot, CreatedAt: d.now(), Shopper: sh,
	}
	if err := d.store.Create(ctx, c); err != nil {
		return Conversation{}, "", err
	}
	if sh != nil && sh.Verified {
		// The index only lists earlier chats to agents; a chat missing from it is still
		// the shopper's, so a failure is logged and the chat goes on.
		if err := d.store.AddShopperConversation(ctx, sh.ID, c.ID); err != nil {
			d.log.Warn().Err(err).Str("conv", c.ID).Msg("indexing the shopper's conversation")
		}
	}
	return c, token, nil
}

// OpenAs is Open for a shopper: besides the token, a conversation of a verified shopper
// may only be opened by that same verified shopper (shopperID is the verified id, empty
// for an anonymous visitor). Every refusal is ErrBadToken, so it tells nothing.
func (d *Desk) OpenAs(ctx context.Context, id, token, shopperID string) (Conversation, error) {
	c, err := d.Open(ctx, id, token)
	if err != nil {
		return Conversation{}, err
	}
	if c.Shopper != nil && c.Shopper.Verified && c.Shopper.ID != shopperID {
		return Conversation{}, ErrBadToken
	}
	return c, nil
}

// Decision is one decision the bot made in a conversation, kept for the agents'
// context packet (the last maxDecisions of them).
type Decision struct {
	// Key is the shopper's message id the decision answered; a decision is kept once
	// per key.
	Key        string      `json:"key"`
	Seq        int64       `json:"seq,omitempty"`
	Action     string      `json:"action"`
	Reason     string      `json:"reason,omitempty"`
	Intent     string      `json:"intent,omitempty"`
	Category   string      `json:"category,omitempty"`
	Confidence float64     `json:"confidence"`
	Article    string      `json:"article,omitempty"`
	Hits       []Candidate `json:"hits,omitempty"`
	TS         int64       `json:"ts"`
}

// maxDecisions is how many bot decisions the stores keep per conversation.
const maxDecisions = 20

// RecordDecision keeps a bot decision for the conversation's context packet.
func (d *Desk) RecordDecision(ctx context.Context, conv string, dec Decision) error {
	if dec.Key == "" {
		return errors.New("recording decision: empty key")
	}
	if dec.TS == 0 {
		dec.TS = d.now().UnixMilli()
	}
	return d.store.AddDecision(ctx, conv, dec)
}

// PastConversation is an earlier conversation of the same verified shopper.
type PastConversation struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Status    string    `json:"status"`
	Agent     string    `json:"agent,omitempty"`
	// First is the shopper's first message, shortened.
	First string `json:"first,omitempty"`
}
