package handoff

import (
	"context"
	"time"
)

// Store keeps conversations, their logs, the queue index, users and sessions, and
// carries wake-up events between nodes. MemoryStore and RedisStore implement it.
type Store interface {
	// Create stores a new conversation; its ID must be unique.
	Create(ctx context.Context, c Conversation) error
	// Conversation returns the conversation or ErrNotFound.
	Conversation(ctx context.Context, id string) (Conversation, error)
	// Append stores m at the end of the conversation's log and returns it with its Seq.
	// m.ID must be set: if a record with that ID is already stored, Append returns the
	// stored record and dup true, and stores nothing.
	Append(ctx context.Context, id string, m Message) (stored Message, dup bool, err error)
	// Apply checks and applies t and appends m, atomically. If m.ID is already stored,
	// it returns that record and dup true and changes nothing (a retry of a change that
	// went through). Otherwise a status outside t.From gives ErrAlreadyClaimed (active,
	// another owner), ErrResolved, ErrNotQueued or ErrWrongStatus; a wrong owner
	// ErrNotOwner.
	Apply(ctx context.Context, id string, t Transition, m Message) (stored Message, dup bool, err error)
	// Messages returns up to limit records with Seq > after, in order.
	Messages(ctx context.Context, id string, after int64, limit int) ([]Message, error)

	// MarkWaiting adds the conversation to the waiting index at the given time; it is
	// idempotent. Unwait removes it.
	MarkWaiting(ctx context.Context, id string, at time.Time) error
	Unwait(ctx context.Context, id string) error
	// Waiting returns the queued conversations, longest waiting first. Index entries
	// whose conversation is not queued are skipped, and removed once older than
	// staleAfter.
	Waiting(ctx context.Context) ([]Conversation, error)
	// MarkOwned and Disown keep the index of an agent's conversations; Owned returns the
	// active conversations the agent owns.
	MarkOwned(ctx context.Context, agent, id string) error
	Disown(ctx context.Context, agent, id string) error
	Owned(ctx context.Context, agent string) ([]Conversation, error)
	// RecordWait remembers how long a claimed conversation waited; RecentWaits returns
	// the most recent ones, newest first.
	RecordWait(ctx context.Context, d time.Duration) error
	RecentWaits(ctx context.Context) ([]time.Duration, error)

	// PutUser stores a user; with create true it fails with ErrUserExists when the name
	// is taken.
	PutUser(ctx context.Context, u User, create bool) error
	// User returns the user or ErrNotFound.
	User(ctx context.Context, name string) (User, error)
	Users(ctx context.Context) ([]User, error)
	// PutSession stores a session under the hash of its token until s.Expires.
	PutSession(ctx context.Context, tokenHash string, s Session) error
	// Session returns an unexpired session or ErrNotFound.
	Session(ctx context.Context, tokenHash string) (Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error

	// Publish sends a wake-up event to the subscribers of every node, this one included.
	Publish(ctx context.Context, e Event) error
	// Subscribe returns a subscription to the events of one conversation (and queue
	// events), or of all conversations when conv is empty.
	Subscribe(conv string) *Subscription
	// Run delivers events from other nodes until ctx ends.
	Run(ctx context.Context) error
	// Ping reports whether the storage answers.
	Ping(ctx context.Context) error
	Close() error
}

// staleAfter is how old a waiting-index entry of a conversation that is not queued
// must be before a reader removes it. Younger ones may belong to a hand-off between its
// index write and its status change.
const staleAfter = time.Minute

// maxRecentWaits is how many recent waiting times the stores keep for the wait estimate.
const maxRecentWaits = 50
