package handoff

import "time"

// Conversation statuses.
const (
	StatusBot      = "bot"      // the bot answers
	StatusQueued   = "queued"   // waiting for a person
	StatusActive   = "active"   // an agent owns it
	StatusResolved = "resolved" // closed by the agent
)

// ReasonReopened is the reason of the record of a resolved conversation that went back
// to people because the shopper wrote again within DeskConfig.ReopenWindow.
const ReasonReopened = "reopened"

// ReasonLeftMessage is the reason of the record of a queued conversation the shopper
// closed by leaving a message (LeaveMessage).
const ReasonLeftMessage = "left_message"

// Skill groups.
const (
	GroupPresale   = "presale"
	GroupAftersale = "aftersale"
)

// Message kinds, the records of a conversation's log.
const (
	KindMessage = "message" // something someone said
	KindHandoff = "handoff" // the conversation went to the queue
	KindStatus  = "status"  // the conversation's status changed
	KindTicket  = "ticket"  // an after-sales ticket's remedy was proposed or answered
)

// Senders of a message.
const (
	FromShopper = "shopper"
	FromBot     = "bot"
	FromAgent   = "agent"
	FromSystem  = "system"
)

// Conversation is one shopper's chat and its place in the hand-off flow.
type Conversation struct {
	ID string `json:"id"`
	// TokenHash is the SHA-256 of the shopper's secret token, hex.
	TokenHash string `json:"-"`
	// Epoch changes when the conversation's history was lost and restarted.
	Epoch  string `json:"epoch"`
	Status string `json:"status"`
	Group  string `json:"group,omitempty"`
	Agent  string `json:"agent,omitempty"`
	Reason string `json:"reason,omitempty"`
	Intent string `json:"intent,omitempty"`
	// VIP is the shopper's VIP level, 0 for none; it raises the chat's priority.
	VIP int `json:"vip,omitempty"`
	// Seq is the last sequence number stored in the conversation's log.
	Seq       int64     `json:"seq"`
	CreatedAt time.Time `json:"created_at"`
	// EnqueuedAt is when the chat started waiting; a transfer to another group keeps it.
	EnqueuedAt time.Time `json:"enqueued_at,omitzero"`
	ClaimedAt  time.Time `json:"claimed_at,omitzero"`
	// ClosedAt is when the conversation was last resolved.
	ClosedAt time.Time `json:"closed_at,omitzero"`
	Context  *Context  `json:"context,omitempty"`
	// Shopper is who the conversation belongs to, set when it starts; nil for
	// conversations started before shopper identities.
	Shopper *Shopper `json:"shopper,omitempty"`
}

// Context is the packet a hand-off carries to the agent: what the bot saw and decided.
type Context struct {
	Reason     string      `json:"reason"`
	Intent     string      `json:"intent"`
	Confidence float64     `json:"confidence"`
	Question   string      `json:"question,omitempty"`
	Hits       []Candidate `json:"hits"`
}

// Candidate is one of the bot's ranked articles.
type Candidate struct {
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Category string  `json:"category"`
	Score    float64 `json:"score"`
}

// ArticleRef names the knowledge article a bot message comes from.
type ArticleRef struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Category string `json:"category"`
}

// Message is one record of a conversation's log.
type Message struct {
	Seq  int64  `json:"seq"`
	Kind string `json:"kind"`
	From string `json:"from,omitempty"`
	// ID is the record's idempotency key: the client's message id for a shopper's
	// message, a server-made key otherwise. Appending the same ID twice stores it once.
	ID          string       `json:"id,omitempty"`
	Text        string       `json:"text,omitempty"`
	Agent       string       `json:"agent,omitempty"`
	Article     *ArticleRef  `json:"article,omitempty"`
	Suggestions []ArticleRef `json:"suggestions,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Group       string       `json:"group,omitempty"`
	Status      string       `json:"status,omitempty"`
	// Ticket is the after-sales ticket of a KindTicket record.
	Ticket *TicketCard `json:"ticket,omitempty"`
	// TS is the time it was stored, in Unix milliseconds.
	TS int64 `json:"ts"`
}

// Transition is a change of a conversation's status, applied with the append of a log
// record in one atomic step.
type Transition struct {
	// From lists the statuses the change is allowed from.
	From []string
	// To is the new status; empty keeps the status (a guarded append).
	To string
	// Owner, when set, requires that this agent owns the conversation.
	Owner string
	// Agent is the new owner, for To == StatusActive.
	Agent   string
	Group   string
	Reason  string
	Intent  string
	Context *Context
	// Since is the new EnqueuedAt, for To == StatusQueued (zero means now) and for
	// To == StatusActive (zero keeps it).
	Since time.Time
	// VIP is the new VIP level, for To == StatusQueued.
	VIP int
}
