package handoff

import (
	"context"
	"time"
)

// Store keeps conversations, their logs and the queue index, and carries wake-up events
// between nodes. MemoryStore and RedisStore implement it.
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

	// Waiting returns the conversations waiting in every group's queue, in queue order
	// (Route.Score, lowest first, the front first).
	Waiting(ctx context.Context) ([]Conversation, error)
	// Owned returns the active conversations the agent owns.
	Owned(ctx context.Context, agent string) ([]Conversation, error)
	// Load returns how many conversations the agent owns in routing.
	Load(ctx context.Context, agent string) (int, error)

	// RouteState returns the conversation's routing state; an unknown conversation has
	// none (nil Route, Rev 0).
	RouteState(ctx context.Context, conv string) (RouteState, error)
	// Reroute applies ch atomically and records it as pending: it fails with
	// errConflict when the state is no longer ch.Rev and ch.Prev, errBusy when another
	// change is pending, and ErrAtCapacity when a new owner already owns ch.Cap
	// conversations. A conversation leaves its queue here but joins one (Op.Enter) only
	// at FinishRoute, once its own record says it is queued.
	Reroute(ctx context.Context, ch RouteChange) (RouteOp, error)
	// Assign gives the first conversation of group's queue to the least loaded of the
	// candidates that are online in group, have a heartbeat at or after cutoff and own
	// fewer conversations than their Cap (ties go to the first in the list), atomically.
	// ok is false when there is no conversation or no such agent.
	Assign(ctx context.Context, group string, candidates []string, cutoff, at time.Time) (op RouteOp, ok bool, err error)
	// FinishRoute ends the pending change op: the conversation joins its queue if
	// op.Enter. UndoRoute reverts it instead. Both do nothing unless op is pending.
	FinishRoute(ctx context.Context, op RouteOp) error
	UndoRoute(ctx context.Context, op RouteOp) error
	// PendingRoutes returns the pending changes made before before.
	PendingRoutes(ctx context.Context, before time.Time) ([]RouteOp, error)

	// Heartbeat records an agent's presence. An offline agent is expired at once.
	Heartbeat(ctx context.Context, p Presence) error
	// Presences returns every agent's last presence, by name.
	Presences(ctx context.Context) ([]Presence, error)
	// Expired returns the agents whose last heartbeat was before cutoff, or who said
	// they went offline, and who may still own conversations.
	Expired(ctx context.Context, cutoff time.Time) ([]string, error)
	// Expire takes back the conversations of an agent whose last heartbeat was before
	// cutoff, or who said they went offline, as pending requeue changes to the front
	// of their queues, and marks the agent offline. It does nothing for an agent who
	// has sent a heartbeat since. Conversations with another pending change stay with
	// the agent until a later Expire.
	Expire(ctx context.Context, agent string, cutoff, at time.Time) ([]RouteOp, error)

	// LegacyWaiting returns the conversations of the waiting index of Kefu before
	// routing state (Redis: the sorted set P{q}:waiting); ForgetLegacy removes one.
	LegacyWaiting(ctx context.Context) ([]string, error)
	ForgetLegacy(ctx context.Context, id string) error

	// RecordWait remembers how long a claimed conversation waited; RecentWaits returns
	// the most recent ones, newest first.
	RecordWait(ctx context.Context, d time.Duration) error
	RecentWaits(ctx context.Context) ([]time.Duration, error)

	// AddShopperConversation puts conv first in the verified shopper's index of
	// conversations (newest first, at most maxShopperHistory, each once);
	// ShopperConversations returns the index.
	AddShopperConversation(ctx context.Context, shopper, conv string) error
	ShopperConversations(ctx context.Context, shopper string) ([]string, error)
	// AddDecision keeps a bot decision of the conversation (at most maxDecisions, the
	// newest; a decision whose Key is kept already is not added again); Decisions
	// returns them, oldest first.
	AddDecision(ctx context.Context, conv string, d Decision) error
	Decisions(ctx context.Context, conv string) ([]Decision, error)
	// AddNote keeps an agents-only note of the conversation, apart from its log: it
	// returns ErrNotFound for an unknown conversation and ErrNoteLimit when maxNotes are
	// kept; a note whose ID is kept already is returned with dup true and not added
	// again. Notes returns them, oldest first.
	AddNote(ctx context.Context, conv string, n Note) (stored Note, dup bool, err error)
	Notes(ctx context.Context, conv string) ([]Note, error)

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

// maxRecentWaits is how many recent waiting times the stores keep for the wait estimate.
const maxRecentWaits = 50
