package handoff

import (
	"time"

	"github.com/kefu-im/kefu/internal/triage"
)

// Status is where a conversation stands in the hand-off flow.
type Status string

// Conversation statuses.
const (
	StatusBot      Status = "bot"      // the bot answers
	StatusQueued   Status = "queued"   // waiting in its group's queue for a person
	StatusActive   Status = "active"   // an agent owns it
	StatusResolved Status = "resolved" // closed by its agent, or left as a message
)

// Group is a skill group of agents, each with its own queue (DeskConfig.Groups).
type Group string

// The skill groups every desk has unless configured otherwise. After-sales hand-offs
// always go to GroupAftersale (docs/domain.md rule 7).
const (
	GroupPresale   Group = "presale"
	GroupAftersale Group = "aftersale"
)

// Kind is the kind of a record of a conversation's log.
type Kind string

// Record kinds.
const (
	KindMessage Kind = "message" // something someone said
	KindHandoff Kind = "handoff" // the conversation went to a queue
	KindStatus  Kind = "status"  // the conversation's status changed
	KindTicket  Kind = "ticket"  // an after-sales ticket's remedy was proposed or answered
)

// From is who wrote a record.
type From string

// Writers of records.
const (
	FromShopper From = "shopper"
	FromBot     From = "bot"
	FromAgent   From = "agent"
	FromSystem  From = "system"
)

// Conversation is one shopper's chat and its place in the hand-off flow: the record an
// engine keeps of it beside its log. Every change of the record is decided by the desk
// and committed by the engine against the revision it was read at (Change.Rev).
type Conversation struct {
	ID string `json:"id"`
	// TokenHash is the SHA-256 of the shopper's secret token, hex.
	TokenHash string `json:"-"`
	// Epoch changes when the conversation's history was lost and restarted.
	Epoch  string        `json:"epoch"`
	Status Status        `json:"status"`
	Group  Group         `json:"group,omitempty"`
	Agent  string        `json:"agent,omitempty"`
	Reason triage.Reason `json:"reason,omitempty"`
	Intent triage.Intent `json:"intent,omitempty"`
	// VIP is the shopper's VIP level, 0 for none; it raises the chat's priority.
	VIP int `json:"vip,omitempty"`
	// Seq is the last sequence number stored in the conversation's log; the engine
	// keeps it.
	Seq int64 `json:"seq"`
	// Rev counts the changes of the record; the engine keeps it.
	Rev       int64     `json:"rev"`
	CreatedAt time.Time `json:"created_at"`
	// EnqueuedAt is when the chat started waiting; a transfer to another group keeps it.
	EnqueuedAt time.Time `json:"enqueued_at,omitzero"`
	ClaimedAt  time.Time `json:"claimed_at,omitzero"`
	// ClosedAt is when the conversation was last resolved.
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// RepliedAt is when an agent first answered since the conversation last went to
	// people (a hand-off, a transfer to a queue, a reopening); zero while that first
	// answer is awaited.
	RepliedAt time.Time `json:"replied_at,omitzero"`
	// Score orders its group's queue while it waits, lowest first (Desk.score); Front
	// puts it ahead of every chat that is not at the front (its agent went offline, or
	// it came back within the reopen window).
	Score int64 `json:"-"`
	Front bool  `json:"-"`
	// Key is the idempotency key of the change that last put the chat with people, so
	// that a retried hand-off is told from a second one.
	Key string `json:"-"`
	// Marks are what the reports counted once for the conversation (tally.go).
	Marks   Marks    `json:"-"`
	Context *Context `json:"context,omitempty"`
	// Shopper is who the conversation belongs to, set when it starts.
	Shopper *Shopper `json:"shopper,omitempty"`
	// Rating is the shopper's rating of the chat's last rated resolution (Desk.Rate).
	Rating *Rating `json:"rating,omitempty"`
	// Lang is the language the shopper's widget speaks, set when it starts: every
	// system message, phrase and notice of the conversation is in it. Empty (a
	// conversation stored before languages) is Chinese.
	Lang Lang `json:"lang,omitempty"`
}

// frontBoost is subtracted from the queue score of a chat at the front of its queue:
// 2^40 ms, about 35 years, more than any real score spread.
const frontBoost = int64(1) << 40

// QueueKey is a waiting chat's place in its group's queue: queues are ordered by Score,
// then by ID, lowest first. Both engines keep that order.
type QueueKey struct {
	Score int64  `json:"score"`
	ID    string `json:"id"`
}

// Less reports whether k is ahead of o in a queue.
func (k QueueKey) Less(o QueueKey) bool {
	if k.Score != o.Score {
		return k.Score < o.Score
	}
	return k.ID < o.ID
}

// Waiting returns the queue the conversation waits in and its place there; ok is false
// when it is not queued. Engines index queued conversations by it.
func (c Conversation) Waiting() (g Group, k QueueKey, ok bool) {
	if c.Status != StatusQueued {
		return "", QueueKey{}, false
	}
	k = QueueKey{Score: c.Score, ID: c.ID}
	if c.Front {
		k.Score -= frontBoost
	}
	return c.Group, k, true
}

// AwaitingReply reports whether the conversation is with an agent who has not answered
// since it went to people: its first-reply time runs from EnqueuedAt.
func (c Conversation) AwaitingReply() bool {
	return c.Status == StatusActive && c.RepliedAt.IsZero()
}

// Owner returns the agent who owns the conversation; ok is false when nobody does.
// Engines index owned conversations by it; an agent's load is how many they own.
func (c Conversation) Owner() (agent string, ok bool) {
	if c.Status != StatusActive || c.Agent == "" {
		return "", false
	}
	return c.Agent, true
}

// Context is the packet a hand-off carries to the agent: what the bot saw and decided.
type Context struct {
	Reason     triage.Reason `json:"reason"`
	Intent     triage.Intent `json:"intent"`
	Confidence float64       `json:"confidence"`
	Question   string        `json:"question,omitempty"`
	Hits       []Candidate   `json:"hits"`
}

// Candidate is one of the bot's ranked articles.
type Candidate struct {
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Category string  `json:"category"`
	Score    float64 `json:"score"`
}

// Message is one record of a conversation's log.
type Message struct {
	Seq  int64 `json:"seq"`
	Kind Kind  `json:"kind"`
	From From  `json:"from,omitempty"`
	// ID is the record's idempotency key: the client's message id for a shopper's
	// message, a key the desk makes otherwise. A record whose ID is in the log already is
	// not stored again.
	ID          string              `json:"id,omitempty"`
	Text        string              `json:"text,omitempty"`
	Agent       string              `json:"agent,omitempty"`
	Article     *triage.ArticleRef  `json:"article,omitempty"`
	Suggestions []triage.ArticleRef `json:"suggestions,omitempty"`
	// SmallTalk marks the bot's reply to small talk with its intent (greeting, thanks,
	// goodbye, presence, ack): a courtesy, not an answer to rate.
	SmallTalk triage.Intent `json:"smalltalk,omitempty"`
	Reason    triage.Reason `json:"reason,omitempty"`
	Group     Group         `json:"group,omitempty"`
	Status    Status        `json:"status,omitempty"`
	// Ticket is the after-sales ticket of a KindTicket record.
	Ticket *TicketCard `json:"ticket,omitempty"`
	// Attachments are the photos a shopper's or an agent's message carries.
	Attachments []Attachment `json:"attachments,omitempty"`
	// Rating is the rating of a KindRating record, Feedback the feedback of a
	// KindFeedback record (rating.go).
	Rating   *Rating   `json:"rating,omitempty"`
	Feedback *Feedback `json:"feedback,omitempty"`
	// TS is the time it was stored, in Unix milliseconds.
	TS int64 `json:"ts"`
}

// Shopper is who a conversation belongs to. A verified shopper's identity and attributes
// were signed by the shop; anything else is an anonymous visitor with a random id, whose
// attributes are never shown or trusted.
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

// vip is the shopper's VIP level for the chat's priority: a verified shopper's signed
// level, 0 for anyone else.
func (c Conversation) vip() int {
	if c.Shopper == nil || !c.Shopper.Verified {
		return 0
	}
	return c.Shopper.VIP
}
