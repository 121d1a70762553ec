package handoff

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/kefu-im/kefu/internal/triage"
)

// Packet is the context an agent sees next to a conversation (the console's sidebar):
// who the shopper is, what the bot decided at each turn, the order numbers and phone
// numbers found in the shopper's messages, how long the chat has waited, and the
// shopper's earlier conversations.
type Packet struct {
	// Shopper is the conversation's shopper. For an anonymous visitor only ID and
	// Verified (false) are given: attributes nobody signed are never shown.
	Shopper *Shopper `json:"shopper,omitempty"`
	// Decisions are the bot's decisions, oldest first (the last maxDecisions).
	Decisions []Decision `json:"decisions"`
	// Intent and Category are those of the latest decision that has one.
	Intent   triage.Intent `json:"intent,omitempty"`
	Category string        `json:"category,omitempty"`
	// Detected are the order numbers and phone numbers in the shopper's messages,
	// each once, in order of appearance.
	Detected []Detected `json:"detected"`
	// WaitingS is how long the chat has waited for a person (queued: until now;
	// claimed: until the claim), in seconds; 0 when it never waited.
	WaitingS int64 `json:"waiting_s"`
	// Previous are the verified shopper's earlier conversations, newest first.
	Previous []PastConversation `json:"previous"`
}

// Detected is an order number or phone number found in a shopper's message.
type Detected struct {
	// Kind is DetectedOrder or DetectedPhone.
	Kind  string `json:"kind"`
	Value string `json:"value"`
	// Masked is Value as logs may show it.
	Masked string `json:"masked"`
	// Seq is the record it was first found in.
	Seq int64 `json:"seq"`
	// Verified is true when the conversation's shopper is verified. An order number an
	// unverified visitor typed must be confirmed by the buyer from their own account
	// before any of its details are given (docs/domain.md rule 5).
	Verified bool `json:"verified"`
}

// Kinds of Detected.
const (
	DetectedOrder = "order"
	DetectedPhone = "phone"
)

var (
	// detRun is a run of ASCII letters and digits: order and phone numbers are whole
	// runs, never part of a longer one.
	detRun = regexp.MustCompile(`[A-Za-z0-9]+`)
	// detMobile is a mainland detMobile number; detOrderDigits and detOrderLetters are Chinese
	// platforms' order numbers: a long digit string, or a short letter prefix and digits.
	detMobile       = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	detOrderDigits  = regexp.MustCompile(`^[0-9]{16,20}$`)
	detOrderLetters = regexp.MustCompile(`^[A-Za-z]{1,4}[0-9]{10,20}$`)
	// detSpacedMobile is a detMobile number written 138-1234-5678 or 138 1234 5678.
	detSpacedMobile = regexp.MustCompile(`1[3-9][0-9][- ][0-9]{4}[- ][0-9]{4}`)
)

// Detect returns the order numbers and detMobile phone numbers in text, in order, each
// once (Seq and Verified unset).
func Detect(text string) []Detected {
	text = detSpacedMobile.ReplaceAllStringFunc(text, func(s string) string {
		return strings.NewReplacer("-", "", " ", "").Replace(s)
	})
	var out []Detected
	seen := map[string]bool{}
	for _, run := range detRun.FindAllString(text, -1) {
		kind := ""
		switch {
		case detMobile.MatchString(run):
			kind = DetectedPhone
		case detOrderDigits.MatchString(run), detOrderLetters.MatchString(run):
			kind = DetectedOrder
		default:
			continue
		}
		if seen[kind+run] {
			continue
		}
		seen[kind+run] = true
		out = append(out, Detected{Kind: kind, Value: run, Masked: Mask(kind, run)})
	}
	return out
}

// Mask hides the middle of a phone number (138****5678) or an order number (its first
// and last four characters stay), for logs.
func Mask(kind, v string) string {
	keepHead, keepTail := 4, 4
	if kind == DetectedPhone {
		keepHead = 3
	}
	if len(v) <= keepHead+keepTail {
		return strings.Repeat("*", len(v))
	}
	return v[:keepHead] + strings.Repeat("*", len(v)-keepHead-keepTail) + v[len(v)-keepTail:]
}

// Packet returns the context packet of conversation id, for agents.
func (d *Desk) Packet(ctx context.Context, id string) (Packet, error) {
	c, err := d.convs.Conversation(ctx, id)
	if err != nil {
		return Packet{}, err
	}
	verified := c.Shopper != nil && c.Shopper.Verified
	p := Packet{Decisions: []Decision{}, Detected: []Detected{}, Previous: []PastConversation{}}
	switch {
	case verified:
		sh := *c.Shopper
		p.Shopper = &sh
	case c.Shopper != nil:
		p.Shopper = &Shopper{ID: c.Shopper.ID}
	}

	decs, err := d.annals.Decisions(ctx, id)
	if err != nil {
		return Packet{}, err
	}
	if len(decs) == 0 && c.Context != nil {
		// Conversations handed off before decisions were kept have the hand-off's one.
		decs = []Decision{{Key: "handoff", Action: triage.Handoff, Reason: c.Context.Reason, Intent: c.Context.Intent,
			Confidence: c.Context.Confidence, Hits: c.Context.Hits}}
	}
	p.Decisions = append(p.Decisions, decs...)
	p.Intent = c.Intent
	for _, dec := range decs {
		if dec.Intent != "" {
			p.Intent = dec.Intent
		}
		if dec.Category != "" {
			p.Category = dec.Category
		}
	}

	msgs, err := d.convs.Messages(ctx, id, 0, 0)
	if err != nil {
		return Packet{}, err
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if m.Kind != KindMessage || m.From != FromShopper {
			continue
		}
		for _, det := range Detect(m.Text) {
			if seen[det.Kind+det.Value] {
				continue
			}
			seen[det.Kind+det.Value] = true
			det.Seq, det.Verified = m.Seq, verified
			p.Detected = append(p.Detected, det)
		}
	}

	if !c.EnqueuedAt.IsZero() {
		end := d.now()
		if c.Status != StatusQueued && !c.ClaimedAt.IsZero() && c.ClaimedAt.After(c.EnqueuedAt) {
			end = c.ClaimedAt
		}
		p.WaitingS = int64(max(end.Sub(c.EnqueuedAt), 0) / time.Second)
	}

	if verified {
		if p.Previous, err = d.previous(ctx, c.Shopper.ID, id); err != nil {
			return Packet{}, err
		}
	}
	return p, nil
}

// previous returns the shopper's conversations other than current, newest first.
func (d *Desk) previous(ctx context.Context, shopper, current string) ([]PastConversation, error) {
	ids, err := d.annals.ShopperConversations(ctx, shopper)
	if err != nil {
		return nil, err
	}
	out := []PastConversation{}
	for _, cid := range ids {
		if cid == current {
			continue
		}
		c, err := d.convs.Conversation(ctx, cid)
		if errors.Is(err, ErrNotFound) {
			continue // expired or deleted
		}
		if err != nil {
			return nil, err
		}
		// The index is written by Start alone, but check the owner anyway: an agent
		// must never see another buyer's chat as this one's.
		if c.Shopper == nil || !c.Shopper.Verified || c.Shopper.ID != shopper {
			continue
		}
		pc := PastConversation{ID: c.ID, CreatedAt: c.CreatedAt, Status: c.Status, Agent: c.Agent}
		msgs, err := d.convs.Messages(ctx, cid, 0, 20)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		for _, m := range msgs {
			if m.Kind == KindMessage && m.From == FromShopper {
				pc.First = shorten(m.Text, 60)
				break
			}
		}
		out = append(out, pc)
	}
	return out, nil
}
