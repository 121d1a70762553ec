package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The desk decides; an engine stores. The interfaces below are what the desk needs of a
// storage engine: handoff/boltstore (embedded, the default) and handoff/redisstore
// (several nodes) implement all of them, and both pass the contract suite of
// handoff/enginetest. No rule of the desk is written in an engine: an engine checks
// only what a change says to compare (a revision, a load) and keeps its indexes (the
// queues and each agent's chats) from the records it stores (Conversation.Waiting,
// Conversation.Owner).

// Engine is a storage engine as the desk uses it: one value of handoff/boltstore or
// handoff/redisstore serves every part (its Engine method).
type Engine struct {
	Conversations Conversations
	Roster        Roster
	Annals        Annals
	Bus           Bus
	Tickets       TicketStore
	// Documents keeps the desk's settings edited by admins (the phrasebook); nil
	// leaves them at their defaults, not editable.
	Documents Documents
	// Stats reads the reports' counters the engine keeps from the tallies of changes;
	// nil leaves the desk without reports (Desk.Report fails with ErrNoStats).
	Stats Stats
	// Purger deletes conversations for the retention sweep and a shopper's erasure;
	// nil turns both off.
	Purger Purger
}

// Purger lists and deletes whole conversations (docs/domain.md rules 28–29).
type Purger interface {
	// ConversationIDs returns the id of every stored conversation, in no order.
	ConversationIDs(ctx context.Context) ([]string, error)
	// Purge deletes everything the engine keeps of conversation id: its record, its
	// log and record ids, its decisions and notes, its place in a queue, its agent's
	// ownership and its place in its shopper's list. Tickets are not the engine's to
	// purge here. An unknown id is no error.
	Purge(ctx context.Context, id string) error
	// RedactTicket replaces the stored ticket t.ID, history included, with t, which the
	// desk stripped of a shopper's personal data, and drops it from the index of
	// conversation conv. ErrNotFound for an unknown ticket.
	RedactTicket(ctx context.Context, t Ticket, conv string) error
}

// Documents keeps named JSON documents, each with a revision for compare-and-set:
// settings that every node reads, such as the phrasebook.
type Documents interface {
	// Document returns the named document and its revision; nil and 0 when it was
	// never stored.
	Document(ctx context.Context, name string) (doc []byte, rev int64, err error)
	// PutDocument stores the named document if its stored revision is still rev (0:
	// never stored) and returns the new revision, rev+1; ErrConflict otherwise.
	PutDocument(ctx context.Context, name string, doc []byte, rev int64) (int64, error)
}

// ErrConflict is returned by Conversations.Commit when the record or the load a change
// was decided on moved since it was read. The desk reads again and decides again.
var ErrConflict = errors.New("conversation changed since it was read")

// Conversations keeps conversations, their logs, the queues and who owns what.
type Conversations interface {
	// Create stores a new conversation at revision 1; for an ID that is stored already
	// it stores nothing and returns ErrExists.
	Create(ctx context.Context, c Conversation) error
	// Conversation returns the conversation or ErrNotFound.
	Conversation(ctx context.Context, id string) (Conversation, error)
	// Messages returns up to limit (0: all) records with Seq > after, in order, or
	// ErrNotFound for an unknown conversation.
	Messages(ctx context.Context, id string, after int64, limit int) ([]Message, error)
	// Commit makes ch, atomically, and announces it to every node's subscribers
	// (EventConversation, and EventQueue for each queue it changed).
	Commit(ctx context.Context, ch Change) (Committed, error)
	// Queue returns up to limit (0: all) conversations waiting in group's queue, in
	// queue order (QueueKey), the front first.
	Queue(ctx context.Context, group Group, limit int) ([]Conversation, error)
	// Place returns the conversation's position in group's queue (1 is next) and the
	// queue's version, read together; position 0 means it does not wait there (or does
	// not exist).
	Place(ctx context.Context, group Group, id string) (pos int, ver int64, err error)
	// Owned returns the conversations agent owns, oldest claim first.
	Owned(ctx context.Context, agent string) ([]Conversation, error)
	// Loads returns how many conversations each of agents owns.
	Loads(ctx context.Context, agents ...string) ([]int, error)
}

// Change is one atomic step of a conversation, decided by the desk.
type Change struct {
	Conv string
	// Rev is the record's revision the change was decided on; if the stored one
	// differs, Commit fails with ErrConflict. 0 skips the check (an append that fits
	// any state, such as a shopper's message).
	Rev int64
	// Prev is the record as read and Next the record after the change; nil Next keeps
	// the record (an append). Engines move their queue and owner indexes from Prev to
	// Next.
	Prev, Next *Conversation
	// Append are the records added to the log, in order; the engine gives them their Seq
	// and TS. The first one's ID is the change's idempotency key: when a record with that
	// ID is in the log already, the change was made before, and Commit changes nothing
	// and returns the stored records with Committed.Dup set. A later record whose ID is
	// stored is left out.
	Append []Message
	// Owner, when set, is an agent whose load the change was decided on (a claim, an
	// assignment or a transfer below their limit): if they own more or fewer
	// conversations than Load now, Commit fails with ErrConflict.
	Owner string
	Load  int
	// Waited, when positive, is how long the conversation waited before an agent took
	// it: the engine keeps it, with the change, among the latest KeepWaits waits
	// (Roster.Waits), so that the wait estimate moves with the queue.
	Waited    time.Duration
	KeepWaits int
	// Tallies are added to the reports' counters (Stats) when the change is made, and
	// only then: never for a change made before (Committed.Dup), a refused one, or
	// twice by two nodes.
	Tallies []Tally
}

// Committed is what a Change stored.
type Committed struct {
	// Conversation is the record after the change.
	Conversation Conversation
	// Messages are the change's records as stored, one per Change.Append, with their
	// Seq: a record whose ID was stored before is the stored one.
	Messages []Message
	// Dup says that the change was made before (see Change.Append).
	Dup bool
}

// Presence is what an agent's last heartbeat said.
type Presence struct {
	Agent  string    `json:"agent"`
	Group  Group     `json:"group"`
	Status string    `json:"status"`
	Cap    int       `json:"max_chats"`
	Seen   time.Time `json:"seen"`
	// Paused says the agent turned 接待 off (account.User.IsServing): online, they keep
	// their chats and may claim, but are given none by automatic assignment.
	Paused bool `json:"paused,omitempty"`
}

// Presence statuses of an agent.
const (
	PresenceOnline  = "online"  // takes new chats
	PresenceAway    = "away"    // keeps their chats, takes no new ones
	PresenceOffline = "offline" // gone: their chats went back to the queue
)

// Roster keeps the agents' presence and reads the recent waits of claimed chats.
type Roster interface {
	// SetPresence stores an agent's presence, replacing the last one; with old set,
	// only if the stored presence is still *old (ok false otherwise).
	SetPresence(ctx context.Context, p Presence, old *Presence) (ok bool, err error)
	// Presences returns every agent's last presence, sorted by name.
	Presences(ctx context.Context) ([]Presence, error)
	// Waits returns the waits kept by changes (Change.Waited), newest first.
	Waits(ctx context.Context) ([]time.Duration, error)
}

// Annals keeps what agents read beside a conversation: the bot's decisions, the
// agents' notes, and each verified shopper's conversations.
type Annals interface {
	// AddDecision keeps d for conv unless a decision with its Key is kept, and keeps the
	// latest keep; Decisions returns them, oldest first.
	AddDecision(ctx context.Context, conv string, d Decision, keep int) error
	Decisions(ctx context.Context, conv string) ([]Decision, error)
	// AddNote keeps n for conv: a note whose ID is kept is returned with dup true and
	// not added again; with max notes kept it fails with ErrNoteLimit, and for an
	// unknown conversation with ErrNotFound. Notes returns them, oldest first.
	AddNote(ctx context.Context, conv string, n Note, max int) (stored Note, dup bool, err error)
	Notes(ctx context.Context, conv string) ([]Note, error)
	// AddShopperConversation puts conv first in shopper's list (each once, the latest
	// keep); ShopperConversations returns the list, newest first.
	AddShopperConversation(ctx context.Context, shopper, conv string, keep int) error
	ShopperConversations(ctx context.Context, shopper string) ([]string, error)
}

// Bus carries events to the subscribers of every node.
type Bus interface {
	// Publish sends e to every node, this one included. Commits announce themselves;
	// Publish is for the rest (presence, notes, tickets).
	Publish(ctx context.Context, e Event) error
	// Listen hands every event of every node to deliver, in the order each node sent
	// them, until ctx ends. Whenever events may have been lost (a reconnection), it
	// hands an EventResync first.
	Listen(ctx context.Context, deliver func(Event)) error
	// Ping reports whether the storage answers.
	Ping(ctx context.Context) error
}

// record is how engines store a Conversation: every field, the secret ones too.
type record struct {
	Conversation
	TokenHash string `json:"token_hash,omitempty"`
	Score     int64  `json:"score,omitempty"`
	Front     bool   `json:"front,omitempty"`
	Key       string `json:"key,omitempty"`
	Marks     Marks  `json:"marks,omitempty"`
}

// EncodeRecord returns c as engines store it.
func EncodeRecord(c Conversation) ([]byte, error) {
	b, err := json.Marshal(record{Conversation: c, TokenHash: c.TokenHash, Score: c.Score, Front: c.Front, Key: c.Key, Marks: c.Marks})
	if err != nil {
		return nil, fmt.Errorf("encoding conversation %q: %w", c.ID, err)
	}
	return b, nil
}

// DecodeRecord reads a record stored by EncodeRecord.
func DecodeRecord(b []byte) (Conversation, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return Conversation{}, fmt.Errorf("decoding a conversation: %w", err)
	}
	c := r.Conversation
	c.TokenHash, c.Score, c.Front, c.Key, c.Marks = r.TokenHash, r.Score, r.Front, r.Key, r.Marks
	return c, nil
}
